"""The SQLite ledger's tables, and the steps that upgrade a ledger written by an older gateway.

`PRAGMA user_version` says which steps a file has had: 0 is the schema before deliveries
existed (outputs keyed by file and bare name, so two targets' outputs of the same name
overwrote each other's row). Each step runs in one transaction with its version bump, so an
interrupted upgrade is simply done again on the next open.
"""

from __future__ import annotations

import sqlite3

from gateway.ledger.actions import ACTIONS
from gateway.ledger.batches import BATCH_SCHEMA
from gateway.ledger.ops import OPS_SCHEMA
from gateway.ledger.states import DeliveryState, FileState

FILES = """
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

OUTPUTS = """
CREATE TABLE IF NOT EXISTS outputs (
    file_id TEXT NOT NULL REFERENCES files(file_id),
    target TEXT NOT NULL,
    path TEXT NOT NULL,
    tmp_path TEXT NOT NULL,
    state TEXT NOT NULL,
    records INTEGER NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (file_id, target, path)
);
"""

DELIVERIES = """
CREATE TABLE IF NOT EXISTS deliveries (
    file_id TEXT NOT NULL REFERENCES files(file_id),
    target TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    state TEXT NOT NULL,
    records INTEGER NOT NULL,
    findings TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (file_id, target, attempt)
);
CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries(state);
"""

#: The warnings of a file (findings that did not block it), in the order they were found.
WARNINGS = """
CREATE TABLE IF NOT EXISTS warnings (
    file_id TEXT NOT NULL REFERENCES files(file_id),
    seq INTEGER NOT NULL,
    code TEXT NOT NULL,
    finding TEXT NOT NULL,
    PRIMARY KEY (file_id, seq)
);
"""

#: Version 0 → 1: outputs keyed by target too; one delivery row per (file, target, attempt). A
#: file a crash left publishing gets its deliveries from its intended outputs, so that the next
#: start finishes its renames as it did before.
TO_1 = "\n".join([
    "ALTER TABLE outputs RENAME TO outputs_v0;",
    OUTPUTS,
    "INSERT INTO outputs SELECT * FROM outputs_v0;",
    "DROP TABLE outputs_v0;",
    DELIVERIES,
    f"INSERT INTO deliveries SELECT o.file_id, o.target, 1, '{DeliveryState.PUBLISHING}',"  # noqa: S608 - our constants
    f" SUM(o.records), '[]', MAX(o.at) FROM outputs o JOIN files f USING (file_id)"
    f" WHERE f.state = '{FileState.PUBLISHING}' GROUP BY o.file_id, o.target;",
])  # fmt: skip

#: Version 1 → 2: warnings, a table of their own (nothing to carry over: older files had none).
#: Version 2 → 3: operators' actions (actions.py), each with who asked and why.
#: Version 3 → 4: the operations tables (heartbeat, interchanges and their acknowledgements,
#: incidents and the alert notices sent about them); nothing existing changes.
STEPS = [TO_1, WARNINGS, ACTIONS, OPS_SCHEMA]
#: A new ledger's tables, at the latest version.
FRESH = FILES + OUTPUTS + DELIVERIES + BATCH_SCHEMA + WARNINGS + ACTIONS + OPS_SCHEMA
VERSION = len(STEPS)


def migrate(db: sqlite3.Connection) -> int:
    """Create the tables of a new ledger, or upgrade an older one; the version it had."""
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    fresh = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'files'").fetchone() is None
    if fresh:
        db.executescript(
            f"BEGIN IMMEDIATE; {FRESH} PRAGMA user_version = {VERSION}; COMMIT;"
        )
        return VERSION
    for version in range(found, VERSION):
        try:
            db.executescript(
                f"BEGIN IMMEDIATE; {STEPS[version]} PRAGMA user_version = {version + 1}; COMMIT;"
            )
        except sqlite3.Error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    return found
