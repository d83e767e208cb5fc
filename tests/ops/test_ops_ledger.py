"""The operations tables arrive by a migration step: a ledger of the schema before them is
upgraded in place, keeps its files, and counts them in the metrics from then on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.ledger.schema import VERSION
from gateway.ledger.sqlite import SqliteLedger

OPS_TABLES = ("heartbeat", "interchanges", "incidents", "alert_notices", "tallies")


def test_a_ledger_without_the_operations_tables_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    ledger = SqliteLedger(path)
    ledger.claim("inbound", "a.csv", "inbound/a.csv", 3, 1, tmp_path)
    ledger.close()
    # Make it the ledger an older gateway wrote: version 1, no operations tables.
    old = sqlite3.connect(path)
    for table in OPS_TABLES:
        old.execute(f"DROP TABLE {table}")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()

    ledger = SqliteLedger(path)
    try:
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        names = {r[0] for r in ledger.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert set(OPS_TABLES) <= names
        assert [r.original_name for r in ledger.files()] == ["a.csv"]
        ledger.beat("9.9", starting=True)
        beat = ledger.heartbeat()
        assert beat is not None and beat["version"] == "9.9" and beat["stopped_at"] is None
        assert ledger.tallies()[("files", ("inbound", "unknown", "claimed"))] == 1
    finally:
        ledger.close()
