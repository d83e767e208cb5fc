"""Retention: with `retention_days` set, the archive and the ledger's history older than that go.

`archive/YYYY-MM-DD/` folders past the horizon are deleted whole, as are discarded cases in
`archive/discarded/` last touched before it; the ledger forgets files settled before it
(accepted, duplicate, vanished, retried, discarded) with their timelines, keys, outputs,
deliveries and interchanges, after adding their counts to the kept metric tallies. The
quarantine is never pruned: a case waits for an operator however old it is, and each pruning
logs how many cases are older than the horizon so that nobody forgets them.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from gateway.config import Config
from gateway.ledger.ops import parse_time
from gateway.ledger.sqlite import Ledger

log = structlog.get_logger("gateway")

DAY_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Pruned:
    """What one pruning removed, and when the oldest quarantine case (kept however old) came
    when it is older than the horizon."""

    folders: list[str]
    files: int
    old_case_since: str | None


def _old_folders(archive: Path, horizon: datetime) -> list[Path]:
    if not archive.is_dir():
        return []
    found = [d for d in archive.iterdir() if d.is_dir() and DAY_FOLDER.fullmatch(d.name)
             and d.name < horizon.strftime("%Y-%m-%d")]  # fmt: skip
    discarded = archive / "discarded"
    if discarded.is_dir():
        found += [d for d in discarded.iterdir() if d.stat().st_mtime < horizon.timestamp()]
    return sorted(found)


def prune(config: Config, ledger: Ledger, at: datetime | None = None) -> Pruned | None:
    """Apply `retention_days` at `at` (now); None when retention is not configured."""
    days = config.ops.retention_days
    if days is None:
        return None
    horizon = (at or datetime.now(UTC)) - timedelta(days=days)
    folders = _old_folders(config.folder("archive"), horizon)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    files = ledger.prune(horizon.isoformat(timespec="microseconds"))
    _, oldest = ledger.quarantine_age()
    old = oldest if oldest is not None and parse_time(oldest) < horizon else None
    pruned = Pruned([str(f.relative_to(config.state_dir)) for f in folders], files, old)
    log.info("retention_applied", days=days, folders=len(folders), files=files)
    if old:
        log.warning("quarantine_kept", days=days, oldest=old,
                    reason="the quarantine is never pruned: retry or discard its cases")  # fmt: skip
    return pruned
