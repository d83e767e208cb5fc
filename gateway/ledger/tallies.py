"""The ledger's counts for `/metrics`: files and documents by outcome, processing time, what is
waiting, computed by SQL over a set of files.

Counters must never go down, yet retention forgets old files: before the ledger forgets them,
`fold` adds their counts to `tallies` and `totals` adds those back, so every counter survives
both restarts and pruning.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime

from gateway.canonical.records import RECORD_TYPES

TALLY_SCHEMA = """
CREATE TABLE IF NOT EXISTS tallies (
    metric TEXT NOT NULL,
    labels TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (metric, labels)
);
"""

#: Upper bounds of the processing time histogram, in seconds.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
#: The events that end a file's processing.
OUTCOME_EVENTS = ("state_accepted", "state_quarantined", "state_duplicate")
#: (metric, labels) → value.
Tally = dict[tuple[str, tuple[str, ...]], float]
_DOC_TYPES = ", ".join(f"'{t}'" for t in sorted(RECORD_TYPES))


def _files(db: sqlite3.Connection, scope: str, params: tuple[str, ...], found: Tally) -> None:
    for source, fmt, state, n in db.execute(
        f"SELECT source, COALESCE(format, 'unknown'), state, COUNT(*) FROM files"  # noqa: S608 - ours
        f" WHERE file_id IN ({scope}) GROUP BY 1, 2, 3",
        params,
    ):
        found[("files", (source, fmt, state))] = found.get(("files", (source, fmt, state)), 0) + n


def _documents(db: sqlite3.Connection, scope: str, params: tuple[str, ...], found: Tally) -> None:
    """In: the documents of accepted files, by type. Out: each target's records, under the
    file's document type (`mixed` when the file carried several)."""
    kinds = (
        f"SELECT file_id, MIN(kind) AS kind, COUNT(DISTINCT kind) AS n FROM keys"  # noqa: S608 - ours
        f" WHERE kind IN ({_DOC_TYPES}) AND file_id IN ({scope}) GROUP BY file_id"
    )
    rows = db.execute(
        f"SELECT k.kind, 'in', f.state, COUNT(*) FROM keys k JOIN files f USING (file_id)"  # noqa: S608
        f" WHERE k.kind IN ({_DOC_TYPES}) AND k.file_id IN ({scope}) GROUP BY 1, 3"
        f" UNION ALL SELECT CASE WHEN t.n > 1 THEN 'mixed' ELSE t.kind END, 'out', d.state, SUM(d.records)"
        f" FROM deliveries d JOIN ({kinds}) t USING (file_id) GROUP BY 1, 3",
        params * 2,
    )
    for doc_type, direction, outcome, n in rows:
        key = ("documents", (doc_type, direction, outcome))
        found[key] = found.get(key, 0) + (n or 0)


def _seconds(db: sqlite3.Connection, scope: str, params: tuple[str, ...], found: Tally) -> None:
    # The seconds are counted here rather than in SQL: the two engines share no date arithmetic.
    outcomes = ", ".join(f"'{e}'" for e in OUTCOME_EVENTS)
    rows = db.execute(
        f"SELECT f.received_at, MIN(e.at) FROM files f JOIN events e USING (file_id)"  # noqa: S608 - ours
        f" WHERE e.event IN ({outcomes}) AND f.file_id IN ({scope}) GROUP BY f.file_id, f.received_at",
        params,
    ).fetchall()
    spans = [(datetime.fromisoformat(ended) - datetime.fromisoformat(received)).total_seconds()
             for received, ended in rows]  # fmt: skip
    found[("seconds_count", ())] = found.get(("seconds_count", ()), 0) + len(spans)
    found[("seconds_sum", ())] = found.get(("seconds_sum", ()), 0) + sum(spans)
    for bound in BUCKETS:
        key = ("seconds_bucket", (str(bound),))
        found[key] = found.get(key, 0) + sum(1 for span in spans if span <= bound)


def count(
    db: sqlite3.Connection, scope: str = "SELECT file_id FROM files", params: tuple[str, ...] = ()
) -> Tally:
    """Files, documents and processing seconds of the files `scope` selects."""
    found: Tally = {}
    for part in (_files, _documents, _seconds):
        part(db, scope, params, found)
    return found


def fold(db: sqlite3.Connection, file_ids: Iterable[str]) -> None:
    """Add the counts of files about to be forgotten to the kept tallies (in the caller's
    transaction)."""
    doomed = count(db, "SELECT value FROM json_each(?)", (json.dumps(list(file_ids)),))
    db.executemany(
        "INSERT INTO tallies VALUES (?, ?, ?)"
        " ON CONFLICT(metric, labels) DO UPDATE SET value = tallies.value + excluded.value",
        [(metric, json.dumps(labels), value) for (metric, labels), value in doomed.items()],
    )


def totals(db: sqlite3.Connection) -> Tally:
    """The counts of every file the ledger ever held: those it holds plus the folded ones."""
    found = count(db)
    for metric, labels, value in db.execute("SELECT metric, labels, value FROM tallies"):
        key = (metric, tuple(json.loads(labels)))
        found[key] = found.get(key, 0) + value
    return found
