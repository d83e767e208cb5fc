"""Operations tests: a real service process per test, a local webhook receiver on 127.0.0.1,
and the alert notices a file channel collected."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.ops.helpers_ops import Receiver
from tests.waiting import wait_until

Start = Callable[..., subprocess.Popen[str]]


@pytest.fixture(name="start")
def _start(tmp_path: Path) -> Iterator[Start]:
    """Start `gateway run` on a root with a config; stopped (warmly, else killed) afterwards."""
    started: list[subprocess.Popen[str]] = []

    def start(config: Path, root: Path) -> subprocess.Popen[str]:
        log = (tmp_path / f"service-{len(started)}.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(config), "run", "--root", str(root)],
            stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        started.append(proc)
        wait_until(lambda: (root / "gateway.db").exists() or proc.poll() is not None,
                   what="the service to create its ledger", seen=proc.poll)  # fmt: skip
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(name="receiver")
def _receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
