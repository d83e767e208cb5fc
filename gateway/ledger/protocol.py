"""What the gateway asks of durable storage: the `Ledger` protocol and the rows it returns.

The protocol is four roles: `FileLedger` (claims, a file's single outcome, its deliveries
per target, its outputs), `BatchLedger` (records waiting for a batch, batches), `OpsLedger`
(heartbeat, acknowledgements, incidents, retention: ops.py) and `LedgerView` (what `status`
and `trace` read). Every method is one transaction, and every
method that changes a state is one move of states.py, refused when it is not allowed.
`SqliteLedger` (sqlite.py) implements it for one instance; `PostgresLedger` (postgres.py) runs
the same methods on PostgreSQL, for one instance or several that `join` to share the work.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gateway.ledger.states import BatchState, DeliveryState, FileState, InterchangeState, OutputState

if TYPE_CHECKING:
    from gateway.ledger.actions import ActionRow
    from gateway.ledger.activity import Activity
    from gateway.ledger.ops import Incident, Interchange


def now() -> str:
    """A ledger time: ISO 8601 UTC with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_file_id() -> str:
    """A sortable, unique id for a file or a batch: arrival time to the second plus 48 random
    bits (the same in every implementation, so ids never collide across a migration)."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(6)


@dataclass(frozen=True)
class FileRow:
    """One file as the ledger knows it."""

    file_id: str
    source: str
    original_name: str
    source_path: str
    work_path: str | None
    size: int | None
    mtime_ns: int | None
    sha256: str | None
    format: str | None
    encoding: str | None
    state: FileState
    stage: str | None
    records: int | None
    detail: str | None
    retry_of: str | None
    received_at: str
    updated_at: str


def file_row(row: Mapping[str, Any]) -> FileRow:
    """A `files` row (by column name) as the protocol's type."""
    return FileRow(**{**dict(row), "state": FileState(row["state"])})


@dataclass(frozen=True)
class OutputRow:
    """One outbound file of a processed input, for one target."""

    file_id: str
    target: str
    path: str
    tmp_path: str
    state: OutputState
    records: int
    at: str


@dataclass(frozen=True)
class DeliveryRow:
    """One attempt at one target's share of an accepted file (a pair case when refused)."""

    file_id: str
    target: str
    attempt: int
    state: DeliveryState
    records: int
    findings: list[dict[str, Any]]
    at: str


@dataclass(frozen=True)
class Share:
    """What one target made of a file's records: `PUBLISHING` (its outputs are staged and
    synced), `BATCHED` (its records wait for the target's batch) or `REFUSED` (`findings` say
    why; its outputs and batch records are dropped)."""

    target: str
    state: DeliveryState
    records: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Commit:
    """A file whose canonical records are durable: its facts and every target's share."""

    format: str | None
    encoding: str | None
    records: int
    keys: list[tuple[str, str]]
    shares: list[Share]
    #: The file's warnings, each in `error.json`'s shape.
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class BatchRow:
    """One batch of a target."""

    batch_id: str
    target: str
    state: BatchState
    records: int
    first_at: str
    closed_at: str
    published_at: str | None


@dataclass(frozen=True)
class Backlog:
    """The records of a target waiting for their batch to close."""

    records: int
    first_at: str | None


class Peers(Protocol):
    """The instances sharing a ledger, as this one sees them (instances.py). **Protocol.**"""

    instance: str
    alone: bool

    def holds(self, role: str) -> bool: ...


class FileLedger(Protocol):
    """Files, their deliveries and outputs: what the pipeline and the service use. **Protocol.**"""

    # A file's moves (states.py): one method each.
    def claim(self, source: str, name: str, source_path: str, size: int, mtime_ns: int,
              work_dir: Path, retry_of: str | None = None) -> FileRow: ...  # fmt: skip
    def drop_claim(self, file_id: str) -> None: ...
    def start(self, file_id: str, sha256: str, size: int) -> FileRow: ...
    def vanish(self, file_id: str, detail: str | None = None) -> None: ...
    def commit(self, file_id: str, commit: Commit) -> None: ...
    def accept(self, file_id: str, archived: str | None) -> None: ...
    def quarantine(self, file_id: str, stage: str, errors: list[dict[str, Any]], folder: str,
                   encoding: str | None) -> None: ...  # fmt: skip
    def duplicate(self, file_id: str, same_as: str, what: str) -> None: ...
    def retire(self, file_id: str, new_file_id: str) -> None: ...
    def discard(self, file_id: str, reason: str) -> None: ...
    def archived(self, file_id: str, path: str | None) -> None: ...
    # Reading files
    def get(self, file_id: str) -> FileRow | None: ...
    def files(self, *states: FileState, unarchived: bool = False) -> list[FileRow]: ...
    def fetched(self, source: str, name: str, source_path: str, size: int,
                mtime_ns: int) -> FileRow | None: ...  # fmt: skip
    def accepted_with_sha(self, sha256: str, exclude: str) -> str | None: ...
    def accepted_with_key(self, kind: str, value: str, exclude: str) -> str | None: ...
    # A target's share of a file (a delivery) and its outputs
    def stage_output(self, file_id: str, target: str, path: str, tmp_path: str) -> None: ...
    def outputs(self, file_id: str, target: str | None = None) -> list[OutputRow]: ...
    def forget_staged(self, file_id: str, target: str | None = None) -> None: ...
    def deliveries(self, *states: DeliveryState, file_id: str | None = None) -> list[DeliveryRow]: ...
    def retry_delivery(self, file_id: str, target: str) -> DeliveryRow: ...
    def deliver(self, file_id: str, share: Share) -> None: ...
    def delivered(self, file_id: str, target: str) -> None: ...
    def discard_delivery(self, file_id: str, target: str, reason: str) -> None: ...
    # The rest
    def event(self, file_id: str | None, event: str, **detail: Any) -> None: ...
    def next_sequence(self, name: str) -> int: ...
    def source_seen(self, name: str, *, reachable: bool, error: str | None = None) -> None: ...
    # Sharing the work with other instances (None, and every file its own, on SQLite)
    def join(self, lease_seconds: float) -> Peers | None: ...
    def take(self, file_id: str) -> bool: ...
    def verify(self) -> None: ...
    def close(self) -> None: ...
    # Group commit: the methods called inside commit as one transaction, all or nothing.
    def group(self) -> AbstractContextManager[None]: ...


