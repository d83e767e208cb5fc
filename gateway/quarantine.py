"""Quarantine: the operator's inbox of refused files and refused pairs, and what can be done.

Each refused file gets `quarantine/<file_id>/` with the original under its own name, an
`error.json` for scripts and an `error.txt` for people. A target that refused a record of an
accepted file (a pair case) gets `quarantine/<file_id>/<target>/` with the same two reports,
stage `write`, the target named and the remedy; the original stays in the archive. A case is
named by its folder: `<file_id>` or `<file_id>/<target>`. `retry` runs today's pipeline as a
new attempt linked to the old one; `discard` closes the case with a reason.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.canonical.records import RECORD_TYPES
from gateway.config import Config
from gateway.delivery.local import fsync_dir
from gateway.errors import Finding, TransientError
from gateway.findings import Severity
from gateway.ledger.protocol import DeliveryRow, FileLedger, FileRow, now
from gateway.ledger.states import FileState

#: What usually fixes a target's refusal, by finding code; anything else names all three.
REMEDIES = {
    "too_long": "widen the column with the target's `lengths` option, or map the value (`value_map`)",
    "too_many": "route such documents elsewhere ([[route]]), or split them at the source",
    "unencodable": "map the characters with a `value_map`, or choose the target's `encoding`",
    "not_representable": "map the value with a `value_map`, or route such documents elsewhere ([[route]])",
    "unrepresentable": "map the value with a `value_map`, or route such documents elsewhere ([[route]])",
    "no_layout": "route this document type elsewhere ([[route]]), or give the target a layout for it",
    "unsupported_document": "route this document type elsewhere ([[route]])",
}
ANY_REMEDY = "map the value (`value_map`), widen the column (`lengths`), or route the document elsewhere"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def report(row: FileRow, stage: str, findings: list[Finding], fmt: str | None,
           encoding: str | None, keys: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:  # fmt: skip
    """The `error.json` document of a refused file, with the business keys read before the
    refusal (`keys`: [kind, value] pairs) so that a case is found by its order number."""
    return {
        "file_id": row.file_id,
        "source": row.source,
        "original_name": row.original_name,
        "sha256": row.sha256,
        "size": row.size,
        "received_at": row.received_at,
        "quarantined_at": now(),
        "format": None if fmt in (None, "unknown") else fmt,
        "encoding": encoding,
        "stage": stage,
        "retry_of": row.retry_of,
        "keys": [list(k) for k in dict.fromkeys(keys)],
        "errors": [f.to_dict() for f in findings if f.severity is Severity.ERROR],
        "warnings": [f.to_dict() for f in findings if f.severity is Severity.WARNING],
    }


def remedy(target: str, findings: list[Finding]) -> str:
    """What the operator can change so that `target` takes the file, then retry the pair."""
    fixes = list(dict.fromkeys(REMEDIES.get(f.code, ANY_REMEDY) for f in findings)) or [ANY_REMEDY]
    return f"for target {target!r}: " + "; or ".join(fixes)


def _reports(folder: Path, document: dict[str, Any], findings: list[Finding], name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_atomically(folder / "error.json", json.dumps(document, indent=2, ensure_ascii=False))
    lines = [f.render(name) for f in findings]
    if "remedy" in document:
        lines.append(f"remedy: {document['remedy']}")
    _write_atomically(folder / "error.txt", "\n".join(lines) + "\n")


def put(config: Config, row: FileRow, stage: str, findings: list[Finding], fmt: str | None,
        encoding: str | None, keys: Iterable[tuple[str, str]] = ()) -> Path:  # fmt: skip
    """Move the original from work/ into its quarantine folder and write both reports."""
    folder = config.folder("quarantine") / row.file_id
    try:
        _reports(folder, report(row, stage, findings, fmt, encoding, keys), findings, row.original_name)
        if row.work_path and Path(row.work_path).exists():
            os.replace(row.work_path, folder / row.original_name)
        fsync_dir(folder)
    except OSError as exc:
        # A full or read-only state root is not the file's fault: it waits, then is quarantined.
        raise TransientError(f"cannot write the quarantine case {folder}: {exc.strerror}") from exc
    return folder


def put_pair(
    config: Config, row: FileRow, delivery: DeliveryRow, keys: Iterable[tuple[str, str]] = ()
) -> Path:
    """Write the reports of a refused pair (again after a crash: the ledger holds them)."""
    folder = config.folder("quarantine") / row.file_id / delivery.target
    findings = [Finding.from_dict(f) for f in delivery.findings]
    document = {
        **report(row, "write", findings, row.format, row.encoding, keys),
        "target": delivery.target,
        "attempt": delivery.attempt,
        "remedy": remedy(delivery.target, findings),
        "archived": row.detail,
    }
    _reports(folder, document, findings, row.original_name)
    fsync_dir(folder)
    return folder


def close_pair(config: Config, file_id: str, target: str) -> None:
    """A pair went through: its case folder goes (and the file's, when it was the last)."""
    shutil.rmtree(config.folder("quarantine") / file_id / target, ignore_errors=True)
    _drop_if_empty(config.folder("quarantine") / file_id)


def _drop_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


@dataclass(frozen=True)
class Entry:
    """One quarantined file as `quarantine list` shows it."""

    case: str
    file_id: str
    target: str | None
    source: str
    name: str
    stage: str
    errors: int
    first_error: str
    received_at: str
    quarantined_at: str = ""
    codes: tuple[str, ...] = ()
    #: [kind, value] business keys read before the refusal (document numbers, UNB references).
    keys: tuple[tuple[str, str], ...] = ()
    #: The partners the file came from: the senders its envelope keys name.
    partners: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()

    @property
    def code(self) -> str:
        """The code of the first finding, the one the case is listed under."""
        return self.codes[0] if self.codes else ""

    def age_seconds(self, at: datetime) -> float:
        """How long the case has waited at `at`."""
        return (at - datetime.fromisoformat(self.quarantined_at or self.received_at)).total_seconds()


#: Key kinds whose value starts with the sending partner's id (`<sender>:<reference>`).
PARTNER_KEYS = ("unb", "unh", "docnum")


@dataclass(frozen=True)
class Filter:
    """Which cases an operator means; every given criterion must hold. Shared by the command
    line and the web console."""

    source: str | None = None
    partner: str | None = None
    code: str | None = None
    stage: str | None = None
    #: Cases waiting at least this long.
    older_than_seconds: float | None = None
    #: A business key's value, or part of it, in any case (an order number, a UNB reference).
    key: str | None = None

    @property
    def empty(self) -> bool:
        """True when it selects every case."""
        return self == Filter()

    def matches(self, entry: Entry, at: datetime) -> bool:
        """Whether the case is one of those meant."""
        return (
            self.source in (None, entry.source)
            and self.partner in (None, *entry.partners)
            and self.code in (None, *entry.codes)
            and self.stage in (None, entry.stage)
            and (self.older_than_seconds is None or entry.age_seconds(at) >= self.older_than_seconds)
            and (self.key is None or any(self.key.casefold() in value.casefold() for _, value in entry.keys))
        )


def select(config: Config, which: Filter, at: datetime | None = None) -> list[Entry]:
    """The cases in quarantine that `which` selects, oldest first."""
    at = at or datetime.now(UTC)
    return [e for e in entries(config) if which.matches(e, at)]


def entries(config: Config) -> list[Entry]:
    """Every case waiting in quarantine (files and pairs), oldest first."""
    found = []
    root = config.folder("quarantine")
    for report_path in sorted([*root.glob("*/error.json"), *root.glob("*/*/error.json")]):
        doc = json.loads(report_path.read_text(encoding="utf-8"))
        errors = doc.get("errors") or [{}]
        first = Finding.from_dict(errors[0]) if errors[0] else None
        target = doc.get("target")
        keys = tuple((str(k), str(v)) for k, v in doc.get("keys", []))
        found.append(Entry(
            doc["file_id"] if target is None else f"{doc['file_id']}/{target}",
            doc["file_id"], target, doc["source"], doc["original_name"], doc["stage"], len(errors),
            first.render(doc["original_name"]) if first else "", doc["received_at"],
            doc.get("quarantined_at", ""),
            tuple(dict.fromkeys(str(e.get("code")) for e in errors if e)),
            keys,
            tuple(dict.fromkeys(v.split(":")[0] for k, v in keys if k in PARTNER_KEYS)),
            tuple(dict.fromkeys(k for k, _ in keys if k in RECORD_TYPES)),
        ))  # fmt: skip
    return sorted(found, key=lambda e: (e.received_at, e.case))


def split_case(case: str) -> tuple[str, str | None]:
    """`<file_id>` or `<file_id>/<target>` as (file id, target or None)."""
    file_id, _, target = case.partition("/")
    return file_id, target or None


def show(config: Config, case: str) -> dict[str, Any]:
    """The error.json of a case; KeyError when there is none."""
    path = config.folder("quarantine") / case / "error.json"
    if ".." in Path(case).parts or not path.is_file():
        raise KeyError(case)
    return dict(json.loads(path.read_text(encoding="utf-8")))


def take_original(config: Config, ledger: FileLedger, file_id: str) -> tuple[FileRow, Path]:
    """The ledger row and kept original of a quarantined file; KeyError if not quarantined."""
    row = ledger.get(file_id)
    folder = config.folder("quarantine") / file_id
    if row is None or row.state is not FileState.QUARANTINED or not folder.is_dir():
        raise KeyError(file_id)
    return row, folder / row.original_name


def discard(config: Config, ledger: FileLedger, case: str, reason: str) -> Path:
    """Close a case for good; its folder moves to archive/discarded/ (a pair's beside its file's
    id). KeyError when there is no such case."""
    file_id, target = split_case(case)
    if target is None:
        take_original(config, ledger, file_id)
    elif not (config.folder("quarantine") / case / "error.json").is_file():
        raise KeyError(case)
    destination = config.folder("archive") / "discarded" / case
    destination.parent.mkdir(parents=True, exist_ok=True)
    if target is None:
        ledger.discard(file_id, reason)
    else:
        ledger.discard_delivery(file_id, target, reason)
    shutil.move(config.folder("quarantine") / case, destination)
    _drop_if_empty(config.folder("quarantine") / file_id)
    return destination


def close_retried(config: Config, ledger: FileLedger, old: str, new: str) -> None:
    """After a retry has claimed the original: link the attempts and clear the old folder."""
    ledger.retire(old, new)
    shutil.rmtree(config.folder("quarantine") / old, ignore_errors=True)
