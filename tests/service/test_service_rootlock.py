"""One service per state root: a second `gateway run` is refused with the holder's pid."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli
from tests.waiting import wait_until

pytestmark = pytest.mark.service


def start_service(root: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "run", "--root", str(root)],
            stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
        )  # fmt: skip
    lock = root / "gateway.lock"

    def held() -> bool:
        assert proc.poll() is None, f"the service exited early: {log.read_text()}"
        return lock.exists() and f"pid {proc.pid} " in lock.read_text()

    wait_until(held, what=f"the root lock naming pid {proc.pid}", seen=lambda: log.read_text()[-2000:])
    return proc


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_second_service_on_the_same_root_is_refused(tmp_path: Path, stop: signal.Signals) -> None:
    root = tmp_path / "root"
    first = start_service(root, tmp_path / "first.log")
    try:
        second = run_cli("run", "--once", "--root", root, timeout=60)
        assert second.returncode == 78
        assert f"gateway pid {first.pid} on " in second.stderr
        assert "one service per root" in second.stderr
        status = run_cli("status", "--root", root, timeout=60)
        assert status.returncode == 0, status.stderr
    finally:
        first.send_signal(stop)
        first.wait(timeout=60)
    # The kernel drops the lock with its holder, however it ended: the next start is not blocked.
    again = run_cli("run", "--once", "--root", root, timeout=60)
    assert again.returncode == 0, again.stderr
