"""Quarantine: the operator's inbox of files that were refused, and what can be done with them.

Each refused file gets `quarantine/<file_id>/` with the original under its own name, an
`error.json` for scripts and an `error.txt` for people. `retry` runs today's pipeline on the kept
original as a new attempt linked to the old one; `discard` closes the case with a reason.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import Config
from gateway.delivery.local import fsync_dir
from gateway.errors import Finding
from gateway.ledger.sqlite import FileRow, Ledger, now


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def report(row: FileRow, stage: str, findings: list[Finding], fmt: str | None,
           encoding: str | None) -> dict[str, Any]:  # fmt: skip
    """The `error.json` document of a refused file."""
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
        "errors": [f.to_dict() for f in findings],
    }


def put(config: Config, row: FileRow, stage: str, findings: list[Finding], fmt: str | None,
        encoding: str | None) -> Path:  # fmt: skip
    """Move the original from work/ into its quarantine folder and write both reports."""
    folder = config.folder("quarantine") / row.file_id
    folder.mkdir(parents=True, exist_ok=True)
    document = report(row, stage, findings, fmt, encoding)
    _write_atomically(folder / "error.json", json.dumps(document, indent=2, ensure_ascii=False))
    lines = [f.render(row.original_name) for f in findings]
    _write_atomically(folder / "error.txt", "\n".join(lines) + "\n")
    if row.work_path and Path(row.work_path).exists():
        os.replace(row.work_path, folder / row.original_name)
    fsync_dir(folder)
    return folder


@dataclass(frozen=True)
class Entry:
    """One quarantined file as `quarantine list` shows it."""

    file_id: str
    source: str
    name: str
    stage: str
    errors: int
    first_error: str
    received_at: str


def entries(config: Config) -> list[Entry]:
    """Every file waiting in quarantine, oldest first."""
    found = []
    root = config.folder("quarantine")
    for report_path in sorted(root.glob("*/error.json")):
        doc = json.loads(report_path.read_text(encoding="utf-8"))
        errors = doc.get("errors") or [{}]
        first = Finding.from_dict(errors[0]) if errors[0] else None
        found.append(Entry(
            doc["file_id"], doc["source"], doc["original_name"], doc["stage"], len(errors),
            first.render(doc["original_name"]) if first else "", doc["received_at"],
        ))  # fmt: skip
    return sorted(found, key=lambda e: (e.received_at, e.file_id))


def show(config: Config, file_id: str) -> dict[str, Any]:
    """The error.json of a quarantined file; KeyError when there is none."""
    path = config.folder("quarantine") / file_id / "error.json"
    if not path.is_file():
        raise KeyError(file_id)
    return dict(json.loads(path.read_text(encoding="utf-8")))


def take_original(config: Config, ledger: Ledger, file_id: str) -> tuple[FileRow, Path]:
    """The ledger row and kept original of a quarantined file; KeyError if not quarantined."""
    row = ledger.get(file_id)
    folder = config.folder("quarantine") / file_id
    if row is None or row.state != "quarantined" or not folder.is_dir():
        raise KeyError(file_id)
    return row, folder / row.original_name


def discard(config: Config, ledger: Ledger, file_id: str, reason: str) -> Path:
    """Close a quarantined file for good; its folder moves to archive/discarded/."""
    take_original(config, ledger, file_id)
    destination = config.folder("archive") / "discarded" / file_id
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(config.folder("quarantine") / file_id, destination)
    ledger.event(file_id, "file_discarded", reason=reason)
    ledger.update(file_id, state="discarded", detail=reason)
    return destination


def close_retried(config: Config, ledger: Ledger, old: str, new: str) -> None:
    """After a retry has claimed the original: link the attempts and clear the old folder."""
    ledger.event(old, "file_retried", new_file_id=new)
    ledger.update(old, state="retried", detail=f"retried as {new}")
    shutil.rmtree(config.folder("quarantine") / old, ignore_errors=True)
