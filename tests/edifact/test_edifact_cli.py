"""End to end through the real CLI: `gateway validate` and `gateway run --once`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "inbound" / "edifact"

CONFIG = """
[[source]]
name = "wms"
path = "inbound"
side = "wms"
settle_seconds = 0.05
poll_seconds = 0.1

[[target]]
name = "erp-edi"
format = "edifact"
sender = "4012345000009"
receiver = "5412345000013"

[[route]]
doc_type = "shipment"
from = ["wms"]
to = ["erp-edi", "canonical"]
"""


def test_validate_cli(tmp_path: Path, corpus: Path) -> None:
    ok = run_cli("validate", "--root", tmp_path, SAMPLES / "desadv_d96a.edi")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run_cli("validate", "--root", tmp_path, "--json", corpus / "edifact" / "pydifact__order.edi")
    assert bad.returncode == 1
    (report,) = json.loads(bad.stdout)
    assert report["errors"][0]["code"] == "missing_unz"


def test_run_once_accepts_quarantines_and_numbers_interchanges(root: Path, corpus: Path) -> None:
    config = root / "gateway.toml"
    config.write_text(CONFIG)
    shutil.copy(SAMPLES / "desadv_d96a.edi", root / "inbound" / "desadv.edi")
    shutil.copy(corpus / "edifact" / "pydifact__order.edi", root / "inbound" / "order.edi")
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    (edi,) = (root / "outbound" / "erp-edi").glob("*.edi")
    text = edi.read_text(encoding="latin-1")
    assert "UNH+1+DESADV:D:96A:UN:EAN008'" in text and "GIN+BJ+354123450000000014'" in text
    (quarantined,) = (root / "quarantine").iterdir()
    error = json.loads((quarantined / "error.json").read_text())
    # The order was mapped before the end of the file showed the missing UNZ; both are reported.
    assert error["format"] == "edifact"
    assert {e["code"] for e in error["errors"]} == {"domain_violation", "missing_unz"}
    assert "segment 2 (UNB)" in (quarantined / "error.txt").read_text()
    # Same content under another name with a new UNB reference: the sequence moves on.
    second = (SAMPLES / "desadv_d96a.edi").read_text().replace("DESADV1", "DESADV2")
    (root / "inbound" / "desadv2.edi").write_text(second)
    (root / "inbound" / "desadv-again.edi").write_text(second.replace("DES-587441", "DES-X"))
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    unb = re.compile(r"UNB\+(?:[^+]*\+){4}([^'+]*)")
    refs = sorted(
        unb.findall(p.read_text(encoding="latin-1"))[0] for p in (root / "outbound" / "erp-edi").glob("*.edi")
    )
    assert refs == ["1", "2"]  # the repeated UNB reference is a duplicate, not published again
