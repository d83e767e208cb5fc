"""The ledger, on SQLite and on PostgreSQL alike: claims, states, outputs, keys, sequences, search."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from gateway.ledger.postgres import PostgresLedger
from gateway.ledger.protocol import Commit, FileRow, Share
from gateway.ledger.schema import VERSION
from gateway.ledger.sqlite import SqliteLedger
from gateway.ledger.states import UNFINISHED, DeliveryState, FileState, IllegalTransition, OutputState


@pytest.fixture(name="reopen")
def _reopen(engine: str, tmp_path: Path) -> Callable[[], SqliteLedger]:
    """Opens the test's ledger (again): a SQLite file, or a PostgreSQL schema."""
    return lambda: PostgresLedger(engine) if engine else SqliteLedger(tmp_path / "gateway.db")


@pytest.fixture(name="ledger")
def _ledger(reopen: Callable[[], SqliteLedger]) -> Iterator[SqliteLedger]:
    ledger = reopen()
    yield ledger
    ledger.close()


#: The ledger's tables as a gateway before per-target deliveries wrote them (user_version 0).
OLD_SCHEMA = """
CREATE TABLE files (file_id TEXT PRIMARY KEY, source TEXT NOT NULL, original_name TEXT NOT NULL,
    source_path TEXT NOT NULL, work_path TEXT, size INTEGER, mtime_ns INTEGER, sha256 TEXT, format TEXT,
    encoding TEXT, state TEXT NOT NULL, stage TEXT, records INTEGER, detail TEXT,
    retry_of TEXT REFERENCES files(file_id), received_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE outputs (file_id TEXT NOT NULL REFERENCES files(file_id), target TEXT NOT NULL,
    path TEXT NOT NULL, tmp_path TEXT NOT NULL, state TEXT NOT NULL, records INTEGER NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY (file_id, path));
CREATE TABLE keys (file_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (file_id, kind, value));
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, file_id TEXT, at TEXT NOT NULL,
    event TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE sources (name TEXT PRIMARY KEY, reachable INTEGER NOT NULL, last_poll TEXT,
    last_error TEXT, updated_at TEXT NOT NULL);
CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE batches (batch_id TEXT PRIMARY KEY, target TEXT NOT NULL, state TEXT NOT NULL,
    records INTEGER NOT NULL, first_at TEXT NOT NULL, closed_at TEXT NOT NULL, published_at TEXT);
CREATE TABLE batch_items (item INTEGER PRIMARY KEY AUTOINCREMENT, target TEXT NOT NULL,
    file_id TEXT NOT NULL, state TEXT NOT NULL, batch_id TEXT, record TEXT, at TEXT NOT NULL);
CREATE TABLE batch_outputs (batch_id TEXT NOT NULL, target TEXT NOT NULL, path TEXT NOT NULL,
    tmp_path TEXT NOT NULL, state TEXT NOT NULL, records INTEGER NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (batch_id, path));
"""


def accepted(ledger: SqliteLedger, tmp_path: Path, name: str, sha256: str) -> FileRow:
    """A file taken through every move to accepted, with no targets."""
    row = ledger.claim("s", name, "p", 1, 1, tmp_path)
    ledger.start(row.file_id, sha256, 1)
    ledger.commit(row.file_id, Commit("csv", "utf-8", 1, [], []))
    ledger.accept(row.file_id, None)
    return row


