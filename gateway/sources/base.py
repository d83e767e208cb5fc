"""What a source is, and the readiness rule every source shares.

A file is ready when its name is not a temporary one, its done-file is there (if the source
uses done-files), and the gateway has seen the same size, mtime and identity on two of its own
observations at least `settle_seconds` apart. Only our own clock is used, per file, so one
slow upload never holds back the others and a server in another time zone changes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import structlog

from gateway.config import SourceConfig
from gateway.ledger.sqlite import FileRow, Ledger
from gateway.options import Option

log = structlog.get_logger("gateway")


#: The most files one poll of a source offers: the rest waits for the next round, so that a
#: burst in one source never starves the others.
ROUND = 100


@dataclass(frozen=True)
class Candidate:
    """A file a source offers: where it is and what it looked like when judged ready."""

    name: str
    path: str
    size: int
    mtime_ns: int


@dataclass
class _Seen:
    signature: tuple[int, int, int]
    since: float


class Readiness:
    """Tracks our observations of each file and says which are stable long enough."""

    def __init__(self, settle_seconds: float) -> None:
        self.settle = settle_seconds
        self.seen: dict[str, _Seen] = {}

    def observe(
        self, name: str, signature: tuple[int, int, int], at: float | None = None, *, quiet: float = 0.0
    ) -> bool:
        """Record one observation (size, mtime, identity); True once it has held `settle` long.
        `quiet`: seconds the source knows the file was left alone before this observation
        (`settle` or more when its writer is known to have finished it)."""
        at = time.monotonic() if at is None else at
        seen = self.seen.get(name)
        if seen is None or seen.signature != signature:
            seen = self.seen[name] = _Seen(signature, at)
        seen.since = min(seen.since, at - quiet)
        return at - seen.since >= self.settle

    def keep_only(self, names: Iterable[str]) -> None:
        """Forget files that are gone."""
        present = set(names)
        for name in [n for n in self.seen if n not in present]:
            del self.seen[name]

    def forget(self, name: str) -> None:
        """Forget a file once it has been claimed."""
        self.seen.pop(name, None)

    def next_due(self, at: float | None = None, skip: Collection[str] = ()) -> float | None:
        """Seconds until the earliest waiting file could be ready, or None if none waits;
        names in `skip` (refused ones) wait for nothing."""
        waiting = [s.since for name, s in self.seen.items() if name not in skip]
        if not waiting:
            return None
        at = time.monotonic() if at is None else at
        return max(0.0, min(waiting) + self.settle - at)


def is_ignored(name: str, config: SourceConfig) -> bool:
    """Temporary names, hidden files and done-files are never inputs."""
    if config.done_suffix and name.endswith(config.done_suffix):
        return True
    return any(fnmatch(name, pattern) for pattern in config.ignore)


def unsafe_name(name: str) -> str | None:
    """Why a listed name cannot be taken as one file of the polled folder, or None if it can.

    A name becomes part of paths in work/, quarantine/ and archive/ and of the remote path read,
    so it must be one plain path component: a server that lists `../../etc/x`, `sub/x.csv` or
    `/abs/x.csv` (hostile or broken) must not make the gateway read or write anywhere else.
    """
    if name in ("", ".", ".."):
        return "not a file name"
    if "/" in name:
        return "holds a path separator: only names inside the polled folder are taken"
    if "\0" in name:
        return "holds a NUL character"
    return None


def log_refused(source: str, before: dict[str, str], now: dict[str, str]) -> None:
    """Log each name refused by this poll that the previous one had not refused yet: once."""
    for name in now.keys() - before.keys():
        log.warning("name_refused", source=source, name=name, reason=now[name])


class Source(Protocol):
    """A place files arrive. **Protocol.**"""

    config: SourceConfig
    #: Names the last poll listed but refused (name → why), for `gateway status` and the log.
    refused: dict[str, str]

    def start(self) -> None:
        """Connect or start watching."""
        ...

    def stop(self) -> None:
        """Release connections and watchers."""
        ...

    def poll(self) -> list[Candidate]:
        """Observe the source; return the files that are ready, oldest first."""
        ...

    def next_due(self) -> float | None:
        """Seconds until a file now waiting could be ready; None when nothing waits."""
        ...

    def claim(self, ledger: Ledger, work_dir: Path, candidate: Candidate) -> FileRow:
        """Take the file into work/ per the durability protocol; FileVanished if it is gone."""
        ...

    def resume(self, ledger: Ledger, row: FileRow) -> FileRow:
        """Finish the claim of a file left in `claimed` state by a crash."""
        ...


@runtime_checkable
class GroupClaiming(Protocol):
    """A source that claims many ready files at once (one transaction and one fsync per
    folder for all of them). **Protocol.**"""

    def claim_many(
        self, ledger: Ledger, work_dir: Path, candidates: list[Candidate]
    ) -> list[FileRow | Exception]:
        """Claim each candidate: its row, or the FileVanished or OSError that stopped it."""
        ...


class SourceKind(Protocol):
    """What a `gateway.sources` entry point names: a source class, by a source's `type`. **Protocol.**"""

    #: The keys of a `[[source]]` of this type beyond the ones every source has.
    options: tuple[Option, ...]

    def __call__(self, config: SourceConfig, wake: threading.Event) -> Source:
        """The source, not yet started."""
        ...

    def check(self, options: dict[str, Any]) -> list[str]:
        """What the declared types cannot say, as `key: problem`; called once those passed."""
        ...
