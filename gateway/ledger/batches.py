"""The ledger's part for cross-file batches: records waiting for a batch, batches, their outputs.

A batched target's records are kept here, as canonical JSON, from the moment their input file
is accepted until the batch holding them is published; the original file's fate and the
batch's are then linked in the file's timeline. An item moves with its file, then its batch:

```
staged ─(file publishing)─▶ pending ─(batch closed)─▶ batched ─(target refuses it)─▶ refused
   └─(file attempt discarded)─▶ deleted     ▲▲─(deferred to the next batch)──┘          │
                                            │└──────────(the service starts again)───────┘
```

and a batch through `writing ─▶ publishing ─▶ published`, each step one transaction, so a
crash in `writing` writes the batch again and one in `publishing` finishes the renames.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from gateway.ledger.protocol import Backlog, BatchRow
from gateway.ledger.states import BatchState, IllegalTransition, ItemState, OutputState

B, Item, Out = BatchState, ItemState, OutputState

BATCH_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    state TEXT NOT NULL,
    records INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    closed_at TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX IF NOT EXISTS batches_state ON batches(state);
CREATE TABLE IF NOT EXISTS batch_items (
    item INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    file_id TEXT NOT NULL REFERENCES files(file_id),
    state TEXT NOT NULL,
    batch_id TEXT REFERENCES batches(batch_id),
    record TEXT,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_items_open ON batch_items(target, state, item);
CREATE INDEX IF NOT EXISTS batch_items_file ON batch_items(file_id, state);
CREATE INDEX IF NOT EXISTS batch_items_batch ON batch_items(batch_id, item);
CREATE TABLE IF NOT EXISTS batch_outputs (
    batch_id TEXT NOT NULL REFERENCES batches(batch_id),
    target TEXT NOT NULL,
    path TEXT NOT NULL,
    tmp_path TEXT NOT NULL,
    state TEXT NOT NULL,
    records INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (batch_id, path)
);
"""


def _batch_row(row: sqlite3.Row) -> BatchRow:
    return BatchRow(**{**dict(row), "state": BatchState(row["state"])})


class _Db(Protocol):
    db: sqlite3.Connection

    def transaction(self, *, synced: bool = True) -> AbstractContextManager[sqlite3.Connection]: ...


