"""The ledger's part for the console's overviews: the latest files, and per source and per
partner when a file last came, when one was last accepted and how many wait in quarantine.

A partner is the sender its envelope named, kept in the business keys as `sender:reference`
(EDIFACT UNB, IDoc DOCNUM); files without an envelope (CSV, most XML) count for their source.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Protocol

from gateway.ledger.protocol import FileRow, file_row
from gateway.ledger.states import FileState

#: Keys whose value starts with the sender's id.
SENDER_KEYS = ("unb", "docnum")


@dataclass(frozen=True)
class Activity:
    """When a source or partner last sent a file, was last accepted, and its open refusals."""

    name: str
    files: int
    last_received: str | None
    last_accepted: str | None
    quarantined: int


class _Db(Protocol):
    db: sqlite3.Connection


_TOTALS = (
    "COUNT(*), MAX(f.received_at), MAX(CASE WHEN f.state = ? THEN f.updated_at END),"
    " SUM(CASE WHEN f.state = ? THEN 1 ELSE 0 END)"
)


class ActivityTables:
    """Overview methods of `SqliteLedger` (a mixin over its connection)."""

    def latest(self: _Db, limit: int) -> list[FileRow]:
        """The files received last, newest first."""
        rows = self.db.execute(
            "SELECT * FROM files ORDER BY received_at DESC, file_id DESC LIMIT ?", (limit,)
        )
        return [file_row(r) for r in rows]

    def source_activity(self: _Db) -> list[Activity]:
        """Per source that ever sent a file."""
        rows = self.db.execute(
            f"SELECT f.source, {_TOTALS} FROM files f GROUP BY f.source ORDER BY f.source",  # noqa: S608
            (FileState.ACCEPTED, FileState.QUARANTINED),
        )
        return [Activity(r[0], r[1], r[2], r[3], r[4] or 0) for r in rows]

    def partner_activity(self: _Db) -> list[Activity]:
        """Per partner named by an envelope."""
        marks = ", ".join("?" * len(SENDER_KEYS))
        rows = self.db.execute(
            f"SELECT p.partner, {_TOTALS} FROM (SELECT DISTINCT file_id,"  # noqa: S608 - our constants
            " substr(value, 1, instr(value, ':') - 1) AS partner FROM keys"
            f" WHERE kind IN ({marks}) AND instr(value, ':') > 1) p JOIN files f USING (file_id)"
            " GROUP BY p.partner ORDER BY p.partner",
            (FileState.ACCEPTED, FileState.QUARANTINED, *SENDER_KEYS),
        )
        return [Activity(r[0], r[1], r[2], r[3], r[4] or 0) for r in rows]
