"""Latency and start-up: from a file renamed into inbound/ to its published output, and the CLI.

A real `gateway run` with the default configuration (no config file) serves a fresh root while
files arrive at a steady rate, each written beside the folder and renamed in, as a careful
sender does. An inotify watch on the canonical output folder (the gateway's own `Watch`) times
each publication; the latency of a file is from just before its rename to its output's rename.
Start-up is the whole process (`gateway --help`, `gateway status`) beside the bare interpreter
(`python -c pass`), median of a few runs each, alternated.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks import adjustment_csv
from gateway.sources.inotify import Watch

RATE = 5.0
FILES = 100
TIMEOUT = 60.0
STARTS = 5


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _published(
    watch: Watch, wake: threading.Event, stems: set[str], done: dict[str, float], timeout: float = 0.5
) -> None:
    """Wait up to `timeout` for outputs; record when each awaited one appeared (its name starts
    with the input's stem)."""
    wake.wait(timeout)
    wake.clear()
    at = time.perf_counter()
    with watch.lock:
        names = list(watch.complete)
    for name in names:
        stem = name.split(".", 1)[0]
        if stem in stems and stem not in done:
            done[stem] = at


def latency(count: int = FILES, rate: float = RATE) -> dict[str, Any]:
    """p50/p95/p99 milliseconds from rename into inbound/ to the published canonical output."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        outbound = root / "outbound" / "canonical"
        outbound.mkdir(parents=True)
        (root / "inbound").mkdir()
        staging = Path(tmp) / "staging"
        staging.mkdir()
        wake = threading.Event()
        watch = Watch(outbound, wake)
        log = (Path(tmp) / "service.log").open("w")
        service = subprocess.Popen([sys.executable, "-m", "gateway", "--root", str(root), "run"],
                                   stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        sent: dict[str, float] = {}
        done: dict[str, float] = {}
        try:
            # The first file waits for the service to start; it is not counted.
            for i in range(count + 1):
                stem = f"lat{i:05}"
                path = staging / f"{stem}.csv"
                path.write_text(adjustment_csv(stem.upper(), 3))
                due = time.perf_counter() if i < 2 else sent[f"lat{i - 1:05}"] + 1 / rate
                while (now := time.perf_counter()) < due:
                    _published(watch, wake, set(sent), done, due - now)
                sent[stem] = time.perf_counter()
                os.rename(path, root / "inbound" / path.name)
                if i == 0:
                    deadline = time.perf_counter() + TIMEOUT
                    while stem not in done and time.perf_counter() < deadline:
                        _published(watch, wake, {stem}, done)
            deadline = time.perf_counter() + TIMEOUT
            while len(done) < len(sent) and time.perf_counter() < deadline:
                _published(watch, wake, set(sent), done)
        finally:
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=TIMEOUT)
            log.close()
            watch.close()
    millis = [(done[s] - sent[s]) * 1000 for s in sent if s in done and s != "lat00000"]
    return {
        "workload": f"{count} canonical CSV files renamed into inbound/ at {rate:g} files/s,"
                    " default config, `gateway run`: rename to published output",
        "published": len(millis),
        "p50_ms": round(_percentile(millis, 0.50), 1),
        "p95_ms": round(_percentile(millis, 0.95), 1),
        "p99_ms": round(_percentile(millis, 0.99), 1),
        "max_ms": round(max(millis), 1),
    }  # fmt: skip


def _seconds(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


def startup(runs: int = STARTS) -> dict[str, Any]:
    """Median wall time of `gateway --help` and `gateway status` beside `python -c pass`."""
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "python_c_pass": [sys.executable, "-c", "pass"],
            "gateway_help": [sys.executable, "-m", "gateway", "--help"],
            "gateway_status": [sys.executable, "-m", "gateway", "--root", tmp, "status"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(_seconds(argv))
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    return {
        "workload": f"start-up of the whole process, median of {runs} alternated runs",
        **{f"{name}_ms": round(ms, 1) for name, ms in median.items()},
        "help_vs_python": round(median["python_c_pass"] / median["gateway_help"], 3),
        "status_vs_python": round(median["python_c_pass"] / median["gateway_status"], 3),
    }
