"""One service per state root: an exclusive `flock` on `<root>/gateway.lock` while `run` runs.

Two services on one root would each recover the other's in-flight files, record spurious
`vanished` rows and publish twice. The lock is the kernel's, so it is released when the holder
dies however it dies (SIGKILL, OOM), and a stale lock file never blocks a restart. The holder's
pid, host and start time are written into the file so that the refusal can name them, and
`holder` tells `status` whether a service holds the root without touching the lock: it reads
the kernel's table of locks (/proc/locks). Commands that only read (`status`, `trace`,
`quarantine list`) do not take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from gateway.errors import ConfigError

LOCK_NAME = "gateway.lock"


def _lock(root: Path) -> int:
    root.mkdir(parents=True, exist_ok=True)
    return os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _take(fd: int, what: str) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    # The holder's name only improves a refusal: a full disk must not stop the start for it.
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.pwrite(fd, f"{what} pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode(), 0)
    return True


@contextmanager
def hold(root: Path) -> Iterator[None]:
    """Hold the root's lock for the duration, or raise `ConfigError` naming the holder."""
    fd = _lock(root)
    try:
        if not _take(fd, "gateway"):
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise ConfigError([
                f"state root {root} is in use by {holder}: one service per root; stop it first "
                "(status, trace and quarantine commands work while it runs)"
            ]) from None  # fmt: skip
        yield
    finally:
        os.close(fd)


@contextmanager
def attempt(root: Path, what: str) -> Iterator[bool]:
    """Hold the root's lock if no service does (True inside), else hold nothing (False): an
    operator's action is done at once with no service, and handed to the running one else."""
    fd = _lock(root)
    try:
        yield _take(fd, what)
    finally:
        os.close(fd)


def _locked(path: Path, locks: Path) -> bool:
    """Whether the kernel lists a flock on the file at `path`."""
    stat = path.stat()
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    for line in locks.read_text().splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 4242 08:01:131 0 EOF"; a blocked waiter's line has "->".
        if "->" not in fields and len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device:
            return True
    return False


def holder(root: Path, locks: Path = Path("/proc/locks")) -> dict[str, str] | None:
    """Who holds the root's lock: {pid, host, since} as the holder wrote them; None when no
    process holds it (nothing is locked or changed by asking)."""
    path = root / LOCK_NAME
    try:
        if not _locked(path, locks):
            return None
        words = path.read_text(encoding="utf-8", errors="replace").split()
    except FileNotFoundError:
        return None
    # "gateway pid 4242 on host since 2026-12-07T09:00:00+00:00" ("gateway retry by who pid …"
    # while an operator's action holds it)
    return {name: _after(words, key) for name, key in (("pid", "pid"), ("host", "on"), ("since", "since"))}


def _after(words: list[str], key: str) -> str:
    at = len(words) - 1 - words[::-1].index(key) if key in words else len(words)
    return words[at + 1] if at + 1 < len(words) else "?"