class BatchTables:
    """Batch methods of `SqliteLedger` (a mixin over its connection and transactions)."""

    def stage_items(self: _Db, file_id: str, target: str, records: list[str], at: str) -> None:
        """Keep records an attempt of `file_id` routed to a batched target, until it ends."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO batch_items (target, file_id, state, record, at) VALUES (?, ?, ?, ?, ?)",
                [(target, file_id, Item.STAGED, record, at) for record in records],
            )

    def backlogs(self: _Db) -> dict[str, Backlog]:
        """The records waiting for a batch, and since when, for every target that has some."""
        rows = self.db.execute(
            "SELECT target, COUNT(*), MIN(at) FROM batch_items WHERE state = ? GROUP BY target",
            (Item.PENDING,),
        )
        return {r[0]: Backlog(int(r[1]), r[2]) for r in rows}

    def close_batch(self: _Db, batch_id: str, target: str, limit: int | None, at: str) -> BatchRow | None:
        """Gather up to `limit` pending records of `target`, oldest first, into a new batch."""
        with self.transaction() as db:
            # No limit is a huge one: PostgreSQL refuses SQLite's LIMIT -1.
            items = db.execute(
                "SELECT item, at FROM batch_items WHERE target = ? AND state = ? ORDER BY item LIMIT ?",
                (target, Item.PENDING, 2**62 if limit is None else limit),
            ).fetchall()
            if not items:
                return None
            first = min(row[1] for row in items)
            db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, NULL)",
                (batch_id, target, B.WRITING, len(items), first, at),
            )
            db.executemany(
                "UPDATE batch_items SET state = ?, batch_id = ? WHERE item = ?",
                [(Item.BATCHED, batch_id, row[0]) for row in items],
            )
        return BatchRow(batch_id, target, B.WRITING, len(items), first, at, None)

    def batches(self: _Db, *states: BatchState) -> list[BatchRow]:
        """Batches in any of these states, in the order they were closed."""
        marks = ", ".join("?" * len(states))
        rows = self.db.execute(
            f"SELECT * FROM batches WHERE state IN ({marks}) ORDER BY closed_at, batch_id",  # noqa: S608
            states,
        )
        return [_batch_row(r) for r in rows]

    def batch_records(self: _Db, batch_id: str, chunk: int = 500) -> Iterator[tuple[int, str, str]]:
        """(item, file_id, record JSON) of a batch in order, fetched a chunk at a time so the
        caller may write to the ledger between chunks."""
        after = 0
        while True:
            rows = self.db.execute(
                "SELECT item, file_id, record FROM batch_items"
                " WHERE batch_id = ? AND state = ? AND item > ? ORDER BY item LIMIT ?",
                (batch_id, Item.BATCHED, after, chunk),
            ).fetchall()
            if not rows:
                return
            yield from ((r[0], r[1], r[2]) for r in rows)
            after = rows[-1][0]

    def set_aside(self: _Db, batch_id: str, deferred: list[int], refused: list[int]) -> None:
        """Take records out of a batch being written: `deferred` ones wait for the next batch,
        `refused` ones stay refused (and keep their text for the operator)."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE batch_items SET state = ?, batch_id = NULL WHERE item = ?",
                [(Item.PENDING, item) for item in deferred],
            )
            db.executemany(
                "UPDATE batch_items SET state = ? WHERE item = ?", [(Item.REFUSED, item) for item in refused]
            )
            db.execute(
                "UPDATE batches SET records = records - ? WHERE batch_id = ?",
                (len(deferred) + len(refused), batch_id),
            )

    def requeue_refused(self: _Db, target: str) -> int:
        """Put the records `target` refused back in line for its next batch; how many."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE batch_items SET state = ?, batch_id = NULL WHERE target = ? AND state = ?",
                (Item.PENDING, target, Item.REFUSED),
            )
        return cursor.rowcount

    def refused_items(self: _Db, target: str) -> int:
        """How many records `target` refused when their batch was written."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM batch_items WHERE target = ? AND state = ?", (target, Item.REFUSED)
        ).fetchone()
        return int(row[0])

    def batch(self: _Db, batch_id: str) -> BatchRow | None:
        """The batch with this id, if any."""
        row = self.db.execute("SELECT * FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        return _batch_row(row) if row else None

    def batch_files(self: _Db, batch_id: str) -> list[str]:
        """The input files whose records a batch holds."""
        rows = self.db.execute(
            "SELECT DISTINCT file_id FROM batch_items WHERE batch_id = ? ORDER BY file_id", (batch_id,)
        )
        return [r[0] for r in rows]

    def file_batches(self: _Db, file_id: str) -> list[tuple[str, str, int]]:
        """(target, batch id or '' while pending, records) for a file's batched records."""
        rows = self.db.execute(
            "SELECT target, COALESCE(batch_id, ''), COUNT(*) FROM batch_items"
            " WHERE file_id = ? AND state != ? GROUP BY target, batch_id",
            (file_id, Item.STAGED),
        )
        return [(r[0], r[1], int(r[2])) for r in rows]

    def stage_batch_output(self: _Db, batch_id: str, target: str, path: str, tmp: str) -> None:
        """Record an output of a batch being written under its temporary name."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO batch_outputs VALUES (?, ?, ?, ?, ?, 0, '')",
                (batch_id, target, path, tmp, Out.STAGING),
            )

    def batch_outputs(self: _Db, batch_id: str) -> list[tuple[str, str, OutputState]]:
        """(path, tmp_path, state) of a batch's outputs, in the order they were opened."""
        rows = self.db.execute(
            "SELECT path, tmp_path, state FROM batch_outputs WHERE batch_id = ? ORDER BY rowid", (batch_id,)
        )
        return [(r[0], r[1], OutputState(r[2])) for r in rows]

    def forget_batch_outputs(self: _Db, batch_id: str) -> None:
        """Drop the staged outputs of a batch that will be written again."""
        with self.transaction() as db:
            db.execute("DELETE FROM batch_outputs WHERE batch_id = ? AND state = ?", (batch_id, Out.STAGING))

    def intend_batch(self: _Db, batch_id: str) -> None:
        """Every output of the batch is written and synced: mark them and the batch to publish."""
        with self.transaction() as db:
            db.execute(
                "UPDATE batch_outputs SET state = ?,"
                " records = (SELECT records FROM batches WHERE batch_id = ?) WHERE batch_id = ?",
                (Out.INTENT, batch_id, batch_id),
            )
            _move(db, batch_id, B.WRITING, B.PUBLISHING, None)

    def publish_batch(self: _Db, batch_id: str, at: str, events: list[tuple[str, str]]) -> None:
        """Record a batch as published, drop its records' text, and note `events` (file_id,
        detail JSON) in the timelines of the files it holds."""
        with self.transaction() as db:
            db.execute(
                "UPDATE batch_outputs SET state = ?, at = ? WHERE batch_id = ?", (Out.PUBLISHED, at, batch_id)
            )
            _move(db, batch_id, B.PUBLISHING, B.PUBLISHED, at)
            # The archive keeps every original; the ledger need not keep a second copy.
            db.execute(
                "UPDATE batch_items SET record = NULL WHERE batch_id = ? AND state = ?",
                (batch_id, Item.BATCHED),
            )
            db.executemany(
                "INSERT INTO events (file_id, at, event, detail) VALUES (?, ?, 'batch_published', ?)",
                [(file_id, at, detail) for file_id, detail in events],
            )


def _move(db: sqlite3.Connection, batch_id: str, allowed: BatchState, to: BatchState, at: str | None) -> None:
    """One move of a batch (`at`: its publication time, when it is published)."""
    cursor = db.execute(
        "UPDATE batches SET state = ?, published_at = COALESCE(?, published_at)"
        " WHERE batch_id = ? AND state = ?",
        (to, at, batch_id, allowed),
    )
    if cursor.rowcount != 1:
        found = db.execute("SELECT state FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
        raise IllegalTransition("batch", batch_id, found and found[0], to, (allowed,))
