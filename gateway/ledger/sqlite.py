"""The ledger: what happened to every file, durably, so nothing is lost or posted twice.

`Ledger` (ledger_protocol.py) is the interface the service uses; `SqliteLedger` implements it
on one SQLite file in WAL mode, with the batch tables of ledger_batches.py. The methods are small
and each is one transaction, so a PostgreSQL implementation for several gateway instances can
follow the same shape (a claim there becomes an INSERT guarded by a unique key on source and
path).

A file moves through these states:

```
claimed ─▶ processing ─▶ publishing ─▶ accepted
   │            ├──────────────────────▶ quarantined ─▶ retried | discarded
   └─▶ vanished └──────────────────────▶ duplicate
```
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.ledger.batches import BATCH_SCHEMA, BatchTables
from gateway.ledger.protocol import FileRow, Ledger, OutputRow

__all__ = ["FINAL", "UNFINISHED", "FileRow", "Ledger", "OutputRow", "SqliteLedger", "new_file_id", "now"]

UNFINISHED = ("claimed", "processing", "publishing")
FINAL = ("accepted", "quarantined", "duplicate", "vanished", "retried", "discarded")

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    file_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    original_name TEXT NOT NULL,
    source_path TEXT NOT NULL,
    work_path TEXT,
    size INTEGER,
    mtime_ns INTEGER,
    sha256 TEXT,
    format TEXT,
    encoding TEXT,
    state TEXT NOT NULL,
    stage TEXT,
    records INTEGER,
    detail TEXT,
    retry_of TEXT REFERENCES files(file_id),
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS files_sha ON files(sha256, state);
CREATE INDEX IF NOT EXISTS files_state ON files(state);
CREATE INDEX IF NOT EXISTS files_name ON files(original_name);
CREATE TABLE IF NOT EXISTS outputs (
    file_id TEXT NOT NULL REFERENCES files(file_id),
    target TEXT NOT NULL,
    path TEXT NOT NULL,
    tmp_path TEXT NOT NULL,
    state TEXT NOT NULL,
    records INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (file_id, path)
);
CREATE TABLE IF NOT EXISTS keys (
    file_id TEXT NOT NULL REFERENCES files(file_id),
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (file_id, kind, value)
);
CREATE INDEX IF NOT EXISTS keys_value ON keys(kind, value);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id TEXT,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_file ON events(file_id, seq);
CREATE TABLE IF NOT EXISTS sources (
    name TEXT PRIMARY KEY,
    reachable INTEGER NOT NULL,
    last_poll TEXT,
    last_error TEXT,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


def now() -> str:
    """The current time as ISO 8601 UTC with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_file_id() -> str:
    """A sortable, unique id: arrival time to the second plus 48 random bits."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(6)


class SqliteLedger(BatchTables):
    """The ledger on a local SQLite file (WAL, synchronous=FULL: a commit survives power loss)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA + BATCH_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit; IMMEDIATE so two writers serialise instead of failing late."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def claim(
        self,
        source: str,
        name: str,
        source_path: str,
        size: int,
        mtime_ns: int,
        work_dir: Path,
        retry_of: str | None = None,
    ) -> FileRow:
        """Record an offered file, and where in `work_dir` it will be, before anything moves."""
        file_id = new_file_id()
        work_path = str(work_dir / f"{file_id}.{name}")
        at = now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO files (file_id, source, original_name, source_path, work_path, size,"
                " mtime_ns, state, retry_of, received_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'claimed', ?, ?, ?)",
                (file_id, source, name, source_path, work_path, size, mtime_ns, retry_of, at, at),
            )
            self._event(db, file_id, "file_claimed", {"name": name, "source": source})
        row = self.get(file_id)
        assert row is not None
        return row

    def drop_claim(self, file_id: str) -> None:
        """Forget a claim whose move never happened."""
        with self.transaction() as db:
            db.execute("DELETE FROM events WHERE file_id = ?", (file_id,))
            db.execute("DELETE FROM files WHERE file_id = ? AND state = 'claimed'", (file_id,))

    def update(self, file_id: str, **fields: Any) -> None:
        """Set columns of a file row (state, stage, sha256, format ...) in one transaction."""
        with self.transaction() as db:
            self._set(db, file_id, fields)
            if "state" in fields:
                self._event(db, file_id, f"state_{fields['state']}", {})

    def event(self, file_id: str | None, event: str, **detail: Any) -> None:
        """Append to a file's timeline (or the service's, with no file id)."""
        with self.transaction() as db:
            self._event(db, file_id, event, detail)

    @staticmethod
    def _event(db: sqlite3.Connection, file_id: str | None, event: str, detail: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO events (file_id, at, event, detail) VALUES (?, ?, ?, ?)",
            (file_id, now(), event, json.dumps(detail, default=str, ensure_ascii=False)),
        )

    def get(self, file_id: str) -> FileRow | None:
        """The file with this id, if any."""
        row = self.db.execute("SELECT * FROM files WHERE file_id = ?", (file_id,)).fetchone()
        return FileRow(**row) if row else None

    def files(self, where: str = "1=1", params: tuple[Any, ...] = ()) -> list[FileRow]:
        """Files matching a condition, oldest first."""
        rows = self.db.execute(
            f"SELECT * FROM files WHERE {where} ORDER BY received_at, file_id",  # noqa: S608
            params,
        )
        return [FileRow(**r) for r in rows]

    def in_states(self, *states: str) -> list[FileRow]:
        """Files in any of these states, oldest first."""
        marks = ", ".join("?" * len(states))
        return self.files(f"state IN ({marks})", states)

    def unfinished(self) -> list[FileRow]:
        """Files a previous run left between claim and outcome."""
        return self.in_states("claimed", "processing", "publishing")

    def unarchived(self) -> list[FileRow]:
        """Accepted or duplicate files whose original is still in work/ (a crash before the move)."""
        return self.files("state IN ('accepted', 'duplicate') AND work_path IS NOT NULL")

    def accepted_with_sha(self, sha256: str, exclude: str) -> str | None:
        """An accepted file with the same content, if there is one."""
        row = self.db.execute(
            "SELECT file_id FROM files WHERE sha256 = ? AND state = 'accepted' AND file_id != ? LIMIT 1",
            (sha256, exclude),
        ).fetchone()
        return str(row[0]) if row else None

    def accepted_with_key(self, kind: str, value: str, exclude: str) -> str | None:
        """An accepted file that carried the same business key, if there is one."""
        row = self.db.execute(
            "SELECT k.file_id FROM keys k JOIN files f USING (file_id)"
            " WHERE k.kind = ? AND k.value = ? AND f.state = 'accepted' AND f.file_id != ?"
            " LIMIT 1",
            (kind, value, exclude),
        ).fetchone()
        return str(row[0]) if row else None

    def fetched(self, source: str, name: str, source_path: str, size: int, mtime_ns: int) -> FileRow | None:
        """The latest non-vanished file claimed from this path with this size and mtime, if any.

        A remote source that keeps its files, or whose remote action was interrupted, asks this
        before fetching, so the same file is never fetched twice.
        """
        row = self.db.execute(
            "SELECT * FROM files WHERE original_name = ? AND source = ? AND source_path = ?"
            " AND size = ? AND mtime_ns = ? AND state != 'vanished'"
            " ORDER BY received_at DESC, file_id DESC LIMIT 1",
            (name, source, source_path, size, mtime_ns),
        ).fetchone()
        return FileRow(**row) if row else None

    def add_keys(self, file_id: str, keys: list[tuple[str, str]]) -> None:
        """Remember the business keys a file carried (order numbers, UNB reference, DOCNUM)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO keys (file_id, kind, value) VALUES (?, ?, ?)",
                [(file_id, k, v) for k, v in keys],
            )

    def keys(self, file_id: str) -> list[tuple[str, str]]:
        """The business keys of a file."""
        rows = self.db.execute("SELECT kind, value FROM keys WHERE file_id = ?", (file_id,))
        return [(r[0], r[1]) for r in rows]

    def record_output(self, output: OutputRow) -> None:
        """Record an output as `staging` (being written) or `intent` (synced, about to publish)."""
        with self.transaction() as db:
            self._output(db, output)

    def intend(
        self,
        file_id: str,
        outputs: list[OutputRow],
        keys: list[tuple[str, str]] = (),  # type: ignore[assignment]
        **fields: Any,
    ) -> None:
        """Record every output's intent, the file's keys and facts, and `publishing`, atomically."""
        with self.transaction() as db:
            for output in outputs:
                self._output(db, output)
            db.executemany(
                "INSERT OR IGNORE INTO keys (file_id, kind, value) VALUES (?, ?, ?)",
                [(file_id, k, v) for k, v in keys],
            )
            # Records for batched targets wait for their batch from now on, not from their read.
            db.execute(
                "UPDATE batch_items SET state = 'pending', at = ? WHERE file_id = ? AND state = 'staged'",
                (now(), file_id),
            )
            self._set(db, file_id, {**fields, "state": "publishing"})
            self._event(db, file_id, "state_publishing", {"outputs": len(outputs)})

    def accept(self, file_id: str, published: list[str], **fields: Any) -> None:
        """Record the outputs as published and the file as accepted, in one transaction."""
        with self.transaction() as db:
            at = now()
            db.executemany(
                "UPDATE outputs SET state = 'published', at = ? WHERE file_id = ? AND path = ?",
                [(at, file_id, path) for path in published],
            )
            for path in published:
                self._event(db, file_id, "output_published", {"path": path})
            self._set(db, file_id, {**fields, "state": "accepted"})
            self._event(db, file_id, "state_accepted", {})

    @staticmethod
    def _set(db: sqlite3.Connection, file_id: str, fields: dict[str, Any]) -> None:
        columns = ", ".join(f"{k} = ?" for k in fields)
        db.execute(
            f"UPDATE files SET {columns}, updated_at = ? WHERE file_id = ?",  # noqa: S608 - keys are ours
            (*fields.values(), now(), file_id),
        )

    @staticmethod
    def _output(db: sqlite3.Connection, output: OutputRow) -> None:
        db.execute(
            "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?, ?, ?)",
            (output.file_id, output.target, output.path, output.tmp_path, output.state,
             output.records, now()),
        )  # fmt: skip

    def forget_outputs(self, file_id: str) -> None:
        """Drop the staged (never published) outputs and batch records of a file that will be
        processed again or quarantined."""
        with self.transaction() as db:
            db.execute("DELETE FROM outputs WHERE file_id = ? AND state = 'staging'", (file_id,))
            db.execute("DELETE FROM batch_items WHERE file_id = ? AND state = 'staged'", (file_id,))

    def outputs(self, file_id: str) -> list[OutputRow]:
        """The outputs of a file, in the order they were intended."""
        rows = self.db.execute("SELECT * FROM outputs WHERE file_id = ? ORDER BY rowid", (file_id,))
        return [OutputRow(**r) for r in rows]

    def events(self, file_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        """A file's timeline: (time, event, detail)."""
        rows = self.db.execute(
            "SELECT at, event, detail FROM events WHERE file_id = ? ORDER BY seq", (file_id,)
        )
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def next_sequence(self, name: str) -> int:
        """The next number of a named sequence (control references, DOCNUMs), starting at 1."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sequences VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
                (name,),
            )
            row = db.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def source_seen(self, name: str, *, reachable: bool, error: str | None = None) -> None:
        """Record the outcome of a poll of a source, for `gateway status`."""
        at = now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sources VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
                " reachable = excluded.reachable, last_poll = excluded.last_poll,"
                " last_error = COALESCE(excluded.last_error, sources.last_error),"
                " updated_at = excluded.updated_at",
                (name, int(reachable), at, error, at),
            )

    def source_rows(self) -> dict[str, dict[str, Any]]:
        """Last known poll state per source."""
        return {r["name"]: dict(r) for r in self.db.execute("SELECT * FROM sources")}

    def counts(self) -> dict[str, dict[str, int]]:
        """Files by source and state."""
        result: dict[str, dict[str, int]] = {}
        for source, state, n in self.db.execute(
            "SELECT source, state, COUNT(*) FROM files GROUP BY source, state"
        ):
            result.setdefault(source, {})[state] = n
        return result

    def find(self, query: str) -> list[FileRow]:
        """Files whose id, name, sha256 or a business key matches `query`."""
        return self.files(
            "file_id = ?1 OR original_name = ?1 OR sha256 = ?1 OR source_path = ?1"
            " OR file_id IN (SELECT file_id FROM keys WHERE value = ?1)",
            (query,),
        )
