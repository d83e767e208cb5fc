"""The SQLite ledger: claims, states, outputs, keys, sequences, search."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.ledger.sqlite import OutputRow, SqliteLedger


@pytest.fixture(name="ledger")
def _ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "gateway.db")


class TestLedger:
    def test_wal_and_durable_sync(self, ledger: SqliteLedger) -> None:
        assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ledger.db.execute("PRAGMA synchronous").fetchone()[0] == 2

    def test_claim_records_before_anything_moves(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        row = ledger.claim("inbound", "a.csv", "/in/a.csv", 10, 5, tmp_path / "work")
        assert row.state == "claimed"
        assert row.work_path == str(tmp_path / "work" / f"{row.file_id}.a.csv")
        assert ledger.unfinished() == [row]
        assert ledger.events(row.file_id)[0][1] == "file_claimed"

    def test_file_ids_are_unique_and_sortable(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        ids = [ledger.claim("s", "n", "p", 1, 1, tmp_path).file_id for _ in range(200)]
        assert len(set(ids)) == 200

    def test_states_and_duplicates_by_sha(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        a = ledger.claim("s", "a", "p", 1, 1, tmp_path)
        b = ledger.claim("s", "b", "p", 1, 1, tmp_path)
        ledger.update(a.file_id, state="accepted", sha256="abc")
        ledger.update(b.file_id, state="processing", sha256="abc")
        assert ledger.accepted_with_sha("abc", exclude=b.file_id) == a.file_id
        assert ledger.accepted_with_sha("abc", exclude=a.file_id) is None

    def test_business_keys(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        a = ledger.claim("s", "a", "p", 1, 1, tmp_path)
        ledger.add_keys(a.file_id, [("unb", "SENDER:42"), ("unb", "SENDER:42")])
        assert ledger.keys(a.file_id) == [("unb", "SENDER:42")]
        assert ledger.accepted_with_key("unb", "SENDER:42", "x") is None
        ledger.update(a.file_id, state="accepted")
        assert ledger.accepted_with_key("unb", "SENDER:42", "x") == a.file_id
        assert [r.file_id for r in ledger.find("SENDER:42")] == [a.file_id]

    def test_outputs_intent_then_published(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        a = ledger.claim("s", "a", "p", 1, 1, tmp_path)
        ledger.record_output(OutputRow(a.file_id, "canonical", "a.jsonl", "/o/a.jsonl.tmp", "staging", 0, ""))
        ledger.intend(
            a.file_id, [OutputRow(a.file_id, "canonical", "a.jsonl", "/o/a.jsonl.tmp", "intent", 3, "")]
        )
        assert ledger.get(a.file_id).state == "publishing"  # type: ignore[union-attr]
        ledger.accept(a.file_id, ["a.jsonl"], records=3)
        (output,) = ledger.outputs(a.file_id)
        assert (output.state, output.records) == ("published", 3)
        assert ledger.get(a.file_id).state == "accepted"  # type: ignore[union-attr]

    def test_sequences_are_per_name_and_persistent(self, tmp_path: Path) -> None:
        ledger = SqliteLedger(tmp_path / "g.db")
        assert [ledger.next_sequence("p1") for _ in range(3)] == [1, 2, 3]
        assert ledger.next_sequence("p2") == 1
        ledger.close()
        assert SqliteLedger(tmp_path / "g.db").next_sequence("p1") == 4

    def test_a_failed_transaction_leaves_nothing(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        with pytest.raises(sqlite3.IntegrityError), ledger.transaction() as db:
            db.execute("INSERT INTO sequences VALUES ('x', 1)")
            db.execute("INSERT INTO sequences VALUES ('x', 1)")
        assert ledger.db.execute("SELECT COUNT(*) FROM sequences").fetchone()[0] == 0
