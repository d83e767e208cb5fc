"""Per-target outcomes under SIGKILL: three targets, two of them naming their outputs alike, one
refusing some files; after a restart each (file, target) pair has exactly one outcome."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.ledger.sqlite import SqliteLedger
from gateway.ledger.states import DeliveryState, FileState, OutputState
from tests.conftest import REPO, run_cli
from tests.waiting import wait_until

pytestmark = pytest.mark.service

CONFIG = """
[[source]]
name = "inbound"
settle_seconds = 0.3
poll_seconds = 1

[[target]]
name = "copy"
format = "jsonl"

[[target]]
name = "sage"
format = "sage100.inventory_adjustment"

[[route]]
doc_type = "*"
from = ["*"]
to = ["canonical", "copy", "sage"]
"""
TARGETS = ("canonical", "copy", "sage")


def adjustment(name: str, warehouse: str, rows: int) -> str:
    body = "".join(f"{name},2026-11-26,{warehouse},SKU-{i},delta,{i + 1}\n" for i in range(rows))
    return "adjustment_id,adjusted_at,warehouse,sku,mode,quantity_change\n" + body


def published(state: Path, target: str) -> list[Path]:
    folder = state / "outbound" / target
    return sorted(folder.iterdir()) if folder.exists() else []


def test_sigkill_then_restart_gives_one_outcome_per_file_and_target(tmp_path: Path) -> None:
    state = tmp_path / "root"
    (state / "inbound").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG, encoding="utf-8")
    names = [f"f{i:03}.csv" for i in range(30)]
    refused = {n for i, n in enumerate(names) if i % 4 == 0}  # a warehouse code Sage cannot hold
    for name in names:
        warehouse = "WAREHOUSE-9" if name in refused else "000"
        (state / "inbound" / name).write_text(adjustment(name[:4], warehouse, rows=2000), encoding="utf-8")
    with (tmp_path / "service.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(config), "run", "--root", str(state)],
            stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )  # fmt: skip
        try:
            wait_until(lambda: len(published(state, "copy")) >= 4, timeout=60, what="some outputs")
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
    result = run_cli("--config", config, "run", "--once", "--root", state)
    assert result.returncode == 0, result.stderr

    ledger = SqliteLedger(state / "gateway.db")
    rows = {row.original_name: row for row in ledger.files()}
    assert sorted(rows) == names
    assert {row.state for row in rows.values()} == {FileState.ACCEPTED}
    for name, row in rows.items():
        shares = {d.target: d.state for d in ledger.deliveries(file_id=row.file_id)}
        sage = DeliveryState.REFUSED if name in refused else DeliveryState.PUBLISHED
        assert shares == {"canonical": DeliveryState.PUBLISHED, "copy": DeliveryState.PUBLISHED, "sage": sage}
        assert {o.state for o in ledger.outputs(row.file_id)} == {OutputState.PUBLISHED}
    ledger.close()
    for target in TARGETS:
        files = published(state, target)
        assert not [p for p in files if p.name.endswith(".tmp")]
        expected = len(names) - len(refused) if target == "sage" else len(names)
        assert len(files) == expected, target
    # canonical and copy give each file's output the same name, in their own folders.
    assert [p.name for p in published(state, "canonical")] == [p.name for p in published(state, "copy")]
    cases = sorted(p.parent.parent.name for p in (state / "quarantine").glob("*/sage/error.json"))
    assert cases == sorted(rows[n].file_id for n in refused)
    assert not list((state / "work").iterdir())
