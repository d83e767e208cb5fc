"""The ledger's part for operations: the service's heartbeat, the interchanges sent to partners
and their acknowledgements, and the incidents that alerts are sent about.

Kept in the ledger so that every process reads the same answer (`status`, the console,
`/metrics`) and a restart neither forgets an overdue acknowledgement nor alerts twice.

An outbound interchange is `sent`, then `acknowledged` or `rejected` when the partner's answer
arrives, or `overdue` when its due time passes first (a late answer still settles it). An
incident is open from the first time the monitor sees its condition until the condition is
gone; `raised_at` is set once it has lasted its threshold, and `alert_notices` keeps which
channel was told which of `raised` and `cleared`, so each is sent once.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from gateway.ledger import tallies
from gateway.ledger.protocol import now
from gateway.ledger.states import (
    UNFINISHED_DELIVERIES,
    DeliveryState,
    FileState,
    InterchangeState,
    ItemState,
)

F = FileState

OPS_SCHEMA = """
CREATE TABLE IF NOT EXISTS heartbeat (
    root INTEGER PRIMARY KEY CHECK (root = 1),
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    version TEXT NOT NULL,
    since TEXT NOT NULL,
    beat_at TEXT NOT NULL,
    stopped_at TEXT
);
CREATE TABLE IF NOT EXISTS interchanges (
    file_id TEXT NOT NULL,
    target TEXT NOT NULL,
    partner TEXT NOT NULL,
    sender TEXT NOT NULL,
    control_ref TEXT NOT NULL,
    messages TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    due_at TEXT,
    state TEXT NOT NULL,
    ack_file_id TEXT,
    ack_at TEXT,
    detail TEXT,
    PRIMARY KEY (partner, sender, control_ref)
);
CREATE INDEX IF NOT EXISTS interchanges_file ON interchanges(file_id);
CREATE INDEX IF NOT EXISTS interchanges_state ON interchanges(state, due_at);
CREATE TABLE IF NOT EXISTS incidents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    summary TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    raised_at TEXT,
    cleared_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_open ON incidents(kind, key) WHERE cleared_at IS NULL;
