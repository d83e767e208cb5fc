"""The service as a real process: drop files, wait for outcomes, SIGTERM, SIGKILL and restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.ledger.sqlite import SqliteLedger
from gateway.ledger.states import UNFINISHED
from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.service

CONFIG = """
[[source]]
name = "inbound"
settle_seconds = 0.3
poll_seconds = 1
"""


def adjustment(name: str, rows: int = 3) -> str:
    body = "".join(f"{name},SKU-{i},delta,{i}\n" for i in range(rows))
    return "adjustment_id,sku,mode,quantity_change\n" + body


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(name="state")
def _state(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    (tmp_path / "gateway.toml").write_text(CONFIG)
    return root


@pytest.fixture(name="start")
def _start(state: Path) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        # Logs go to a file: a pipe nobody reads would fill up and block the service.
        log = (state.parent / f"service-{len(started)}.log").open("w")
        config = str(state.parent / "gateway.toml")
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", config, "run", "--root", str(state)],
            stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )  # fmt: skip
        started.append(proc)
        ledger = state / "gateway.db"
        wait_for(ledger.exists, what="the ledger")
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def outcomes(state: Path) -> dict[str, str]:
    ledger = SqliteLedger(state / "gateway.db")
    try:
        return {row.original_name: row.state for row in ledger.files()}
    finally:
        ledger.close()


def canonical(state: Path) -> list[Path]:
    folder = state / "outbound" / "canonical"
    return sorted(folder.iterdir()) if folder.exists() else []


class TestLongRunning:
    def test_serves_files_dropped_while_running_and_stops_warmly(
        self, state: Path, start: Callable[[], subprocess.Popen[str]]
    ) -> None:
        """Files dropped into a running service are processed; SIGTERM exits 0 with a log line."""
        proc = start()
        for i in range(3):
            (state / "inbound" / f"a{i}.csv").write_text(adjustment(f"A{i}"))
        (state / "inbound" / "bad.csv").write_bytes(b"\x00\x01binary")
        wait_for(
            # A file still claimed, processing or publishing has no outcome yet.
            lambda: len(outcomes(state)) == 4 and not set(outcomes(state).values()) & set(UNFINISHED),
            what="4 outcomes",
        )
        assert sorted(outcomes(state).values()) == ["accepted"] * 3 + ["quarantined"]
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
        assert proc.returncode == 0
        out = (state.parent / "service-0.log").read_text()
        events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        names = [e["event"] for e in events]
        assert names[-1] == "service_stopped"
        processed = [e for e in events if e["event"] == "file_processed"]
        assert len(processed) == 4
        assert all(e["file_id"] and e["source"] == "inbound" and e["name"] for e in processed)

    def test_a_file_still_open_for_writing_is_never_read_early(
        self, state: Path, start: Callable[[], subprocess.Popen[str]]
    ) -> None:
        """A writer that stalls mid-file for longer than the settle time does not get its half file taken."""
        start()
        path = state / "inbound" / "slow.csv"
        with path.open("w") as writer:
            writer.write("adjustment_id,sku,mode,quantity_change\n")
            writer.write("SLOW,SKU-1,delta,1\nSLOW,SKU-2,de")
            writer.flush()
            time.sleep(2.0)  # well past settle_seconds: only the lease check can hold it back
            assert outcomes(state) == {}
            writer.write("lta,2\n")
        wait_for(lambda: outcomes(state).get("slow.csv") == "accepted", what="slow.csv accepted")
        (out,) = canonical(state)
        record = json.loads(out.read_text())
        assert [line["quantity_change"] for line in record["lines"]] == ["1", "2"]

    def test_second_sigterm_stops_at_once_and_a_restart_finishes(
        self, state: Path, start: Callable[[], subprocess.Popen[str]]
    ) -> None:
        """Cold stop mid-file exits non-zero; the next run completes the file exactly once."""
        proc = start()
        (state / "inbound" / "big.csv").write_text(adjustment("BIG", rows=200_000))
        wait_for(
            lambda: outcomes(state).get("big.csv") in ("processing", "publishing", "accepted"), what="claim"
        )
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        assert proc.returncode in (0, 1)
        result = run_cli("--config", state.parent / "gateway.toml", "run", "--once", "--root", state)
        assert result.returncode == 0, result.stderr
        assert outcomes(state) == {"big.csv": "accepted"}
        (out,) = canonical(state)
        assert len(json.loads(out.read_text())["lines"]) == 200_000


class TestCrash:
    def test_sigkill_mid_batch_then_restart_gives_exactly_one_outcome_each(
        self, state: Path, start: Callable[[], subprocess.Popen[str]]
    ) -> None:
        """Kill -9 in the middle of a batch; after a restart every input has one outcome and one output."""
        names = [f"f{i:03}.csv" for i in range(40)]
        for i, name in enumerate(names):
            content = adjustment(f"D{i}", rows=3000) if i % 7 else "sku,colour\nA,red\n"
            (state / "inbound" / name).write_text(content)
        proc = start()
        wait_for(lambda: len(canonical(state)) >= 5, what="some outputs")
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        result = run_cli("--config", state.parent / "gateway.toml", "run", "--once", "--root", state)
        assert result.returncode == 0, result.stderr
        final = outcomes(state)
        assert sorted(final) == names
        expected_bad = {n for i, n in enumerate(names) if not i % 7}
        assert {n for n, s in final.items() if s == "quarantined"} == expected_bad
        assert {n for n, s in final.items() if s == "accepted"} == set(names) - expected_bad
        published = canonical(state)
        assert not [p for p in published if p.suffix == ".tmp"]
        assert sorted(p.name.split(".")[0] + ".csv" for p in published) == sorted(set(names) - expected_bad)
        for path in published:
            assert len(json.loads(path.read_text())["lines"]) == 3000
        assert not list((state / "work").iterdir())
        assert len(list((state / "quarantine").iterdir())) == len(expected_bad)
