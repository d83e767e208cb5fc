"""The ledger on PostgreSQL: the SQLite ledger's own methods over a psycopg pool, for one gateway
or several sharing the work.

`PostgresLedger` inherits every method of `SqliteLedger` and runs its SQL through
`PgConnection` (connection.py), so the two engines cannot drift apart: only opening, closing,
transactions and the schema's dialect are its own. Every write transaction takes one advisory
lock first, so writers serialise as SQLite's `BEGIN IMMEDIATE` makes them, and the methods'
read-then-write steps stay exact across instances. With `instances` joined (instances.py), a
claim also writes a unique claim row in the same transaction, and every move of a file is
fenced by the epoch this instance holds on it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from gateway.errors import ClaimTaken, LeaseLost, LedgerUnreachable, LedgerUnusable
from gateway.ledger import schema
from gateway.ledger.connection import Connection, Dialect, PgConnection
from gateway.ledger.instances import Instances
from gateway.ledger.protocol import BatchRow, FileRow, OutputRow
from gateway.ledger.sqlite import SqliteLedger
from gateway.ledger.states import FileState

#: Advisory lock keys (a 64-bit space shared with other applications of the database).
WRITERS = 0x6761_7465_7761_7901
MIGRATION = 0x6761_7465_7761_7902

VERSIONS = "CREATE TABLE IF NOT EXISTS ledger_version (part TEXT PRIMARY KEY, version BIGINT NOT NULL)"

#: Tables only PostgreSQL has: the instances sharing the ledger and who holds which claim.
#: A claim row is unique per source file (path, size and mtime); `epoch` grows at each takeover.
PG_STEPS = [
    """
    CREATE TABLE IF NOT EXISTS instances (
        instance TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid BIGINT NOT NULL,
        started_at TEXT NOT NULL,
        heartbeat_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE IF NOT EXISTS claims (
        file_id TEXT PRIMARY KEY REFERENCES files(file_id) ON DELETE CASCADE,
        source TEXT,
        source_path TEXT,
        size BIGINT,
        mtime_ns BIGINT,
        instance TEXT NOT NULL,
        epoch BIGINT NOT NULL,
        UNIQUE (source, source_path, size, mtime_ns)
    );
    CREATE INDEX IF NOT EXISTS claims_instance ON claims(instance);
    """,
]


def ddl(sql: str) -> str:
    """SQLite table definitions as PostgreSQL ones: 64-bit integers, serial keys, and a `rowid`
    column (SQLite's implicit one) on every table without an integer key of its own."""
    sql = re.sub(r"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY", sql)
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    sql = re.sub(r"\bBLOB\b", "BYTEA", sql)
    sql = re.sub(r"^\s*PRAGMA[^;]*;", "", sql, flags=re.MULTILINE)

    def rowid(match: re.Match[str]) -> str:
        table = match.group(0)
        return table if "BIGSERIAL" in table else table[: -len("\n);")] + ",\n    rowid BIGSERIAL\n);"

    return re.sub(r"CREATE TABLE[^;]*?\n\);", rowid, sql)


def migrate(pool: ConnectionPool[Any]) -> tuple[dict[str, int], dict[str, int]]:
    """Create or upgrade the tables, in one transaction, one gateway at a time; the versions
    found and the versions now, by part ("shared" steps of schema.py, "postgresql" ones)."""
    latest = {"shared": schema.VERSION, "postgresql": len(PG_STEPS)}
    with pool.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION,))
        conn.execute(VERSIONS)
        found = {str(r[0]): int(r[1]) for r in conn.execute("SELECT part, version FROM ledger_version")}
        row = conn.execute("SELECT to_regclass('files')").fetchone()
        if row is None or row[0] is None:
            conn.execute(ddl(schema.FRESH))
            found.setdefault("shared", 0)
        else:
            for step in schema.STEPS[found.get("shared", 0):]:
                conn.execute(ddl(step))
        for step in PG_STEPS[found.get("postgresql", 0):]:
            conn.execute(step)
        for part, version in latest.items():
            conn.execute(
                "INSERT INTO ledger_version VALUES (%s, %s)"
                " ON CONFLICT (part) DO UPDATE SET version = EXCLUDED.version",
                (part, version),
            )
    return found, latest


