"""The ledger on one SQLite file: what happened to every file, durably, so nothing is lost or
posted twice.

`SqliteLedger` implements the `Ledger` protocol (protocol.py) in WAL mode, with the tables of
schema.py, the deliveries of deliveries.py and the batches of batches.py. Each method is one
transaction; each state change is one move of states.py, made by an UPDATE guarded by the
states it may come from, so an illegal move changes nothing and raises `IllegalTransition`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway.errors import LedgerFull, LedgerUnusable
from gateway.ledger.actions import ActionTables
from gateway.ledger.activity import ActivityTables
from gateway.ledger.batches import BatchTables
from gateway.ledger.deliveries import DeliveryTables, drop_staged, published, share_in
from gateway.ledger.ops import OpsTables
from gateway.ledger.protocol import Commit, FileRow, Ledger, OutputRow, Peers, file_row, new_file_id, now
from gateway.ledger.schema import migrate
from gateway.ledger.states import FileState, IllegalTransition

__all__ = ["FileRow", "Ledger", "OutputRow", "SqliteLedger", "new_file_id", "now"]

F = FileState

#: Below this much free space an I/O error of SQLite is taken for a full disk: creating the WAL's
#: shared-memory file or growing the WAL on a full filesystem fails as SQLITE_IOERR, not FULL.
NEARLY_FULL = 1 << 20


def room(folder: Path) -> int:
    """Bytes free on the filesystem of `folder` (what an unprivileged writer may use)."""
    stat = os.statvfs(folder)
    return stat.f_bavail * stat.f_frsize


def no_room(exc: sqlite3.Error, folder: Path) -> bool:
    """Whether SQLite failed for want of space on the filesystem of `folder`."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code == sqlite3.SQLITE_FULL:
        return True
    return code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN) and room(folder) < NEARLY_FULL


