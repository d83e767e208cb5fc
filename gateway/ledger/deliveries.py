"""The ledger's part for deliveries: one target's share of a file, and its output files.

Once a file's records are durable (its commit), each target's share is a unit of its own, one
row per attempt, so a target that refuses a record (a pair case) never holds back the others,
and `quarantine retry FILE/TARGET` makes a new attempt of that pair only, linked to the old.
Outputs are keyed by file, target and name: two targets may give their files the same name.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from typing import Any, Protocol

from gateway.ledger.protocol import DeliveryRow, OutputRow, Share, now
from gateway.ledger.states import DeliveryState, IllegalTransition, ItemState, OutputState

D = DeliveryState


class _Db(Protocol):
    db: sqlite3.Connection

    def transaction(self, *, synced: bool = True) -> AbstractContextManager[sqlite3.Connection]: ...


def _event(db: sqlite3.Connection, file_id: str, event: str, detail: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO events (file_id, at, event, detail) VALUES (?, ?, ?, ?)",
        (file_id, now(), event, json.dumps(detail, default=str, ensure_ascii=False)),
    )


def _target(target: str | None) -> tuple[str, tuple[str, ...]]:
    return ("", ()) if target is None else (" AND target = ?", (target,))


class DeliveryTables:
    """Delivery and output methods of `SqliteLedger` (a mixin over its connection)."""

    def stage_output(self: _Db, file_id: str, target: str, path: str, tmp_path: str) -> None:
        """Record an output being written under its temporary name (before the file exists;
        synced with the file's commit, which follows the output's own fsync)."""
        with self.transaction(synced=False) as db:
            db.execute(
                "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?, 0, ?)",
                (file_id, target, path, tmp_path, OutputState.STAGING, now()),
            )

    def outputs(self: _Db, file_id: str, target: str | None = None) -> list[OutputRow]:
        """The outputs of a file (of one target), in the order they were opened."""
        where, params = _target(target)
        rows = self.db.execute(
            f"SELECT * FROM outputs WHERE file_id = ?{where} ORDER BY rowid",  # noqa: S608
            (file_id, *params),
        )
        return [OutputRow(**{**dict(r), "state": OutputState(r["state"])}) for r in rows]

    def forget_staged(self: _Db, file_id: str, target: str | None = None) -> None:
        """Drop the staged (never intended) outputs and batch records of an attempt that will
        be made again or came to nothing."""
        with self.transaction() as db:
            drop_staged(db, file_id, target)

    def deliveries(self: _Db, *states: DeliveryState, file_id: str | None = None) -> list[DeliveryRow]:
        """Deliveries in these states (any, without), of one file or all, by file (oldest
        first), target and attempt."""
        where = ["1=1"]
        params: list[Any] = []
        if states:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(states)
        if file_id is not None:
            where.append("file_id = ?")
            params.append(file_id)
        rows = self.db.execute(
            f"SELECT * FROM deliveries WHERE {' AND '.join(where)} ORDER BY file_id, target, attempt",  # noqa: S608
            params,
        )
        return [_delivery_row(r) for r in rows]

    def retry_delivery(self: _Db, file_id: str, target: str) -> DeliveryRow:
        """refused ─▶ retried, and a new attempt of the pair in `writing`."""
        with self.transaction() as db:
            attempt = _move(db, file_id, target, (D.REFUSED,), D.RETRIED)
            db.execute(
                "INSERT INTO deliveries VALUES (?, ?, ?, ?, 0, '[]', ?)",
                (file_id, target, attempt + 1, D.WRITING, now()),
            )
            _event(db, file_id, "delivery_retried", {"target": target, "attempt": attempt + 1})
        return DeliveryRow(file_id, target, attempt + 1, D.WRITING, 0, [], now())

    def deliver(self: _Db, file_id: str, share: Share) -> None:
        """writing (or no attempt yet) ─▶ the share's state: intents, batch records or refusal."""
        with self.transaction() as db:
            latest = db.execute(
                "SELECT attempt, state FROM deliveries WHERE file_id = ? AND target = ?"
                " ORDER BY attempt DESC LIMIT 1",
                (file_id, share.target),
            ).fetchone()
            if latest is not None and latest[1] != D.WRITING:
                raise IllegalTransition(f"delivery to {share.target} of", file_id, latest[1], share.state,
                                        (D.WRITING,))  # fmt: skip
            share_in(db, file_id, share, 1 if latest is None else latest[0])

    def delivered(self: _Db, file_id: str, target: str) -> None:
        """publishing ─▶ published: the pair's outputs are renamed."""
        with self.transaction() as db:
            _move(db, file_id, target, (D.PUBLISHING,), D.PUBLISHED)
            published(db, file_id, target)

    def discard_delivery(self: _Db, file_id: str, target: str, reason: str) -> None:
        """refused ─▶ discarded: the operator closes a pair case without delivering it."""
        with self.transaction() as db:
            _move(db, file_id, target, (D.REFUSED,), D.DISCARDED)
            _event(db, file_id, "delivery_discarded", {"target": target, "reason": reason})


