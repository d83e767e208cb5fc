"""A local drop folder: inotify (watchdog) for latency, rescans so nothing is ever missed.

Events only wake the loop early; the folder listing is the truth. That keeps the source right
when events are lost (queue overflow, a restart) or never come (NFS and SMB mounts, where
inotify is blind). On a local filesystem a file that any process still holds open for writing
is never ready, however quiet it has been: the kernel refuses us a read lease while a writer
exists, which catches the stalled upload that a stability window alone would let through.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from gateway.config import SourceConfig
from gateway.errors import FileVanished, SourceUnavailable
from gateway.ledger.sqlite import FileRow, Ledger
from gateway.options import Option, flag
from gateway.pipeline.claim import claim, claim_group, finish_claim, readable
from gateway.sources.base import Candidate, Readiness, is_ignored, log_refused

log = structlog.get_logger("gateway")

F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)


def has_writer(path: str) -> bool:
    """True when another process has the file open for writing (Linux read-lease test).

    Where leases are unsupported (not our file without CAP_LEASE, some network filesystems)
    the answer is False and the stability window decides alone. PermissionError when the
    service may not read the file at all.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except PermissionError:
        raise  # the service cannot read it at all: the caller refuses the file
    except OSError:
        return False
    try:
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return exc.errno in (errno.EAGAIN, errno.EBUSY)
    else:
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


class _Wake(FileSystemEventHandler):
    def __init__(self, wake: threading.Event) -> None:
        self.wake = wake

    def on_any_event(self, event: FileSystemEvent) -> None:
        self.wake.set()


class LocalSource:
    """Files dropped into one folder (not recursive)."""

    options: ClassVar[tuple[Option, ...]] = (
        flag("follow_links", False,
             "take symbolic and hard links in the folder; by default they are refused, since"
             " they can make the gateway read and archive a file from anywhere"),
    )  # fmt: skip

    @staticmethod
    def check(options: dict[str, Any]) -> list[str]:
        """Nothing to check."""
        return []

    def __init__(self, config: SourceConfig, wake: threading.Event) -> None:
        self.config = config
        self.folder = config.path
        self.wake = wake
        self.readiness = Readiness(config.settle_seconds)
        self.observer: Any = None
        self.refused: dict[str, str] = {}
        self.follow_links = bool(config.options.get("follow_links", False))

    def start(self) -> None:
        """Create the folder if needed and watch it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            observer = Observer()
            observer.schedule(_Wake(self.wake), str(self.folder), recursive=False)
            observer.start()
            self.observer = observer
        except OSError as exc:  # inotify limits: rescans still find everything
            log.warning("watch_failed", source=self.config.name, error=str(exc))

    def stop(self) -> None:
        """Stop watching."""
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
            self.observer = None

    def poll(self) -> list[Candidate]:
        """List the folder, observe every file, return the ready ones oldest first."""
        ready: list[Candidate] = []
        names: list[str] = []
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:
            raise SourceUnavailable(f"cannot list {self.folder}: {exc.strerror}") from exc
        present = {e.name for e in entries}
        refused: dict[str, str] = {}
        for entry in entries:
            name = entry.name
            if is_ignored(name, self.config):
                continue
            try:
                if not entry.is_file():  # a link to a file counts: it is refused or followed below
                    continue
                stat = entry.stat()
                link = entry.is_symlink()
            except FileNotFoundError:
                continue
            names.append(name)
            if not self.follow_links and (link or stat.st_nlink > 1):
                kind = "a symbolic link" if link else f"a hard link ({stat.st_nlink} names for one file)"
                refused[readable(name)] = f"{kind}: not read, since follow_links is false"
                continue
            if self.config.done_suffix and name + self.config.done_suffix not in present:
                continue
            signature = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
            if not self.readiness.observe(name, signature):
                continue
            try:
                busy = has_writer(entry.path)
            except PermissionError as exc:
                # Claiming it would move a file nobody here can read into work/, to sit there.
                refused[readable(name)] = (
                    f"not readable by the service ({exc.strerror}): left in place until it is"
                )
                continue
            if not busy:
                ready.append(Candidate(name, entry.path, stat.st_size, stat.st_mtime_ns))
        log_refused(self.config.name, self.refused, refused)
        self.refused = refused
        self.readiness.keep_only(names)
        return sorted(ready, key=lambda c: (c.mtime_ns, c.name))

    def next_due(self) -> float | None:
        """Seconds until the next waiting file could settle."""
        return self.readiness.next_due(skip=self.refused)

    def claim(self, ledger: Ledger, work_dir: Path, candidate: Candidate) -> FileRow:
        """Rename the file into work/ (the ledger row is written first)."""
        self.readiness.forget(candidate.name)
        path = Path(candidate.path)
        # A followed symbolic link: its file's content is copied in (renaming would move only
        # the link), then the link goes.
        link = path.is_symlink()
        row = claim(ledger, work_dir, self.config.name, path, candidate.size, candidate.mtime_ns,
                    copy=link)  # fmt: skip
        if link:
            path.unlink(missing_ok=True)
        if self.config.done_suffix:
            Path(candidate.path + self.config.done_suffix).unlink(missing_ok=True)
        return row

    def claim_many(
        self, ledger: Ledger, work_dir: Path, candidates: list[Candidate]
    ) -> list[FileRow | Exception]:
        """`claim` for many ready files at once (group commit), in order: each file's row, or
        why it could not be taken (FileVanished, OSError). Followed links go one by one."""
        links = {c.name for c in candidates if Path(c.path).is_symlink()}
        plain = [c for c in candidates if c.name not in links]
        for candidate in plain:
            self.readiness.forget(candidate.name)
        taken = iter(claim_group(ledger, work_dir, self.config.name,
                                 [(Path(c.path), c.size, c.mtime_ns) for c in plain]))  # fmt: skip
        results: list[FileRow | Exception] = []
        for candidate in candidates:
            if candidate.name in links:
                try:
                    results.append(self.claim(ledger, work_dir, candidate))
                except (FileVanished, OSError) as exc:
                    results.append(exc)
                continue
            result = next(taken)
            if isinstance(result, FileRow) and self.config.done_suffix:
                Path(candidate.path + self.config.done_suffix).unlink(missing_ok=True)
            results.append(result)
        return results

    def resume(self, ledger: Ledger, row: FileRow) -> FileRow:
        """Finish a claim interrupted between the ledger row and the rename."""
        return finish_claim(ledger, row, copy=Path(row.source_path).is_symlink())
