"""A ledger that cannot be trusted stops the gateway with a clear error, never a traceback loop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.waiting import wait_for_final

pytestmark = pytest.mark.service

CSV = "adjustment_id,sku,mode,quantity_change\n{id},SKU-1,delta,3\n"


def test_a_corrupt_ledger_refuses_to_start_with_exit_78(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    (root / "gateway.db").write_bytes(b"this is no SQLite database\n" * 100)
    for args in (["run", "--once"], ["status"]):
        done = run_cli(*args, "--root", root)
        assert done.returncode == 78, (args, done.stderr)
        assert "is not a usable SQLite ledger" in done.stderr and "Traceback" not in done.stderr


def test_a_ledger_deleted_while_running_stops_the_service(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text('[[source]]\nname = "inbound"\nsettle_seconds = 0.1\npoll_seconds = 0.2\n')
    log = tmp_path / "service.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(config), "run", "--root", str(root)],
            stdout=out, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )  # fmt: skip
    try:
        (root / "inbound" / "first.csv").write_text(CSV.format(id="A1"))
        wait_for_final(root / "gateway.db", ["first.csv"])
        for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm"):
            (root / name).unlink(missing_ok=True)
        assert proc.wait(timeout=120) == 78
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    text = log.read_text()
    assert "was deleted or replaced while the service ran" in text and "Traceback" not in text
