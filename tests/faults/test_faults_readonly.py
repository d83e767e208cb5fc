"""Folders the service may not write: `chattr +i` on a real ext4 (loop-mounted image), which
stops root as well, on an outbound folder and on the archive. The file waits, `status` says
why, and once the flag is gone it flows exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.faults.conftest import immutable
from tests.waiting import file_states

pytestmark = pytest.mark.service

HEADER = "adjustment_id,sku,mode,quantity_change\n"


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


def drain(config: Path, root: Path) -> str:
    result = run_cli("--config", config, "run", "--once", "--root", root)
    assert result.returncode == 0, result.stderr
    return result.stdout


def status(config: Path, root: Path) -> str:
    result = run_cli("--config", config, "status", "--root", root)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_an_immutable_outbound_folder_postpones_then_flows(tmp_path: Path, ext4: Path) -> None:
    root, outbound = tmp_path / "root", ext4 / "erp"
    outbound.mkdir()
    config = setup(tmp_path, root, outbound)
    immutable(outbound)
    log = drain(config, root)
    assert '"file_postponed"' in log and "Operation not permitted" in log
    shown = status(config, root)
    assert "2 processing" in shown and shown.count("waiting:") == 2
    assert "quarantine: 0 file(s)" in shown

    immutable(outbound, on=False)
    drain(config, root)
    assert sorted(file_states(root / "gateway.db").values()) == ["accepted", "accepted"]
    assert sorted(p.name.split(".")[0] for p in outbound.iterdir()) == ["r0", "r1"]
    assert "waiting:" not in status(config, root)


def test_an_immutable_archive_postpones_then_flows_once(tmp_path: Path, ext4: Path) -> None:
    root = ext4 / "root"
    config = setup(tmp_path, root, tmp_path / "out")
    (root / "archive").mkdir()
    immutable(root / "archive")
    log = drain(config, root)
    assert '"file_postponed"' in log and "cannot archive" in log and '"file_failed"' not in log
    shown = status(config, root)
    assert "2 publishing" in shown and shown.count("waiting:") == 2 and "cannot archive" in shown
    assert "quarantine: 0 file(s)" in shown

    immutable(root / "archive", on=False)
    drain(config, root)
    assert sorted(file_states(root / "gateway.db").values()) == ["accepted", "accepted"]
    assert sorted(p.name.split(".")[0] for p in (tmp_path / "out").iterdir()) == ["r0", "r1"]
    assert sorted(p.name.split(".", 1)[1] for p in (root / "archive").rglob("*.csv")) == ["r0.csv", "r1.csv"]
    assert not list((root / "work").iterdir())