class BatchLedger(Protocol):
    """Records of batched targets and their batches (batches.py). **Protocol.**"""

    def stage_items(self, file_id: str, target: str, records: list[str], at: str) -> None: ...
    def backlogs(self) -> dict[str, Backlog]: ...
    def close_batch(self, batch_id: str, target: str, limit: int | None, at: str) -> BatchRow | None: ...
    def batches(self, *states: BatchState) -> list[BatchRow]: ...
    def batch_records(self, batch_id: str, chunk: int = ...) -> Iterator[tuple[int, str, str]]: ...
    def set_aside(self, batch_id: str, deferred: list[int], refused: list[int]) -> None: ...
    def requeue_refused(self, target: str) -> int: ...
    def stage_batch_output(self, batch_id: str, target: str, path: str, tmp: str) -> None: ...
    def batch_outputs(self, batch_id: str) -> list[tuple[str, str, OutputState]]: ...
    def forget_batch_outputs(self, batch_id: str) -> None: ...
    def intend_batch(self, batch_id: str) -> None: ...
    def publish_batch(self, batch_id: str, at: str, events: list[tuple[str, str]]) -> None: ...


class LedgerView(Protocol):
    """What `gateway status` and `gateway trace` read. **Protocol.**"""

    def find(self, query: str) -> list[FileRow]: ...
    def events(self, file_id: str) -> list[tuple[str, str, dict[str, Any]]]: ...
    def keys(self, file_id: str) -> list[tuple[str, str]]: ...
    def counts(self) -> dict[str, dict[str, int]]: ...
    def warnings(self, file_id: str) -> list[dict[str, Any]]: ...
    def warning_counts(self) -> dict[str, dict[str, int]]: ...
    def source_rows(self) -> dict[str, dict[str, Any]]: ...
    def batch(self, batch_id: str) -> BatchRow | None: ...
    def batch_files(self, batch_id: str) -> list[str]: ...
    def file_batches(self, file_id: str) -> list[tuple[str, str, int]]: ...
    def refused_items(self, target: str) -> int: ...


class ActionLedger(Protocol):
    """Operators' retries and discards, with who asked and why (actions.py). **Protocol.**"""

    def request_action(self, case_id: str, action: str, who: str, reason: str) -> int: ...
    def pending_actions(self) -> list[ActionRow]: ...
    def finish_action(self, seq: int, *, ok: bool, result: str) -> None: ...
    def actions(self, file_id: str | None = None) -> list[ActionRow]: ...
    def action(self, seq: int) -> ActionRow | None: ...


class ConsoleView(Protocol):
    """What the console's overviews read besides `LedgerView` (activity.py). **Protocol.**"""

    def latest(self, limit: int) -> list[FileRow]: ...
    def source_activity(self) -> list[Activity]: ...
    def partner_activity(self) -> list[Activity]: ...


class OpsLedger(Protocol):
    """Heartbeat, interchanges and their acknowledgements, incidents, retention. **Protocol.**"""

    def beat(self, version: str, *, starting: bool = False, stopping: bool = False) -> None: ...
    def heartbeat(self) -> dict[str, Any] | None: ...
    def interchange_sent(self, file_id: str, target: str, partner: str, sender: str, control_ref: str,
                         messages: list[dict[str, str]], due_hours: float | None) -> None: ...  # fmt: skip
    def interchange_answered(self, partner: str, sender: str, control_ref: str, state: InterchangeState,
                             ack_file_id: str, detail: str) -> Interchange | None: ...  # fmt: skip
    def mark_overdue(self, at: str) -> list[Interchange]: ...
    def interchanges(self, *states: InterchangeState, file_id: str | None = None) -> list[Interchange]: ...
    def ack_summary(self) -> dict[str, dict[str, int]]: ...
    def note_read(self, file_id: str, fmt: str | None, keys: list[tuple[str, str]]) -> None: ...
    def arrivals(self, source: str, since: str, until: str) -> list[tuple[str, list[str]]]: ...
    def incidents(self, cleared_since: str | None = None) -> list[Incident]: ...
    def incident_seen(self, kind: str, key: str, summary: str) -> Incident: ...
    def incident_raised(self, seq: int) -> None: ...
    def incident_cleared(self, seq: int) -> None: ...
    def notices(self, seq: int) -> set[tuple[str, str]]: ...
    def noticed(self, seq: int, channel: str, event: str) -> None: ...
    def tallies(self) -> dict[tuple[str, tuple[str, ...]], float]: ...
    def last_success(self) -> dict[str, str]: ...
    def pending(self) -> dict[str, int]: ...
    def last_published(self) -> dict[str, str]: ...
    def quarantine_age(self) -> tuple[int, str | None]: ...
    def prune(self, before: str) -> int: ...


class Ledger(FileLedger, BatchLedger, OpsLedger, LedgerView, ActionLedger, ConsoleView, Protocol):
    """Everything the gateway keeps durably. **Protocol.**"""
