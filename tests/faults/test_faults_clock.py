"""The wall clock jumps under a running service (libfaketime, preloaded into the real process,
moves CLOCK_REALTIME a day back and a year forward; the monotonic clock is left alone, as on a
host whose NTP steps the time). Settling, batch windows and backoffs run on monotonic time, so
a jump back does not stall a batch and a jump forward does not close one early."""

from __future__ import annotations

import glob
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import unavailable
from tests.faults.mechanisms import Running
from tests.waiting import file_states, wait_for_final, wait_until

pytestmark = pytest.mark.service

WINDOW = 6.0
HEADER = "adjustment_id,sku,mode,quantity_change\n"


def libfaketime() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1") + glob.glob("/usr/lib/faketime/*.so.1"))
    if not found:
        unavailable("libfaketime is missing (tests/run.sh installs the faketime package)")
    return found[0]


def drop(inbound: Path, name: str) -> None:
    (inbound / f"{name}.part").write_text(HEADER + f"{name},SKU-1,delta,1\n")
    (inbound / f"{name}.part").rename(inbound / f"{name}.csv")


def test_wall_clock_jumps_leave_windows_on_time(tmp_path: Path, serve: Callable[..., Running]) -> None:
    root = tmp_path / "root"
    inbound = root / "inbound"
    inbound.mkdir(parents=True)
    clock = tmp_path / "clock"
    clock.write_text("+0\n")
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[[source]]\nname = "inbound"\nsettle_seconds = 0.3\npoll_seconds = 0.2\n'
        '[[target]]\nname = "sheet"\nformat = "jsonl"\ndeliver = "local:outbound/sheet"\n'
        f"batch_window = {WINDOW}\n"
        '[[route]]\ndoc_type = "inventory_adjustment"\nfrom = ["inbound"]\nto = ["sheet"]\n'
    )
    env = {
        "LD_PRELOAD": libfaketime(),
        "FAKETIME_TIMESTAMP_FILE": str(clock),
        "FAKETIME_NO_CACHE": "1",  # read the file on every call: the test moves the clock
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    service = serve(config, root, env=env)
    ledger, outbound = root / "gateway.db", root / "outbound" / "sheet"

    def batches() -> list[Path]:
        return sorted(outbound.glob("*")) if outbound.is_dir() else []

    drop(inbound, "before")
    wait_for_final(ledger, ["before.csv"])
    clock.write_text("-1d\n")  # back a day, with a batch open: a wall-time window would stall
    wait_until(batches, what="the open batch closing after its window, the clock a day back",
               seen=service.tail)  # fmt: skip

    drop(inbound, "after")  # settling is timed on the monotonic clock too
    wait_for_final(ledger, ["after.csv"])
    accepted = time.monotonic()
    clock.write_text("+365d\n")  # a year ahead: a wall-time window would close at once
    time.sleep(2.0)
    assert len(batches()) == 1 and time.monotonic() - accepted < WINDOW, "the window closed early"
    wait_until(lambda: len(batches()) == 2, what="the second batch after its window", seen=service.tail)
    assert service.proc.poll() is None
    ahead = (datetime.now(UTC) + timedelta(days=300)).isoformat()
    assert any(e.get("timestamp", "") > ahead for e in service.events()), "the service never saw the jump"
    assert file_states(ledger) == {"before.csv": "accepted", "after.csv": "accepted"}
    assert service.stop() == 0
    lines = [line for p in batches() for line in p.read_text().splitlines()]
    assert len(lines) == 2