class SqliteLedger(DeliveryTables, BatchTables, ActionTables, ActivityTables, OpsTables):
    """The ledger on a local SQLite file (WAL, synchronous=FULL: a commit survives power loss)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            migrate(self.db)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if no_room(exc, path.parent):
                raise LedgerFull(f"cannot open {path}: no room on its filesystem ({exc})") from None
            raise LedgerUnusable(
                f"{path} is not a usable SQLite ledger ({exc}); restore it from a backup, or move it"
                " aside to start a new one (which forgets what was published)"
            ) from None
        self.inode = path.stat().st_ino
        self.grouped = False

    def verify(self) -> None:
        """Raise `LedgerUnusable` when the ledger's file was deleted or replaced since it was
        opened: writing on would go to a file nobody will ever read again."""
        try:
            inode = self.path.stat().st_ino
        except FileNotFoundError:
            inode = None
        if inode != self.inode:
            raise LedgerUnusable(f"{self.path} was deleted or replaced while the service ran")

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def join(self, lease_seconds: float) -> Peers | None:
        """No sharing: one instance per root (rootlock.py), so every file is its own."""
        return None

    def take(self, file_id: str) -> bool:
        """Every unfinished file is this instance's to finish."""
        return True

    @contextmanager
    def transaction(self, *, synced: bool = True) -> Iterator[sqlite3.Connection]:
        """One atomic unit; IMMEDIATE so two writers serialise instead of failing late. A unit
        that fails for want of room is rolled back whole and raised as `LedgerFull`.

        Inside `group` it is a savepoint of the group's transaction instead. `synced=False`
        skips the WAL's fsync at the commit: the transaction survives a crash of the process
        at once and a power cut from the next synced commit on (WAL commits are durable in
        order), which is enough for rows that only say what to clean up or show."""
        if self.grouped:
            self.db.execute("SAVEPOINT step")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK TO step")
                self.db.execute("RELEASE step")
                raise
            self.db.execute("RELEASE step")
            return
        if not synced:
            self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self._rollback()
                raise
            self.db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if not no_room(exc, self.path.parent):
                raise
            self._rollback()  # a COMMIT that failed may leave the transaction open
            raise LedgerFull(f"cannot write {self.path}: no room on its filesystem ({exc})") from None
        finally:
            if not synced:
                self.db.execute("PRAGMA synchronous=FULL")

    def _rollback(self) -> None:
        if self.db.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back by itself
                self.db.execute("ROLLBACK")

    @contextmanager
    def group(self) -> Iterator[None]:
        """The transactions of every method called inside as one (group commit): one commit
        and one fsync for a batch of files; all or nothing."""
        if self.grouped:
            yield
            return
        with self.transaction():
            self.grouped = True
            try:
                yield
            finally:
                self.grouped = False

    # --- a file's moves ---------------------------------------------------------------------

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
        # One path component holds 255 bytes: a longer name is cut (the file id keeps it unique).
        work_path = str(work_dir / f"{file_id}.{name}".encode()[:255].decode(errors="ignore"))
        at = now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO files (file_id, source, original_name, source_path, work_path, size,"
                " mtime_ns, state, retry_of, received_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (file_id, source, name, source_path, work_path, size, mtime_ns, F.CLAIMED, retry_of, at, at),
            )
            self._event(db, file_id, "file_claimed", {"name": name, "source": source})
        return self._get(file_id)

    def drop_claim(self, file_id: str) -> None:
        """Forget a claim whose move never happened."""
        with self.transaction() as db:
            db.execute("DELETE FROM events WHERE file_id = ?", (file_id,))
            db.execute("DELETE FROM files WHERE file_id = ? AND state = ?", (file_id, F.CLAIMED))

    def start(self, file_id: str, sha256: str, size: int) -> FileRow:
        """claimed ─▶ processing: the file is in work/ and hashed."""
        with self.transaction() as db:
            self._move(db, file_id, (F.CLAIMED,), F.PROCESSING, {"sha256": sha256, "size": size})
        return self._get(file_id)

    def vanish(self, file_id: str, detail: str | None = None) -> None:
        """claimed ─▶ vanished: the file went away before it could be taken."""
        with self.transaction() as db:
            self._move(db, file_id, (F.CLAIMED,), F.VANISHED, {"work_path": None, "detail": detail})

    def commit(self, file_id: str, commit: Commit) -> None:
        """processing ─▶ publishing: the file's records are durable and every target's share is
        decided: intents for the publishing ones, the batched ones' records in line for their
        batch, the refused ones' outputs dropped (a pair case each)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO keys (file_id, kind, value) VALUES (?, ?, ?)",
                [(file_id, k, v) for k, v in commit.keys],
            )
            for share in commit.shares:
                share_in(db, file_id, share, 1)
            _warn(db, file_id, commit.warnings)
            fields = {"format": commit.format, "encoding": commit.encoding, "records": commit.records}
            self._move(db, file_id, (F.PROCESSING,), F.PUBLISHING, fields, {"targets": len(commit.shares)})

    def accept(self, file_id: str, archived: str | None) -> None:
        """publishing ─▶ accepted: every publishing share's outputs are renamed."""
        with self.transaction() as db:
            published(db, file_id, None)
            self._move(db, file_id, (F.PUBLISHING,), F.ACCEPTED,
                       {"stage": None, "work_path": None, "detail": archived})  # fmt: skip

    def quarantine(
        self,
        file_id: str,
        stage: str,
        errors: list[dict[str, Any]],
        folder: str,
        encoding: str | None,
    ) -> None:
        """claimed or processing ─▶ quarantined, with the report's folder (the business keys
        read before the refusal are kept by `note_read`)."""
        with self.transaction() as db:
            warned = [e for e in errors if e.get("severity") == "warning"]
            errors = [e for e in errors if e.get("severity") != "warning"]
            self._event(db, file_id, "file_quarantined", {"stage": stage, "errors": errors[:50]})
            _warn(db, file_id, warned)
            drop_staged(db, file_id, None)
            fields = {"stage": stage, "work_path": None, "encoding": encoding, "detail": folder}
            self._move(db, file_id, (F.CLAIMED, F.PROCESSING), F.QUARANTINED, fields)

    def duplicate(self, file_id: str, same_as: str, what: str) -> None:
        """processing ─▶ duplicate of an accepted file."""
        with self.transaction() as db:
            self._event(db, file_id, "duplicate_of", {"same_as": same_as, "what": what})
            drop_staged(db, file_id, None)
            self._move(db, file_id, (F.PROCESSING,), F.DUPLICATE, {"detail": f"{what} as in {same_as}"})

    def retire(self, file_id: str, new_file_id: str) -> None:
        """quarantined ─▶ retried, linked to the new attempt."""
        with self.transaction() as db:
            self._event(db, file_id, "file_retried", {"new_file_id": new_file_id})
            self._move(db, file_id, (F.QUARANTINED,), F.RETRIED, {"detail": f"retried as {new_file_id}"})

    def discard(self, file_id: str, reason: str) -> None:
        """quarantined ─▶ discarded, for good."""
        with self.transaction() as db:
            self._event(db, file_id, "file_discarded", {"reason": reason})
            self._move(db, file_id, (F.QUARANTINED,), F.DISCARDED, {"detail": reason})

    def archived(self, file_id: str, path: str | None) -> None:
        """The original left work/ (for `path`, or earlier when None keeps the old detail)."""
        fields: dict[str, Any] = {"work_path": None} if path is None else {"work_path": None, "detail": path}
        with self.transaction() as db:
            self._set(db, file_id, fields)

    def _move(
        self,
        db: sqlite3.Connection,
        file_id: str,
        allowed: tuple[FileState, ...],
        to: FileState,
        fields: dict[str, Any],
        detail: dict[str, Any] | None = None,
    ) -> None:
        marks = ", ".join("?" * len(allowed))
        columns = "".join(f", {k} = ?" for k in fields)
        cursor = db.execute(
            f"UPDATE files SET state = ?, updated_at = ?{columns}"  # noqa: S608 - keys are ours
            f" WHERE file_id = ? AND state IN ({marks})",
            (to, now(), *fields.values(), file_id, *allowed),
        )
        if cursor.rowcount != 1:
            found = db.execute("SELECT state FROM files WHERE file_id = ?", (file_id,)).fetchone()
            raise IllegalTransition("file", file_id, found and found[0], to, allowed)
        self._event(db, file_id, f"state_{to}", detail or {})

    @staticmethod
    def _set(db: sqlite3.Connection, file_id: str, fields: dict[str, Any]) -> None:
        columns = ", ".join(f"{k} = ?" for k in fields)
        db.execute(
            f"UPDATE files SET {columns}, updated_at = ? WHERE file_id = ?",  # noqa: S608 - keys are ours
            (*fields.values(), now(), file_id),
        )

    # --- reading files ----------------------------------------------------------------------

    def _get(self, file_id: str) -> FileRow:
        row = self.get(file_id)
        assert row is not None
        return row

    def get(self, file_id: str) -> FileRow | None:
        """The file with this id, if any."""
        row = self.db.execute("SELECT * FROM files WHERE file_id = ?", (file_id,)).fetchone()
        return file_row(row) if row else None

    def _files(self, where: str, params: tuple[Any, ...]) -> list[FileRow]:
        rows = self.db.execute(
            f"SELECT * FROM files WHERE {where} ORDER BY received_at, file_id",  # noqa: S608
            params,
        )
        return [file_row(r) for r in rows]

    def files(self, *states: FileState, unarchived: bool = False) -> list[FileRow]:
        """Files in any of these states (every file, without), oldest first; `unarchived`: only
        those whose original is still in work/ (an accepted one there: a crash before the move)."""
        where = f"state IN ({', '.join('?' * len(states))})" if states else "1=1"
        return self._files(where + (" AND work_path IS NOT NULL" if unarchived else ""), states)

    def accepted_with_sha(self, sha256: str, exclude: str) -> str | None:
        """An accepted file with the same content, if there is one."""
        row = self.db.execute(
            "SELECT file_id FROM files WHERE sha256 = ? AND state = ? AND file_id != ? LIMIT 1",
            (sha256, F.ACCEPTED, exclude),
        ).fetchone()
        return str(row[0]) if row else None

    def accepted_with_key(self, kind: str, value: str, exclude: str) -> str | None:
        """An accepted file that carried the same business key, if there is one."""
        row = self.db.execute(
            "SELECT k.file_id FROM keys k JOIN files f USING (file_id)"
            " WHERE k.kind = ? AND k.value = ? AND f.state = ? AND f.file_id != ? LIMIT 1",
            (kind, value, F.ACCEPTED, exclude),
        ).fetchone()
        return str(row[0]) if row else None

    def fetched(self, source: str, name: str, source_path: str, size: int, mtime_ns: int) -> FileRow | None:
        """The latest non-vanished file claimed from this path with this size and mtime, if any.

        A remote source that keeps its files, or whose remote action was interrupted, asks this
        before fetching, so the same file is never fetched twice.
        """
        row = self.db.execute(
            "SELECT * FROM files WHERE original_name = ? AND source = ? AND source_path = ?"
            " AND size = ? AND mtime_ns = ? AND state != ?"
            " ORDER BY received_at DESC, file_id DESC LIMIT 1",
            (name, source, source_path, size, mtime_ns, F.VANISHED),
        ).fetchone()
        return file_row(row) if row else None

    # --- timeline, sequences, sources, views -------------------------------------------------

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

    def events(self, file_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        """A file's timeline: (time, event, detail)."""
        rows = self.db.execute(
            "SELECT at, event, detail FROM events WHERE file_id = ? ORDER BY seq", (file_id,)
        )
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    def keys(self, file_id: str) -> list[tuple[str, str]]:
        """The business keys of a file."""
        rows = self.db.execute("SELECT kind, value FROM keys WHERE file_id = ?", (file_id,))
        return [(r[0], r[1]) for r in rows]

    def find(self, query: str) -> list[FileRow]:
        """Files whose id, name, sha256 or a business key matches `query`."""
        return self._files(
            "file_id = ?1 OR original_name = ?1 OR sha256 = ?1 OR source_path = ?1"
            " OR file_id IN (SELECT file_id FROM keys WHERE value = ?1)",
            (query,),
        )

    def next_sequence(self, name: str) -> int:
        """The next number of a named sequence (control references, DOCNUMs), starting at 1."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO sequences VALUES (?, 1)"
                " ON CONFLICT(name) DO UPDATE SET value = sequences.value + 1",
                (name,),
            )
            row = db.execute("SELECT value FROM sequences WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def source_seen(self, name: str, *, reachable: bool, error: str | None = None) -> None:
        """Record the outcome of a poll of a source, for `gateway status`."""
        at = now()
        # What `status` shows, not what the durability protocol rests on: no fsync per poll.
        with self.transaction(synced=False) as db:
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

    def warnings(self, file_id: str) -> list[dict[str, Any]]:
        """A file's warnings, in the order they were found."""
        rows = self.db.execute("SELECT finding FROM warnings WHERE file_id = ? ORDER BY seq", (file_id,))
        return [json.loads(r[0]) for r in rows]

    def warning_counts(self) -> dict[str, dict[str, int]]:
        """Per source: how many files have warnings (`files`), and how many warnings in all."""
        rows = self.db.execute(
            "SELECT f.source, COUNT(DISTINCT w.file_id), COUNT(*) FROM warnings w"
            " JOIN files f USING (file_id) GROUP BY f.source"
        )
        return {r[0]: {"files": r[1], "warnings": r[2]} for r in rows}

    def counts(self) -> dict[str, dict[str, int]]:
        """Files by source and state."""
        result: dict[str, dict[str, int]] = {}
        for source, state, n in self.db.execute(
            "SELECT source, state, COUNT(*) FROM files GROUP BY source, state"
        ):
            result.setdefault(source, {})[state] = n
        return result


def _warn(db: sqlite3.Connection, file_id: str, warnings: list[dict[str, Any]]) -> None:
    """Record a file's warnings (again, on a new attempt after a crash: replacing the old)."""
    db.execute("DELETE FROM warnings WHERE file_id = ?", (file_id,))
    db.executemany(
        "INSERT INTO warnings (file_id, seq, code, finding) VALUES (?, ?, ?, ?)",
        [(file_id, n, str(w["code"]), json.dumps(w, ensure_ascii=False)) for n, w in enumerate(warnings, 1)],
    )