class TestLedger:
    def test_wal_and_durable_sync(self, tmp_path: Path) -> None:
        ledger = SqliteLedger(tmp_path / "gateway.db")
        assert ledger.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ledger.db.execute("PRAGMA synchronous").fetchone()[0] == 2

    def test_claim_records_before_anything_moves(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        row = ledger.claim("inbound", "a.csv", "/in/a.csv", 10, 5, tmp_path / "work")
        assert row.state is FileState.CLAIMED
        assert row.work_path == str(tmp_path / "work" / f"{row.file_id}.a.csv")
        assert ledger.files(*UNFINISHED) == [row]
        assert ledger.events(row.file_id)[0][1] == "file_claimed"

    def test_file_ids_are_unique_and_sortable(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        ids = [ledger.claim("s", "n", "p", 1, 1, tmp_path).file_id for _ in range(200)]
        assert len(set(ids)) == 200

    def test_states_and_duplicates_by_sha(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        a = accepted(ledger, tmp_path, "a", sha256="abc")
        b = ledger.claim("s", "b", "p", 1, 1, tmp_path)
        ledger.start(b.file_id, "abc", 1)
        assert ledger.accepted_with_sha("abc", exclude=b.file_id) == a.file_id
        assert ledger.accepted_with_sha("abc", exclude=a.file_id) is None

    def test_business_keys(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        a = ledger.claim("s", "a", "p", 1, 1, tmp_path)
        ledger.start(a.file_id, "abc", 1)
        ledger.commit(a.file_id, Commit("csv", "utf-8", 1, [("unb", "SENDER:42"), ("unb", "SENDER:42")], []))
        assert ledger.keys(a.file_id) == [("unb", "SENDER:42")]
        assert ledger.accepted_with_key("unb", "SENDER:42", "x") is None
        ledger.accept(a.file_id, None)
        assert ledger.accepted_with_key("unb", "SENDER:42", "x") == a.file_id
        assert [r.file_id for r in ledger.find("SENDER:42")] == [a.file_id]

    def test_outputs_intent_then_published(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        a = ledger.claim("s", "a", "p", 1, 1, tmp_path)
        ledger.start(a.file_id, "abc", 1)
        ledger.stage_output(a.file_id, "canonical", "a.jsonl", "/o/a.jsonl.tmp")
        ledger.commit(
            a.file_id, Commit("csv", "utf-8", 3, [], [Share("canonical", DeliveryState.PUBLISHING, 3)])
        )
        assert ledger.get(a.file_id).state is FileState.PUBLISHING  # type: ignore[union-attr]
        assert [o.state for o in ledger.outputs(a.file_id)] == [OutputState.INTENT]
        ledger.accept(a.file_id, None)
        (output,) = ledger.outputs(a.file_id)
        assert (output.state, output.records) == (OutputState.PUBLISHED, 3)
        assert ledger.get(a.file_id).state is FileState.ACCEPTED  # type: ignore[union-attr]
        (delivery,) = ledger.deliveries(file_id=a.file_id)
        assert (delivery.target, delivery.state, delivery.attempt) == (
            "canonical",
            DeliveryState.PUBLISHED,
            1,
        )

    def test_two_targets_may_name_their_outputs_alike(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        a = ledger.claim("s", "a", "p", 1, 1, tmp_path)
        ledger.start(a.file_id, "abc", 1)
        ledger.stage_output(a.file_id, "canonical", "a.jsonl", "/o/c/a.jsonl.tmp")
        ledger.stage_output(a.file_id, "wms", "a.jsonl", "/o/w/a.jsonl.tmp")
        shares = [Share("canonical", DeliveryState.PUBLISHING, 1), Share("wms", DeliveryState.PUBLISHING, 1)]
        ledger.commit(a.file_id, Commit("csv", "utf-8", 1, [], shares))
        ledger.accept(a.file_id, None)
        outputs = ledger.outputs(a.file_id)
        assert [(o.target, o.tmp_path, o.state) for o in outputs] == [
            ("canonical", "/o/c/a.jsonl.tmp", OutputState.PUBLISHED),
            ("wms", "/o/w/a.jsonl.tmp", OutputState.PUBLISHED),
        ]

    def test_a_refused_pair_is_its_own_case(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        a = ledger.claim("s", "a", "p", 1, 1, tmp_path)
        ledger.start(a.file_id, "abc", 1)
        ledger.stage_output(a.file_id, "canonical", "a.jsonl", "/o/c/a.jsonl.tmp")
        ledger.stage_output(a.file_id, "sage", "a.csv", "/o/s/a.csv.tmp")
        finding = {"code": "too_long", "message": "is too long"}
        shares = [
            Share("canonical", DeliveryState.PUBLISHING, 1),
            Share("sage", DeliveryState.REFUSED, 1, [finding]),
        ]
        ledger.commit(a.file_id, Commit("csv", "utf-8", 1, [], shares))
        ledger.accept(a.file_id, "archive/a")
        assert [o.target for o in ledger.outputs(a.file_id)] == ["canonical"]
        (case,) = ledger.deliveries(DeliveryState.REFUSED)
        assert (case.file_id, case.target, case.findings) == (a.file_id, "sage", [finding])
        again = ledger.retry_delivery(a.file_id, "sage")
        assert (again.attempt, again.state) == (2, DeliveryState.WRITING)
        ledger.stage_output(a.file_id, "sage", "a.csv", "/o/s/a.csv.tmp")
        ledger.deliver(a.file_id, Share("sage", DeliveryState.PUBLISHING, 1))
        ledger.delivered(a.file_id, "sage")
        states = [(d.target, d.attempt, d.state) for d in ledger.deliveries(file_id=a.file_id)]
        assert sorted(states) == [
            ("canonical", 1, DeliveryState.PUBLISHED),
            ("sage", 1, DeliveryState.RETRIED),
            ("sage", 2, DeliveryState.PUBLISHED),
        ]
        assert ledger.deliveries(DeliveryState.REFUSED) == []
        assert ledger.get(a.file_id).state is FileState.ACCEPTED  # type: ignore[union-attr]

    def test_an_illegal_move_is_refused_and_changes_nothing(
        self, ledger: SqliteLedger, tmp_path: Path
    ) -> None:
        a = ledger.claim("s", "a", "p", 1, 1, tmp_path)
        with pytest.raises(IllegalTransition, match=r"cannot move to accepted \(it is claimed"):
            ledger.accept(a.file_id, None)
        with pytest.raises(IllegalTransition, match="no such row"):
            ledger.start("nope", "abc", 1)
        with pytest.raises(IllegalTransition):
            ledger.retire(a.file_id, "b")
        with pytest.raises(IllegalTransition):
            ledger.retry_delivery(a.file_id, "sage")
        assert ledger.get(a.file_id).state is FileState.CLAIMED  # type: ignore[union-attr]
        assert [e[1] for e in ledger.events(a.file_id)] == ["file_claimed"]

    def test_a_ledger_of_the_old_schema_is_upgraded_in_place(self, tmp_path: Path) -> None:
        path = tmp_path / "gateway.db"
        old = sqlite3.connect(path)
        old.executescript(OLD_SCHEMA)
        old.execute(
            "INSERT INTO files VALUES ('f1', 's', 'a.csv', 'p', NULL, 1, 1, 'abc', 'csv', 'utf-8',"
            " 'accepted', NULL, 1, NULL, NULL, 't', 't')"
        )
        old.execute(
            "INSERT INTO outputs VALUES ('f1', 'canonical', 'a.jsonl', '/o/a.tmp', 'published', 1, 't')"
        )
        # A file an old gateway left publishing: its intents become a publishing delivery.
        old.execute(
            "INSERT INTO files VALUES ('f2', 's', 'b.csv', 'p', 'w', 1, 1, 'abd', 'csv', 'utf-8',"
            " 'publishing', NULL, 2, NULL, NULL, 't', 't')"
        )
        old.execute("INSERT INTO outputs VALUES ('f2', 'canonical', 'b.jsonl', '/o/b.tmp', 'intent', 2, 't')")
        old.commit()
        old.close()
        ledger = SqliteLedger(path)
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        (output,) = ledger.outputs("f1")
        assert (output.target, output.path, output.state) == ("canonical", "a.jsonl", OutputState.PUBLISHED)
        assert ledger.get("f1").state is FileState.ACCEPTED  # type: ignore[union-attr]
        (delivery,) = ledger.deliveries()
        assert (delivery.file_id, delivery.target, delivery.state, delivery.records) == (
            "f2", "canonical", DeliveryState.PUBLISHING, 2)  # fmt: skip
        ledger.accept("f2", None)
        assert [o.state for o in ledger.outputs("f2")] == [OutputState.PUBLISHED]
        # The new key: the same name for another target is a row of its own.
        ledger.stage_output("f1", "wms", "a.jsonl", "/w/a.tmp")
        assert len(ledger.outputs("f1")) == 2
        ledger.close()
        assert SqliteLedger(path).db.execute("PRAGMA user_version").fetchone()[0] == VERSION

    def test_sequences_are_per_name_and_persistent(self, reopen: Callable[[], SqliteLedger]) -> None:
        ledger = reopen()
        assert [ledger.next_sequence("p1") for _ in range(3)] == [1, 2, 3]
        assert ledger.next_sequence("p2") == 1
        ledger.close()
        again = reopen()
        assert again.next_sequence("p1") == 4
        again.close()

    def test_a_failed_transaction_leaves_nothing(self, ledger: SqliteLedger, tmp_path: Path) -> None:
        with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)), ledger.transaction() as db:
            db.execute("INSERT INTO sequences VALUES ('x', 1)")
            db.execute("INSERT INTO sequences VALUES ('x', 1)")
        assert ledger.db.execute("SELECT COUNT(*) FROM sequences").fetchone()[0] == 0
