"""A file the service may not read stays where it is, with the reason in the log and in status.

The service runs as a real process without the capabilities that let root read anything
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), as a service account would, so a mode 000 file is
really unreadable to it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.service

CSV = "adjustment_id,sku,mode,quantity_change\nADJ-1,SKU-1,delta,3\n"


def gateway_without_dac(*args: str | Path) -> subprocess.CompletedProcess[str]:
    setpriv = shutil.which("setpriv")
    assert setpriv is not None, "setpriv (util-linux) is needed to drop capabilities"
    drop = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
    return subprocess.run(
        [*drop, sys.executable, "-m", "gateway", *map(str, args)],
        capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
    )  # fmt: skip


def test_an_unreadable_file_is_left_in_place_and_reported(tmp_path: Path) -> None:
    root = tmp_path / "root"
    inbound = root / "inbound"
    inbound.mkdir(parents=True)
    (inbound / "ok.csv").write_text(CSV)
    secret = inbound / "secret.csv"
    secret.write_text(CSV.replace("ADJ-1", "ADJ-2"))
    secret.chmod(0)
    done = gateway_without_dac("run", "--once", "--root", root)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    refused = [e for e in events if e["event"] == "name_refused"]
    assert [(e["name"], "not readable" in e["reason"]) for e in refused] == [("secret.csv", True)]
    assert "drain_timeout" not in [e["event"] for e in events]  # nothing was waited for in vain
    assert secret.exists() and not list((root / "work").iterdir())
    assert len(list((root / "outbound" / "canonical").iterdir())) == 1
    status = gateway_without_dac("status", "--root", root)
    assert "'secret.csv' not readable by the service" in status.stdout
    # Once its permissions allow, it flows like any other file.
    secret.chmod(0o644)
    again = gateway_without_dac("run", "--once", "--root", root)
    assert again.returncode == 0, again.stderr
    assert not secret.exists() and len(list((root / "outbound" / "canonical").iterdir())) == 2
