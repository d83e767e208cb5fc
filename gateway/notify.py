"""systemd's notify protocol, spoken directly: readiness, status, stopping and the watchdog.

Under `Type=notify` systemd sets `NOTIFY_SOCKET`; the service says `READY=1` once recovery is
done and its sources are watched (so `systemctl start` returns when files really flow),
`STOPPING=1` on a warm stop, and `WATCHDOG=1` from its loop and between records, so that
`WatchdogSec=` restarts a service that hangs. Outside systemd every call does nothing. The
protocol is one datagram per message on a Unix socket, which needs no library.
"""

from __future__ import annotations

import os
import socket
import time


class Notifier:
    """Sends state changes to systemd when it listens; silent otherwise."""

    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        # An abstract socket is written with a leading "@" and addressed with a NUL byte.
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = os.environ.get("WATCHDOG_USEC", "")
        self.interval = int(usec) / 2_000_000 if usec.isdigit() and int(usec) > 0 else None
        self.last_ping = 0.0

    def send(self, *fields: str) -> None:
        """Send `KEY=value` lines as one message; a listener that went away is not our problem."""
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(fields).encode(), self.address)
        except OSError:
            return

    def ready(self, status: str) -> None:
        """Recovery is done and sources are watched."""
        self.send("READY=1", f"STATUS={status}")

    def stopping(self) -> None:
        """A warm stop has begun."""
        self.send("STOPPING=1", "STATUS=finishing the file in hand")

    def alive(self) -> None:
        """Tell the watchdog the service still makes progress, at most twice per interval."""
        if self.interval is None:
            return
        now = time.monotonic()
        if now - self.last_ping >= self.interval / 2:
            self.last_ping = now
            self.send("WATCHDOG=1")