def shown(url: str) -> str:
    """The URL without a password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class PostgresLedger(SqliteLedger):
    """The ledger on a PostgreSQL database (`url`: a libpq URL; `password` apart from it;
    `wait`: seconds to wait for the database at start, which may be restarting too)."""

    def __init__(
        self, url: str, password: str | None = None, *, connections: int = 4, wait: float = 30.0
    ) -> None:
        self.url = url
        self.kwargs: dict[str, Any] = {"autocommit": True}
        if password is not None:
            self.kwargs["password"] = password
        self.pool: ConnectionPool[Any] = ConnectionPool(
            url, kwargs=self.kwargs, min_size=1, max_size=connections, open=False,
            check=ConnectionPool.check_connection, name="ledger",
        )  # fmt: skip
        self.conn = PgConnection(self.pool, Dialect())
        self.db = self.conn  # type: ignore[assignment]  # the SQLite ledger's SQL runs on it
        self.instances: Instances | None = None
        self.held: dict[str, int] = {}
        self.grouped = False
        try:
            self.pool.open(wait=True, timeout=wait)
            self.found, self.version = migrate(self.pool)
        except psycopg.OperationalError as exc:
            self.pool.close()
            raise LedgerUnreachable(f"the PostgreSQL ledger {shown(url)} does not answer ({exc})") from None
        except psycopg.Error as exc:
            self.pool.close()
            raise LedgerUnusable(f"the PostgreSQL ledger {shown(url)} cannot be used ({exc})") from None

    def verify(self) -> None:
        """Raise `LedgerUnusable` when the database no longer has the ledger's tables."""
        row = self.conn.execute("SELECT to_regclass('files')").fetchone()
        if row is None or row[0] is None:
            raise LedgerUnusable(f"the ledger's tables are gone from {shown(self.url)}")

    def close(self) -> None:
        """Leave the instances (if joined) and close the pool."""
        if self.instances is not None:
            self.instances.leave()
        self.pool.close()

    @contextmanager
    def transaction(self, *, synced: bool = True) -> Iterator[Any]:
        """One atomic unit; writers serialise on one advisory lock, as SQLite's do on the file.
        Every commit is synced (`synced=False`, SQLite's saving for rows that only say what to
        clean up or show, is not worth a per-transaction setting that an enclosing group would
        inherit); inside `group` the unit joins the group's transaction."""
        with self.conn.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (WRITERS,))
            yield db

    def join(self, lease_seconds: float) -> Instances:
        """Share the work with the other instances on this ledger from now on."""
        self.instances = Instances(self.pool, lambda: psycopg.connect(self.url, **self.kwargs), lease_seconds)
        self.instances.join()
        return self.instances

    # --- claims, takeovers and fencing (only with instances joined) ------------------------

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
        """The SQLite ledger's claim and, in the same transaction, a claim row unique per source
        file: `ClaimTaken` when another instance has it (or had it) already."""
        if self.instances is None:
            return super().claim(source, name, source_path, size, mtime_ns, work_dir, retry_of)
        with self.transaction() as db:
            row = super().claim(source, name, source_path, size, mtime_ns, work_dir, retry_of)
            key = (None, None, None, None) if retry_of else (source, source_path, size, mtime_ns)
            cursor = db.execute(
                "INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING",
                (row.file_id, *key, self.instances.instance),
            )
            if cursor.rowcount != 1:
                raise ClaimTaken(source_path)  # rolls the file row back with it
        self.held[row.file_id] = 1
        return row

    def take(self, file_id: str) -> bool:
        """Hold a file left unfinished: this instance's own, one without a claim row, or one
        whose holder's heartbeat is older than the lease (its epoch then grows, fencing the old
        holder out). False when a live instance holds it."""
        if self.instances is None:
            return True
        with self.transaction() as db:
            db.execute(
                "INSERT INTO claims SELECT file_id, NULL, NULL, NULL, NULL, ?, 0 FROM files"
                " WHERE file_id = ? ON CONFLICT DO NOTHING",
                (self.instances.instance, file_id),
            )
            row = db.execute(
                "UPDATE claims SET instance = ?, epoch = epoch + 1 WHERE file_id = ? AND (instance = ?"
                " OR instance NOT IN (SELECT instance FROM instances"
                " WHERE heartbeat_at > now() - make_interval(secs => ?)))"
                " RETURNING epoch",
                (self.instances.instance, file_id, self.instances.instance, self.instances.lease),
            ).fetchone()
        if row is None:
            self.held.pop(file_id, None)
            return False
        self.held[file_id] = int(row[0])
        return True

    def _fence(self, db: Connection, file_id: str) -> None:
        """Refuse a write for a file another instance took over since this one held it."""
        epoch = self.held.get(file_id)
        if self.instances is None or epoch is None:
            return
        row = db.execute("SELECT instance, epoch FROM claims WHERE file_id = ?", (file_id,)).fetchone()
        if row is None or row[0] != self.instances.instance or int(row[1]) != epoch:
            raise LeaseLost(f"file {file_id} was taken over by {row and row[0]}")

    def _move(
        self,
        db: Any,
        file_id: str,
        allowed: tuple[FileState, ...],
        to: FileState,
        fields: dict[str, Any],
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._fence(db, file_id)
        super()._move(db, file_id, allowed, to, fields, detail)
        if to is FileState.VANISHED and self.instances is not None:
            # The file may appear again at its path: it can be claimed afresh.
            db.execute("DELETE FROM claims WHERE file_id = ?", (file_id,))

    def outputs(self, file_id: str, target: str | None = None) -> list[OutputRow]:
        """Fenced too: every deletion or rename of a file's outputs starts by reading them, and a
        presumed-dead holder must not touch the files of the instance that took it over."""
        self._fence(self.conn, file_id)
        return super().outputs(file_id, target)

    def stage_output(self, file_id: str, target: str, path: str, tmp_path: str) -> None:
        """Fenced like a move: a presumed-dead holder must not write over the new holder's files."""
        with self.transaction() as db:
            self._fence(db, file_id)
            super().stage_output(file_id, target, path, tmp_path)

    # --- batches: written by the holder of the "batches" role only --------------------------

    def _batcher(self) -> None:
        """Refuse a batch write from an instance that lost the batches role (its lock went with
        a dropped connection, and another instance may be writing the same batch now)."""
        if self.instances is not None and not self.instances.holds("batches"):
            raise LeaseLost("the batches role went to another instance")

    def close_batch(self, batch_id: str, target: str, limit: int | None, at: str) -> BatchRow | None:
        """Fenced by the batches role."""
        self._batcher()
        return super().close_batch(batch_id, target, limit, at)

    def stage_batch_output(self, batch_id: str, target: str, path: str, tmp: str) -> None:
        """Fenced by the batches role."""
        self._batcher()
        super().stage_batch_output(batch_id, target, path, tmp)

    def intend_batch(self, batch_id: str) -> None:
        """Fenced by the batches role."""
        self._batcher()
        super().intend_batch(batch_id)

    def publish_batch(self, batch_id: str, at: str, events: list[tuple[str, str]]) -> None:
        """Fenced by the batches role."""
        self._batcher()
        super().publish_batch(batch_id, at, events)