def _delivery_row(row: sqlite3.Row) -> DeliveryRow:
    return DeliveryRow(
        **{**dict(row), "state": DeliveryState(row["state"]), "findings": json.loads(row["findings"])}
    )


def _move(
    db: sqlite3.Connection, file_id: str, target: str, allowed: tuple[DeliveryState, ...], to: DeliveryState
) -> int:
    """Move the latest attempt of a pair; its attempt number."""
    latest = db.execute(
        "SELECT attempt, state FROM deliveries WHERE file_id = ? AND target = ?"
        " ORDER BY attempt DESC LIMIT 1",
        (file_id, target),
    ).fetchone()
    if latest is None or latest[1] not in allowed:
        raise IllegalTransition(f"delivery to {target} of", file_id, latest and latest[1], to, allowed)
    db.execute(
        "UPDATE deliveries SET state = ?, at = ? WHERE file_id = ? AND target = ? AND attempt = ?",
        (to, now(), file_id, target, latest[0]),
    )
    _event(db, file_id, f"delivery_{to}", {"target": target, "attempt": latest[0]})
    return int(latest[0])


def share_in(db: sqlite3.Connection, file_id: str, share: Share, attempt: int) -> None:
    """Record one target's share of a file (attempt `attempt`) and move what belongs to it."""
    target = share.target
    if share.state is D.PUBLISHING:
        db.execute(
            "UPDATE outputs SET state = ?, records = ? WHERE file_id = ? AND target = ? AND state = ?",
            (OutputState.INTENT, share.records, file_id, target, OutputState.STAGING),
        )
    elif share.state is D.BATCHED:
        # Records for a batched target wait for their batch from now on, not from their read.
        db.execute(
            "UPDATE batch_items SET state = ?, at = ? WHERE file_id = ? AND target = ? AND state = ?",
            (ItemState.PENDING, now(), file_id, target, ItemState.STAGED),
        )
    elif share.state is D.REFUSED:
        drop_staged(db, file_id, target)
    else:
        raise IllegalTransition(f"delivery to {target} of", file_id, None, share.state,
                                (D.PUBLISHING, D.BATCHED, D.REFUSED))  # fmt: skip
    db.execute(
        "INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?)",
        (file_id, target, attempt, share.state, share.records,
         json.dumps(share.findings, default=str, ensure_ascii=False), now()),
    )  # fmt: skip
    _event(db, file_id, f"delivery_{share.state}", {"target": target, "attempt": attempt,
                                                    "records": share.records})  # fmt: skip


def published(db: sqlite3.Connection, file_id: str, target: str | None) -> None:
    """Intended outputs (of one target) are renamed; their publishing deliveries are done."""
    where, params = _target(target)
    at = now()
    paths = db.execute(
        f"SELECT target, path FROM outputs WHERE file_id = ?{where} AND state = ?",  # noqa: S608
        (file_id, *params, OutputState.INTENT),
    ).fetchall()
    db.execute(
        f"UPDATE outputs SET state = ?, at = ? WHERE file_id = ?{where} AND state = ?",  # noqa: S608
        (OutputState.PUBLISHED, at, file_id, *params, OutputState.INTENT),
    )
    for row in paths:
        _event(db, file_id, "output_published", {"target": row[0], "path": row[1]})
    if target is None:
        db.execute(
            "UPDATE deliveries SET state = ?, at = ? WHERE file_id = ? AND state = ?",
            (D.PUBLISHED, at, file_id, D.PUBLISHING),
        )


def drop_staged(db: sqlite3.Connection, file_id: str, target: str | None) -> None:
    """Forget the staged outputs and batch records of a file's attempt (for one target)."""
    where, params = _target(target)
    db.execute(
        f"DELETE FROM outputs WHERE file_id = ?{where} AND state = ?",  # noqa: S608
        (file_id, *params, OutputState.STAGING),
    )
    db.execute(
        f"DELETE FROM batch_items WHERE file_id = ?{where} AND state = ?",  # noqa: S608
        (file_id, *params, ItemState.STAGED),
    )
