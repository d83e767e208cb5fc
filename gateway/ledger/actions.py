"""The ledger's part for operators' actions: who asked to retry or discard which case, and why.

An action is recorded before it is done, so the record survives whatever happens next. While a
service runs it owns processing: the console and the command line leave the action `requested`
and the service performs it on its next round; with no service, the one that asked performs it
at once, holding the root's lock. Either way the row ends `done` or `failed` with what came of
it, and the case's file keeps an `operator_<action>` event in its timeline.

```
requested ─▶ done | failed
```
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from gateway.ledger.protocol import now

#: Version step: the actions table (self-contained, so the steps of other branches can be
#: renumbered around it).
ACTIONS = """
CREATE TABLE IF NOT EXISTS actions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id TEXT NOT NULL,
    file_id TEXT NOT NULL,
    action TEXT NOT NULL,
    who TEXT NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    done_at TEXT,
    result TEXT
);
CREATE INDEX IF NOT EXISTS actions_state ON actions(state, seq);
CREATE INDEX IF NOT EXISTS actions_file ON actions(file_id, seq);
"""


class ActionState(StrEnum):
    """Where an operator's action is."""

    REQUESTED = "requested"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class ActionRow:
    """One operator's action on one quarantine case."""

    seq: int
    case_id: str
    file_id: str
    action: str
    who: str
    reason: str
    state: ActionState
    requested_at: str
    done_at: str | None
    result: str | None


class _Db(Protocol):
    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


def _row(row: sqlite3.Row) -> ActionRow:
    return ActionRow(**{**dict(row), "state": ActionState(row["state"])})


class ActionTables:
    """Action methods of `SqliteLedger` (a mixin over its connection)."""

    def request_action(self: _Db, case_id: str, action: str, who: str, reason: str) -> int:
        """Record that `who` asked for `action` on a case, and why; its number."""
        file_id = case_id.partition("/")[0]
        at = now()
        with self.transaction() as db:
            (seq,) = db.execute(
                "INSERT INTO actions (case_id, file_id, action, who, reason, state, requested_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                (case_id, file_id, action, who, reason, ActionState.REQUESTED, at),
            ).fetchone()
            detail = {"case": case_id, "who": who, "reason": reason}
            db.execute(
                "INSERT INTO events (file_id, at, event, detail) VALUES (?, ?, ?, ?)",
                (file_id, at, f"operator_{action}", json.dumps(detail, ensure_ascii=False)),
            )
        return int(seq)

    def pending_actions(self: _Db) -> list[ActionRow]:
        """Actions asked for and not yet done, oldest first."""
        rows = self.db.execute("SELECT * FROM actions WHERE state = ? ORDER BY seq", (ActionState.REQUESTED,))
        return [_row(r) for r in rows]

    def finish_action(self: _Db, seq: int, *, ok: bool, result: str) -> None:
        """An action is done (or failed), with what came of it."""
        state = ActionState.DONE if ok else ActionState.FAILED
        with self.transaction() as db:
            db.execute(
                "UPDATE actions SET state = ?, done_at = ?, result = ? WHERE seq = ? AND state = ?",
                (state, now(), result, seq, ActionState.REQUESTED),
            )

    def actions(self: _Db, file_id: str | None = None) -> list[ActionRow]:
        """The actions on a file's cases (every action, without), oldest first."""
        if file_id is None:
            rows = self.db.execute("SELECT * FROM actions ORDER BY seq")
        else:
            rows = self.db.execute("SELECT * FROM actions WHERE file_id = ? ORDER BY seq", (file_id,))
        return [_row(r) for r in rows]

    def action(self: _Db, seq: int) -> ActionRow | None:
        """One action by its number."""
        row = self.db.execute("SELECT * FROM actions WHERE seq = ?", (seq,)).fetchone()
        return _row(row) if row else None