CREATE TABLE IF NOT EXISTS alert_notices (
    incident INTEGER NOT NULL REFERENCES incidents(seq),
    channel TEXT NOT NULL,
    event TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (incident, channel, event)
);
""" + tallies.TALLY_SCHEMA



def parse_time(text: str) -> datetime:
    """A ledger time (ISO 8601 UTC) as an aware datetime."""
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Interchange:
    """One interchange the gateway sent to a partner, and what became of it."""

    file_id: str
    target: str
    partner: str
    sender: str
    control_ref: str
    messages: list[dict[str, str]]
    sent_at: str
    due_at: str | None
    state: InterchangeState
    ack_file_id: str | None
    ack_at: str | None
    detail: str | None


@dataclass(frozen=True)
class Incident:
    """Something an operator should know about, open until its condition is gone."""

    seq: int
    kind: str
    key: str
    summary: str
    seen_at: str
    raised_at: str | None
    cleared_at: str | None


class _Db(Protocol):
    db: sqlite3.Connection

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...


def _interchange(row: sqlite3.Row) -> Interchange:
    return Interchange(**{**dict(row), "messages": json.loads(row["messages"]),
                          "state": InterchangeState(row["state"])})  # fmt: skip


class OpsTables:
    """Heartbeat, interchange and incident methods of `SqliteLedger` (a mixin)."""

    # --- the service's heartbeat ------------------------------------------------------------

    def beat(self: _Db, version: str, *, starting: bool = False, stopping: bool = False) -> None:
        """Say that this process serves the root: at start, on every loop, and at a warm stop."""
        at = now()
        with self.transaction() as db:
            if starting:
                db.execute(
                    "INSERT OR REPLACE INTO heartbeat VALUES (1, ?, ?, ?, ?, ?, NULL)",
                    (os.getpid(), socket.gethostname(), version, at, at),
                )
            else:
                db.execute("UPDATE heartbeat SET beat_at = ?, stopped_at = ? WHERE root = 1",
                           (at, at if stopping else None))  # fmt: skip

    def heartbeat(self: _Db) -> dict[str, Any] | None:
        """The last service's pid, host, version, start, last beat and warm stop (if any)."""
        row = self.db.execute("SELECT * FROM heartbeat WHERE root = 1").fetchone()
        return dict(row) if row else None

    # --- interchanges and their acknowledgements ---------------------------------------------

    def interchange_sent(
        self: _Db, file_id: str, target: str, partner: str, sender: str, control_ref: str,
        messages: list[dict[str, str]], due_hours: float | None,
    ) -> None:  # fmt: skip
        """Record an interchange on its way to a partner (again after a crash: no change)."""
        at = now()
        due = None if due_hours is None else (parse_time(at) + timedelta(hours=due_hours)).isoformat()
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO interchanges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)",
                (file_id, target, partner, sender, control_ref, json.dumps(messages), at, due,
                 InterchangeState.SENT),
            )

    def interchange_answered(
        self: _Db,
        partner: str,
        sender: str,
        control_ref: str,
        state: InterchangeState,
        ack_file_id: str,
        detail: str,
    ) -> Interchange | None:
        """Settle a sent (or overdue) interchange with the partner's answer; the interchange, or
        None when the gateway never sent one with this reference to this partner."""
        with self.transaction() as db:
            db.execute(
                "UPDATE interchanges SET state = ?, ack_file_id = ?, ack_at = ?, detail = ?"
                " WHERE partner = ? AND sender = ? AND control_ref = ? AND state IN (?, ?)",
                (state, ack_file_id, now(), detail, partner, sender, control_ref,
                 InterchangeState.SENT, InterchangeState.OVERDUE),
            )
            row = db.execute(
                "SELECT * FROM interchanges WHERE partner = ? AND sender = ? AND control_ref = ?",
                (partner, sender, control_ref),
            ).fetchone()
        return _interchange(row) if row else None

    def mark_overdue(self: _Db, at: str) -> list[Interchange]:
        """Interchanges whose answer is due before `at` and has not come: now overdue."""
        with self.transaction() as db:
            rows = db.execute(
                "UPDATE interchanges SET state = ? WHERE state = ? AND due_at IS NOT NULL AND due_at < ?"
                " RETURNING *",
                (InterchangeState.OVERDUE, InterchangeState.SENT, at),
            ).fetchall()
        return [_interchange(r) for r in rows]

    def interchanges(self: _Db, *states: InterchangeState, file_id: str | None = None) -> list[Interchange]:
        """Sent interchanges in these states (all, without), of one file or every file."""
        where = [f"state IN ({', '.join('?' * len(states))})"] if states else ["1=1"]
        params: list[str] = list(states)
        if file_id is not None:
            where.append("(file_id = ? OR ack_file_id = ?)")
            params += [file_id, file_id]
        rows = self.db.execute(
            f"SELECT * FROM interchanges WHERE {' AND '.join(where)} ORDER BY sent_at",  # noqa: S608
            params,
        )
        return [_interchange(r) for r in rows]

    def ack_summary(self: _Db) -> dict[str, dict[str, int]]:
        """Interchanges by partner and state, for `status`, the console and `/metrics`."""
        found: dict[str, dict[str, int]] = {}
        for partner, state, n in self.db.execute(
            "SELECT partner, state, COUNT(*) FROM interchanges GROUP BY partner, state"
        ):
            found.setdefault(partner, {})[state] = n
        return found

    def note_read(self: _Db, file_id: str, fmt: str | None, keys: list[tuple[str, str]]) -> None:
        """Keep what was read of a file that is not committed (a quarantined one): its format,
        for the metrics, and its business keys, for `trace`; duplicates are judged on accepted
        files' keys only."""
        with self.transaction() as db:
            db.execute("UPDATE files SET format = COALESCE(format, ?) WHERE file_id = ?", (fmt, file_id))
            db.executemany("INSERT OR IGNORE INTO keys (file_id, kind, value) VALUES (?, ?, ?)",
                           [(file_id, k, v) for k, v in keys])  # fmt: skip

    def arrivals(self: _Db, source: str, since: str, until: str) -> list[tuple[str, list[str]]]:
        """Files a source offered in (since, until], retries not counted again: each file's
        name and the kinds of the keys it carried (its document types among them)."""
        rows = self.db.execute(
            "SELECT f.original_name, GROUP_CONCAT(k.kind, ' ') FROM files f LEFT JOIN keys k USING (file_id)"
            " WHERE f.source = ? AND f.received_at > ? AND f.received_at <= ? AND f.state != ?"
            " AND f.retry_of IS NULL GROUP BY f.file_id",
            (source, since, until, FileState.VANISHED),
        )
        return [(r[0], (r[1] or "").split()) for r in rows]

    # --- incidents and the notices sent about them -------------------------------------------

    def incidents(self: _Db, cleared_since: str | None = None) -> list[Incident]:
        """Open incidents, and those cleared after `cleared_since`, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM incidents WHERE cleared_at IS NULL OR cleared_at > ? ORDER BY seq",
            (cleared_since or "9",),
        )
        return [Incident(**dict(r)) for r in rows]

    def incident_seen(self: _Db, kind: str, key: str, summary: str) -> Incident:
        """The open incident of this condition, opened now if there was none."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO incidents (kind, key, summary, seen_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (kind, key, summary, now()),
            )
            row = db.execute(
                "SELECT * FROM incidents WHERE kind = ? AND key = ? AND cleared_at IS NULL", (kind, key)
            ).fetchone()
        return Incident(**dict(row))

    def incident_raised(self: _Db, seq: int) -> None:
        """The incident has lasted its threshold: alerts are due."""
        with self.transaction() as db:
            db.execute("UPDATE incidents SET raised_at = ? WHERE seq = ? AND raised_at IS NULL", (now(), seq))

    def incident_cleared(self: _Db, seq: int) -> None:
        """The incident's condition is gone."""
        with self.transaction() as db:
            db.execute("UPDATE incidents SET cleared_at = ? WHERE seq = ? AND cleared_at IS NULL",
                       (now(), seq))  # fmt: skip

    def notices(self: _Db, seq: int) -> set[tuple[str, str]]:
        """(channel, event) pairs already sent about an incident."""
        rows = self.db.execute("SELECT channel, event FROM alert_notices WHERE incident = ?", (seq,))
        return {(r[0], r[1]) for r in rows}

    def noticed(self: _Db, seq: int, channel: str, event: str) -> None:
        """A channel was told of an incident's `raised` or `cleared`."""
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO alert_notices VALUES (?, ?, ?, ?)",
                       (seq, channel, event, now()))  # fmt: skip

    # --- what /metrics shows ----------------------------------------------------------------

    def tallies(self: _Db) -> tallies.Tally:
        """Files, documents and processing time of every file ever (tallies.py)."""
        return tallies.totals(self.db)

    def last_success(self: _Db) -> dict[str, str]:
        """Per source, when its latest accepted file was accepted."""
        rows = self.db.execute(
            "SELECT f.source, MAX(e.at) FROM files f JOIN events e USING (file_id)"
            " WHERE e.event = 'state_accepted' GROUP BY f.source"
        )
        return {r[0]: r[1] for r in rows}

    def pending(self: _Db) -> dict[str, int]:
        """Per target, outputs on their way (deliveries being written or published) and
        records waiting for a batch."""
        rows = self.db.execute(
            "SELECT target, COUNT(*) FROM deliveries WHERE state IN (?, ?) GROUP BY target"
            " UNION ALL SELECT target, COUNT(*) FROM batch_items WHERE state IN (?, ?) GROUP BY target",
            (*UNFINISHED_DELIVERIES, ItemState.STAGED, ItemState.PENDING),
        )
        found: dict[str, int] = {}
        for target, n in rows:
            found[target] = found.get(target, 0) + n
        return found

    def last_published(self: _Db) -> dict[str, str]:
        """Per target, when its latest share of a file was published."""
        rows = self.db.execute(
            "SELECT target, MAX(at) FROM deliveries WHERE state = ? GROUP BY target",
            (DeliveryState.PUBLISHED,),
        )
        return {r[0]: r[1] for r in rows}

    def quarantine_age(self: _Db) -> tuple[int, str | None]:
        """How many cases wait in quarantine (files and pairs), and since when the oldest."""
        row = self.db.execute(
            "SELECT COUNT(*), MIN(at) FROM (SELECT updated_at AS at FROM files WHERE state = ?"
            " UNION ALL SELECT at FROM deliveries WHERE state = ?) AS cases",
            (FileState.QUARANTINED, DeliveryState.REFUSED),
        ).fetchone()
        return int(row[0]), row[1]

    # --- retention ---------------------------------------------------------------------------

    def prune(self: _Db, before: str) -> int:
        """Forget the history of files settled before `before` (accepted, duplicate, vanished,
        retried, discarded; never a quarantined or unfinished one), with their timeline, keys,
        outputs, deliveries and interchanges, and cleared incidents; the number of files."""
        settled = (F.ACCEPTED, F.DUPLICATE, F.VANISHED, F.RETRIED, F.DISCARDED)
        marks = ", ".join("?" * len(settled))
        with self.transaction() as db:
            ids = [r[0] for r in db.execute(
                f"SELECT file_id FROM files WHERE updated_at < ? AND state IN ({marks})"  # noqa: S608
                " AND file_id NOT IN (SELECT file_id FROM batch_items)"
                " AND file_id NOT IN (SELECT retry_of FROM files WHERE retry_of IS NOT NULL"
                "   AND updated_at >= ?)",
                (before, *settled, before),
            )]  # fmt: skip
            tallies.fold(db, ids)
            for table in ("events", "keys", "outputs", "deliveries", "interchanges"):
                db.executemany(f"DELETE FROM {table} WHERE file_id = ?", [(i,) for i in ids])  # noqa: S608
            db.execute("UPDATE files SET retry_of = NULL WHERE retry_of IN (SELECT value FROM json_each(?))",
                       (json.dumps(ids),))  # fmt: skip
            db.executemany("DELETE FROM files WHERE file_id = ?", [(i,) for i in ids])
            db.execute("DELETE FROM events WHERE file_id IS NULL AND at < ?", (before,))
            old = "SELECT seq FROM incidents WHERE cleared_at < ?"
            db.execute(f"DELETE FROM alert_notices WHERE incident IN ({old})", (before,))  # noqa: S608
            db.execute("DELETE FROM incidents WHERE cleared_at < ?", (before,))
        return len(ids)
