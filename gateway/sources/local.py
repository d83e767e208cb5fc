"""A local drop folder: inotify for latency, rescans so nothing is ever missed.

Events only wake the loop early and say which files their writer finished; the folder listing
is the truth. That keeps the source right when events are lost (queue overflow, a restart) or
never come (NFS and SMB mounts, where inotify is blind). A file renamed into the folder, one
whose writer closed it, and one whose done-file is there are ready at once; any other waits
for the stability window, of which the time since its last write (its mtime, written by this
machine's clock) has already passed: a file that arrived before the service started is not
made to wait again. On a local
filesystem a file that any process still holds open for writing is never ready, however quiet
it has been: the kernel refuses us a read lease while a writer exists, which catches the
stalled upload that a stability window alone would let through. `readiness = "settle"` keeps
the window for every file, for writers that reopen a file to append to it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import structlog

from gateway.config import SourceConfig
from gateway.errors import FileVanished, SourceUnavailable
from gateway.ledger.sqlite import FileRow, Ledger
from gateway.options import Option, flag, text
from gateway.pipeline.claim import claim, claim_group, finish_claim, readable
from gateway.sources.base import ROUND, Candidate, Readiness, is_ignored, log_refused
from gateway.sources.inotify import Watch

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


class LocalSource:
    """Files dropped into one folder (not recursive)."""

    options: ClassVar[tuple[Option, ...]] = (
        flag("follow_links", False,
             "take symbolic and hard links in the folder; by default they are refused, since"
             " they can make the gateway read and archive a file from anywhere"),
        text("readiness", "events",
             "events: a file renamed in, closed by its writer or with its done-file is ready at"
             " once; settle: every file waits settle_seconds (writers that reopen to append)",
             "events", "settle"),
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
        self.watch: Watch | None = None
        self.refused: dict[str, str] = {}
        self.follow_links = bool(config.options.get("follow_links", False))
        self.events = config.options.get("readiness", "events") == "events"

    def start(self) -> None:
        """Create the folder if needed and watch it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.watch = Watch(self.folder, self.wake)
        except OSError as exc:  # inotify limits: rescans still find everything
            log.warning("watch_failed", source=self.config.name, error=str(exc))

    def stop(self) -> None:
        """Stop watching."""
        if self.watch is not None:
            self.watch.close()
            self.watch = None

    def poll(self) -> list[Candidate]:
        """List the folder, observe every file, return the ready ones oldest first (at most
        ROUND of them: the lease is asked only of those, so a backlog costs linear time)."""
        settled: list[Candidate] = []
        names: list[str] = []
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:
            raise SourceUnavailable(f"cannot list {self.folder}: {exc.strerror}") from exc
        present = {e.name for e in entries}
        refused: dict[str, str] = {}
        wall = time.time()
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
            # Ready at once when its writer finished it (done-file, close, rename in); else the
            # time since its last write (its mtime, by this machine's clock) counts towards the
            # window, and two observations decide the rest.
            quiet = 0.0
            if self.events:
                finished = self.config.done_suffix or (self.watch is not None and self.watch.completed(name))
                quiet = self.readiness.settle if finished else max(0.0, wall - stat.st_mtime)
            if not self.readiness.observe(name, signature, quiet=quiet):
                continue
            settled.append(Candidate(name, entry.path, stat.st_size, stat.st_mtime_ns))
        ready: list[Candidate] = []
        for candidate in sorted(settled, key=lambda c: (c.mtime_ns, c.name)):
            if len(ready) >= ROUND:
                break
            try:
                busy = has_writer(candidate.path)
            except PermissionError as exc:
                # Claiming it would move a file nobody here can read into work/, to sit there.
                refused[readable(candidate.name)] = (
                    f"not readable by the service ({exc.strerror}): left in place until it is"
                )
                continue
            if not busy:
                ready.append(candidate)
        log_refused(self.config.name, self.refused, refused)
        self.refused = refused
        self.readiness.keep_only(names)
        return ready

    def next_due(self) -> float | None:
        """Seconds until the next waiting file could settle."""
        return self.readiness.next_due(skip=self.refused)

    def claim(self, ledger: Ledger, work_dir: Path, candidate: Candidate) -> FileRow:
        """Rename the file into work/ (the ledger row is written first)."""
        self.forget(candidate.name)
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
            self.forget(candidate.name)
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

    def forget(self, name: str) -> None:
        """Forget what was observed of a file being claimed."""
        self.readiness.forget(name)
        if self.watch is not None:
            self.watch.forget(name)

    def resume(self, ledger: Ledger, row: FileRow) -> FileRow:
        """Finish a claim interrupted between the ledger row and the rename."""
        return finish_claim(ledger, row, copy=Path(row.source_path).is_symlink())
