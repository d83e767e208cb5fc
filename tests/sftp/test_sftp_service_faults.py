"""The service as a real process against a real sshd that freezes (SIGSTOP: a hung server) and
goes away (stopped): the other sources keep flowing, the watchdog keeps being fed, `status`
says what is unreachable, and once the server is back every file is fetched and delivered once."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_cli
from tests.waiting import file_states, wait_for_final, wait_until

pytestmark = pytest.mark.service

ADJUSTMENT = "adjustment_id,sku,mode,quantity_change\n{id},SKU-1,delta,1\n"
PRODUCT = "sku,description,uom\n{id},Widget,EA\n"
WATCHDOG_SECONDS = 10.0


class Pings:
    """Every message the service sends on its notify socket, with the (monotonic) time it came."""

    def __init__(self, address: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(address))
        self.sock.settimeout(0.2)
        self.received: list[tuple[float, str]] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while not self.done.is_set():
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            self.received.append((time.monotonic(), message))

    def watchdog_gaps(self, since: float, until: float) -> list[float]:
        """Seconds between consecutive WATCHDOG=1 pings in the period (its ends count as pings)."""
        pinged = [t for t, m in list(self.received) if "WATCHDOG=1" in m and since < t < until]
        return [b - a for a, b in itertools.pairwise([since, *pinged, until])]

    def close(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture(name="pings")
def _pings(tmp_path: Path) -> Iterator[Pings]:
    pings = Pings(tmp_path / "notify.sock")
    yield pings
    pings.close()


def config_text(sshd: Any, remote: Path) -> str:
    server = sshd.server_settings()
    return f"""
[[source]]
name = "partner"
type = "sftp"
{server}remote_dir = "{remote / "in"}"
after = "move:{remote / "done"}"
settle_seconds = 0.1
poll_seconds = 0.2
timeout_seconds = 2

[[source]]
name = "inbound"
path = "inbound"
settle_seconds = 0.1
poll_seconds = 0.2

[[target]]
name = "erp"
format = "jsonl"
deliver = "sftp:partner:{remote / "erp"}"

[[target]]
name = "local"
format = "jsonl"
deliver = "local:outbound/local"

[[route]]
doc_type = "inventory_adjustment"
from = ["partner"]
to = ["erp"]

[[route]]
doc_type = "inventory_adjustment"
from = ["inbound"]
to = ["local"]

[[route]]
doc_type = "product"
from = ["inbound"]
to = ["erp"]
"""


def put(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f".{name}.part").write_text(text)
    (folder / f".{name}.part").rename(folder / name)


def test_hung_then_stopped_server_while_the_service_runs(
    fresh_sshd: Any, remote: Path, tmp_path: Path, pings: Pings
) -> None:
    root, config = tmp_path / "root", tmp_path / "gateway.toml"
    inbound, ledger = root / "inbound", root / "gateway.db"
    config.write_text(config_text(fresh_sshd, remote))
    put(remote / "in", "r0.csv", ADJUSTMENT.format(id="R0"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
           "WATCHDOG_USEC": str(int(WATCHDOG_SECONDS * 1_000_000))}  # fmt: skip
    with (tmp_path / "service.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(config), "run", "--root", str(root)],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO,
        )  # fmt: skip

    def status() -> str:
        return run_cli("--config", config, "status", "--root", root).stdout

    try:
        wait_for_final(ledger, ["r0.csv"])

        # Hung: every connection to the server hangs until its time-out.
        fresh_sshd.signal_all(signal.SIGSTOP)
        frozen = time.monotonic()
        try:
            put(remote / "in", "r1.csv", ADJUSTMENT.format(id="R1"))
            put(inbound, "l1.csv", ADJUSTMENT.format(id="L1"))
            wait_for_final(ledger, ["l1.csv"])  # the local source is served meanwhile
            wait_until(lambda: "partner (sftp, any): UNREACHABLE" in status(), what="partner unreachable")
            assert "r1.csv" not in file_states(ledger)
        finally:
            fresh_sshd.signal_all(signal.SIGCONT)
        thawed = time.monotonic()
        assert max(pings.watchdog_gaps(frozen, thawed)) < WATCHDOG_SECONDS
        wait_for_final(ledger, ["r1.csv"])

        # Gone: the source and the delivery both wait for it.
        fresh_sshd.stop()
        put(remote / "in", "r2.csv", ADJUSTMENT.format(id="R2"))
        put(inbound, "p1.csv", PRODUCT.format(id="P1"))
        wait_until(lambda: "waiting:" in status() and "p1.csv" in status(), what="p1.csv waiting for erp")
        fresh_sshd.start()
        wait_for_final(ledger, ["r2.csv", "p1.csv"])
        assert proc.poll() is None, "the service must not exit for a server that is away"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0
    names = ["r0.csv", "r1.csv", "l1.csv", "r2.csv", "p1.csv"]
    assert file_states(ledger) == dict.fromkeys(names, "accepted")
    delivered = sorted(p.name.split(".")[0] for p in (remote / "erp").iterdir())
    assert delivered == ["p1", "r0", "r1", "r2"]  # each once: nothing lost, nothing doubled
    assert sorted(p.name for p in (remote / "done").iterdir()) == ["r0.csv", "r1.csv", "r2.csv"]
