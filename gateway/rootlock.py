"""One service per state root: an exclusive `flock` on `<root>/gateway.lock` while `run` runs.

Two services on one root would each recover the other's in-flight files, record spurious
`vanished` rows and publish twice. The lock is the kernel's, so it is released when the holder
dies however it dies (SIGKILL, OOM), and a stale lock file never blocks a restart. The holder's
pid and host are written into the file so that the refusal can name them. Commands that only
read (`status`, `trace`, `quarantine list`) do not take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
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
        os.pwrite(fd, f"{what} pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
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


def holder(root: Path) -> str | None:
    """Who holds the root's lock now (its pid and host), or None when nobody does."""
    path = root / LOCK_NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
