"""A watch on one folder through Linux inotify (ctypes, no dependency), that never delays events.

watchdog groups a rename's `IN_MOVED_FROM` with its `IN_MOVED_TO` and holds the first for up to
half a second to do it; the gateway's own claim renames out of the folder made every next
arrival wait behind them. This watch reads the kernel's events as they come and keeps only
what readiness needs: which names were completed by their writer (`IN_CLOSE_WRITE`) or arrived
whole by a rename (`IN_MOVED_TO`), and which were written to since (`IN_MODIFY`, `IN_CREATE`),
which takes that back. Any such event, and a queue overflow, wakes the service at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import threading
from pathlib import Path

IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE
HEADER = struct.Struct("iIII")  # wd, mask, cookie, len; the name follows, NUL-padded

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


class Watch:
    """Events of one folder, read by a thread of its own until `close`."""

    def __init__(self, folder: Path, wake: threading.Event) -> None:
        self.wake = wake
        self.lock = threading.Lock()
        #: Names whose writer closed them, or that were renamed in, and not written to since.
        self.complete: set[str] = set()
        fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.fd = fd
        if _libc.inotify_add_watch(fd, os.fsencode(folder), MASK) < 0:
            errno = ctypes.get_errno()
            os.close(fd)
            raise OSError(errno, f"cannot watch {folder}")
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, name=f"inotify {folder}", daemon=True)
        self.thread.start()

    def completed(self, name: str) -> bool:
        """Whether `name` was completed (closed after writing or renamed in) and left alone since."""
        with self.lock:
            return name in self.complete

    def forget(self, name: str) -> None:
        """Forget a name once it has been claimed (a new file of that name starts afresh)."""
        with self.lock:
            self.complete.discard(name)

    def close(self) -> None:
        """Stop the thread and release the watch."""
        os.write(self.stop_w, b"x")
        self.thread.join(timeout=5)
        for fd in (self.fd, self.stop_r, self.stop_w):
            os.close(fd)

    def _run(self) -> None:
        while True:
            readable, _, _ = select.select([self.fd, self.stop_r], [], [])
            if self.stop_r in readable:
                return
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                continue
            if self._take(data):
                self.wake.set()

    def _take(self, data: bytes) -> bool:
        """Apply a read's events in order; True when one of them may make a file ready."""
        woken = False
        offset = 0
        with self.lock:
            while offset < len(data):
                _, mask, _, length = HEADER.unpack_from(data, offset)
                raw = data[offset + HEADER.size : offset + HEADER.size + length].rstrip(b"\0")
                offset += HEADER.size + length
                name = os.fsdecode(raw)
                if mask & (IN_CLOSE_WRITE | IN_MOVED_TO):
                    self.complete.add(name)
                    woken = True
                elif mask & (IN_MODIFY | IN_CREATE):
                    self.complete.discard(name)
                woken = woken or bool(mask & IN_Q_OVERFLOW)
        return woken
