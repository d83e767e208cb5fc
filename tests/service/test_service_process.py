"""The service as a real process: drop files, wait for outcomes, SIGTERM, SIGKILL and restart."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.edifact import orders_interchange
from gateway.ledger.sqlite import now
from tests.conftest import REPO, run_cli
from tests.waiting import file_states, wait_for_final, wait_for_poll, wait_until

pytestmark = pytest.mark.service

SETTLE_SECONDS = 0.3
CONFIG = f"""
[[source]]
name = "inbound"
settle_seconds = {SETTLE_SECONDS}
poll_seconds = 1
"""


def adjustment(name: str, rows: int = 3) -> str:
    body = "".join(f"{name},SKU-{i},delta,{i}\n" for i in range(rows))
    return "adjustment_id,sku,mode,quantity_change\n" + body


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
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # tests wait for log events
        )  # fmt: skip
        started.append(proc)
        ledger = state / "gateway.db"
        wait_until(ledger.exists, what="the service to create its ledger", seen=proc.poll)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def outcomes(state: Path) -> dict[str, str]:
    return file_states(state / "gateway.db")


def log_events(state: Path, run: int = 0) -> list[dict[str, Any]]:
    """The JSON log events of the `run`-th service started in this test, so far."""
    text = (state.parent / f"service-{run}.log").read_text()
    # The last line may still be being written.
    return [json.loads(line) for line in text.splitlines() if line.startswith("{") and line.endswith("}")]


def logged(state: Path, run: int = 0) -> list[str]:
    """The names of those events."""
    return [event["event"] for event in log_events(state, run)]


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
        final = wait_for_final(state / "gateway.db", ["a0.csv", "a1.csv", "a2.csv", "bad.csv"])
        assert final == {**{f"a{i}.csv": "accepted" for i in range(3)}, "bad.csv": "quarantined"}
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        assert proc.returncode == 0
        assert logged(state)[-1] == "service_stopped"
        processed = [e for e in log_events(state) if e["event"] == "file_processed"]
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
            # Two polls settle_seconds apart see the same size and mtime, and a third round has
            # begun, so the second one's claims are done: only the lease check holds it back.
            first = wait_for_poll(state / "gateway.db", "inbound", after=now())
            second = wait_for_poll(state / "gateway.db", "inbound", after=first, gap=SETTLE_SECONDS)
            wait_for_poll(state / "gateway.db", "inbound", after=second)
            assert outcomes(state) == {}
            writer.write("lta,2\n")
        assert wait_for_final(state / "gateway.db", ["slow.csv"]) == {"slow.csv": "accepted"}
        (out,) = canonical(state)
        record = json.loads(out.read_text())
        assert [line["quantity_change"] for line in record["lines"]] == ["1", "2"]

    def test_second_sigterm_stops_at_once_and_a_restart_finishes(
        self, state: Path, start: Callable[[], subprocess.Popen[str]]
    ) -> None:
        """Cold stop mid-file exits non-zero; the next run completes the file exactly once."""
        proc = start()
        (state / "inbound" / "big.csv").write_text(adjustment("BIG", rows=200_000))
        claimed = ("processing", "publishing", "accepted")  # claim() has returned: the file is in work/
        wait_until(lambda: outcomes(state).get("big.csv") in claimed, what="big.csv past its claim",
                   seen=lambda: outcomes(state))  # fmt: skip
        proc.send_signal(signal.SIGTERM)
        # Two signals sent back to back can reach the handler as one (a warm stop that finishes
        # the file first): the second goes once the first has been heard.
        wait_until(lambda: "stop_requested" in logged(state), what="the first SIGTERM heard",
                   seen=lambda: logged(state)[-5:])  # fmt: skip
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        assert proc.returncode in (0, 1)  # 0 when the file was done before the second signal
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
        wait_until(lambda: len(canonical(state)) >= 5, what="5 outputs", seen=lambda: outcomes(state))
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


def children(pid: int) -> list[int]:
    """The reader processes `pid` started."""
    found = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(FileNotFoundError):  # it may have ended since
            if b"gateway.pipeline.readers" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True


class TestReaderProcesses:
    def test_a_killed_reader_is_replaced_without_losing_a_file_and_a_warm_stop_ends_them(
        self, state: Path, start: Callable[[], subprocess.Popen[str]]
    ) -> None:
        """`workers = 1`: SIGKILL the reader process while it reads a 2,000-message interchange;
        the file and the next one are accepted once, complete; SIGTERM ends the new reader too."""
        (state.parent / "gateway.toml").write_text("workers = 1\n" + CONFIG)
        proc = start()
        (first,) = wait_until(lambda: children(proc.pid), what="the reader process")
        big = orders_interchange(2000)
        (state / "inbound" / "big.edi").write_text(big, encoding="latin-1")
        wait_until(lambda: "file_claimed" in logged(state), what="big.edi claimed")
        os.kill(first, signal.SIGKILL)
        (state / "inbound" / "after.edi").write_text(orders_interchange(3).replace("BENCH1", "AFTER1"),
                                                     encoding="latin-1")  # fmt: skip
        final = wait_for_final(state / "gateway.db", ["big.edi", "after.edi"])
        assert final == {"big.edi": "accepted", "after.edi": "accepted"}
        assert "reader_process_died" in logged(state)
        lines = {p.name.split(".")[0]: p.read_text().splitlines() for p in canonical(state)}
        assert len(lines["big"]) == 2000 and len(set(lines["big"])) == 2000
        assert len(lines["after"]) == 3
        (second,) = wait_until(lambda: children(proc.pid), what="the new reader process")
        assert second != first
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        assert proc.returncode == 0
        wait_until(lambda: gone(second), what="the reader to end with the service", timeout=30)
