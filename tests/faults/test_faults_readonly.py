"""Folders the service may not write, by two real mechanisms: `chattr +i` on a loop-mounted ext4
(it stops root as well), and `chmod a-w` with the service run as a service account would be,
without the capabilities that let root write anywhere. On an outbound folder and on the
archive: the file waits, `status` says why, and once the folder is writable it flows exactly
once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli, unavailable
from tests.faults.mechanisms import immutable
from tests.waiting import file_states

pytestmark = pytest.mark.service

HEADER = "adjustment_id,sku,mode,quantity_change\n"


@dataclass
class Lock:
    """Where the test's folders live, how to make one unwritable, and how the service runs."""

    base: Path
    set: Callable[[Path, bool], None]
    prefix: list[str]
    refusal: str


def _chmod(path: Path, on: bool) -> None:
    path.chmod(0o555 if on else 0o755)


@pytest.fixture(name="lock", params=["chattr", "chmod"])
def _lock(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lock]:
    if request.param == "chattr":
        yield Lock(request.getfixturevalue("ext4"), immutable, [], "Operation not permitted")
        return
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        unavailable("dropping root's capabilities needs root and setpriv (util-linux)")
    drop = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
    yield Lock(tmp_path / "disk", _chmod, drop, "Permission denied")


def setup(tmp_path: Path, root: Path, deliver: Path) -> Path:
    (root / "inbound").mkdir(parents=True)
    for name in ("r0", "r1"):
        (root / "inbound" / f"{name}.csv").write_text(HEADER + f"{name},SKU-1,delta,1\n")
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[[source]]\nname = "inbound"\nsettle_seconds = 0.05\n'
        f'[[target]]\nname = "erp"\nformat = "jsonl"\ndeliver = "local:{deliver}"\n'
        '[[route]]\ndoc_type = "inventory_adjustment"\nfrom = ["inbound"]\nto = ["erp"]\n'
    )
    return config


def drain(lock: Lock, config: Path, root: Path) -> str:
    result = subprocess.run(
        [*lock.prefix, sys.executable, "-m", "gateway", "--config", str(config), "run", "--once",
         "--root", str(root)],
        capture_output=True, text=True, timeout=240, cwd=REPO, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def status(config: Path, root: Path) -> str:
    result = run_cli("--config", config, "status", "--root", root)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_unwritable_outbound_folder_postpones_then_flows(tmp_path: Path, lock: Lock) -> None:
    root, outbound = tmp_path / "root", lock.base / "erp"
    outbound.mkdir(parents=True)
    config = setup(tmp_path, root, outbound)
    lock.set(outbound, True)
    log = drain(lock, config, root)
    assert '"file_postponed"' in log and lock.refusal in log and '"file_failed"' not in log
    shown = status(config, root)
    assert "2 processing" in shown and shown.count("waiting:") == 2
    assert "quarantine: 0 file(s)" in shown

    lock.set(outbound, False)
    drain(lock, config, root)
    assert sorted(file_states(root / "gateway.db").values()) == ["accepted", "accepted"]
    assert sorted(p.name.split(".")[0] for p in outbound.iterdir()) == ["r0", "r1"]
    assert "waiting:" not in status(config, root)


def test_an_unwritable_archive_postpones_then_flows_once(tmp_path: Path, lock: Lock) -> None:
    root = lock.base / "root"
    config = setup(tmp_path, root, tmp_path / "out")
    (root / "archive").mkdir()
    lock.set(root / "archive", True)
    log = drain(lock, config, root)
    assert '"file_postponed"' in log and "cannot archive" in log and '"file_failed"' not in log
    shown = status(config, root)
    assert "2 publishing" in shown and shown.count("waiting:") == 2 and "cannot archive" in shown
    assert "quarantine: 0 file(s)" in shown

    lock.set(root / "archive", False)
    drain(lock, config, root)
    assert sorted(file_states(root / "gateway.db").values()) == ["accepted", "accepted"]
    assert sorted(p.name.split(".")[0] for p in (tmp_path / "out").iterdir()) == ["r0", "r1"]
    assert sorted(p.name.split(".", 1)[1] for p in (root / "archive").rglob("*.csv")) == ["r0.csv", "r1.csv"]
    assert not list((root / "work").iterdir())
