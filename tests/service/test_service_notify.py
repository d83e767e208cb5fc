"""The service speaks systemd's notify protocol: ready, watchdog pings, stopping."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.notify import Notifier
from tests.conftest import REPO

pytestmark = pytest.mark.service


def receive_until(sock: socket.socket, wanted: str, timeout: float) -> list[str]:
    """Messages received until one holds `wanted` (bounded by `timeout`)."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            message = sock.recv(4096).decode()
        except TimeoutError:
            break
        seen.append(message)
        if wanted in message.splitlines():
            return seen
    raise AssertionError(f"no {wanted} within {timeout}s; got {seen}")


def test_ready_watchdog_and_stopping_from_a_real_process(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    address = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(address))
        env = {**os.environ, "NOTIFY_SOCKET": str(address), "WATCHDOG_USEC": "2000000"}
        log = (tmp_path / "service.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--root", str(root), "run"],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
        )  # fmt: skip
        try:
            ready = receive_until(sock, "READY=1", 30)
            assert any(line.startswith("STATUS=watching 1 source") for m in ready for line in m.splitlines())
            # Idle, the loop still pings at least every half interval.
            started = time.monotonic()
            receive_until(sock, "WATCHDOG=1", 5)
            receive_until(sock, "WATCHDOG=1", 5)
            assert time.monotonic() - started < 5
            proc.send_signal(signal.SIGTERM)
            receive_until(sock, "STOPPING=1", 30)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
            log.close()


def test_outside_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    notifier = Notifier()
    assert (notifier.address, notifier.interval) == ("", None)
    notifier.ready("x")
    notifier.alive()


def test_an_abstract_socket_and_a_listener_that_went_away(tmp_path: Path) -> None:
    name = f"@gateway-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name[1:])
        Notifier(name).ready("up")
        sock.settimeout(5)
        assert sock.recv(100).decode() == "READY=1\nSTATUS=up"
    Notifier(str(tmp_path / "gone.sock")).stopping()  # nobody listens: no error
