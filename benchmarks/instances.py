"""Several `gateway run` processes on one root and one PostgreSQL ledger: the fleet the
multi-instance test kills and restarts, and `gateway bench`'s files/s with 1, 2 and 3 of them.

Each instance is a real process (`python -m gateway run`) with its own log file; a process
that exits on its own (the database went away under it) is started again by `supervise`, as
systemd's `Restart=on-failure` would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COUNTS = (1, 2, 3)
FILES = 600


def adjustment(n: int) -> str:
    """A small, unique canonical inventory adjustment (unique, so never a duplicate)."""
    return f"adjustment_id,sku,mode,quantity_change\nADJ-{n},SKU-{n % 97},delta,{n % 13 - 6}\n"


@dataclass
class Fleet:
    """`size` gateway processes on the configuration `config`, logging into `logs`."""

    config: Path
    root: Path
    logs: Path
    size: int
    once: bool = False
    processes: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    starts: int = 0

    def __post_init__(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.processes = [None] * self.size

    def start(self, i: int) -> None:
        """Start instance `i` (again)."""
        self.starts += 1
        args = [sys.executable, "-m", "gateway", "run", "--config", str(self.config),
                "--root", str(self.root)]  # fmt: skip
        with (self.logs / f"instance-{i}.log").open("ab") as log:
            self.processes[i] = subprocess.Popen(
                [*args, *(["--once"] if self.once else [])], stdout=log, stderr=log,
                env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
            )  # fmt: skip

    def start_all(self) -> None:
        """Start every instance."""
        for i in range(self.size):
            self.start(i)

    def kill(self, i: int) -> None:
        """SIGKILL instance `i`: no warm stop, no cleanup."""
        process = self.processes[i]
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=30)

    def supervise(self) -> list[int]:
        """Start again the instances that exited; their exit codes."""
        codes = []
        for i, process in enumerate(self.processes):
            if process is not None and process.poll() is not None:
                codes.append(process.returncode)
                self.start(i)
        return codes

    def wait(self, timeout: float) -> list[int]:
        """Wait for every instance to exit (`once`); their exit codes."""
        deadline = time.monotonic() + timeout
        return [p.wait(timeout=max(1.0, deadline - time.monotonic())) for p in self.processes if p]

    def stop(self) -> None:
        """Warm-stop every instance (SIGTERM), killing what does not stop in time."""
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for i, process in enumerate(self.processes):
            if process is not None:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.kill(i)


def config_text(root: Path, ledger: str, *, lease: float, extra: str = "") -> str:
    """A configuration: the drop folder `inbound`, the PostgreSQL ledger, fast settling."""
    return (
        f'state_dir = "{root}"\nledger = "{ledger}"\nlease_seconds = {lease}\n'
        '[[source]]\nname = "drop"\npath = "inbound"\nsettle_seconds = 0.05\npoll_seconds = 0.5\n'
        + extra
    )


def _throughput(base: Path, url: str, instances: int, count: int) -> float:
    import psycopg

    root = base / f"root-{instances}"
    (root / "inbound").mkdir(parents=True)
    for n in range(count):
        (root / "inbound" / f"adj-{n:05}.csv").write_text(adjustment(n), encoding="utf-8")
    config = base / f"gateway-{instances}.toml"
    config.write_text(config_text(root, url, lease=10), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "gateway", "ledger", "migrate", "--config", str(config)],
                   check=True, capture_output=True)  # fmt: skip
    fleet = Fleet(config, root, base / f"logs-{instances}", instances, once=True)
    started = time.perf_counter()
    fleet.start_all()
    fleet.wait(timeout=1800)
    elapsed = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM files WHERE state = 'accepted'").fetchone()
    accepted = int(row[0]) if row else 0
    if accepted != count:
        raise RuntimeError(f"{instances} instance(s) accepted {accepted} of {count} files")
    return count / elapsed


def run(count: int = FILES) -> dict[str, Any]:
    """files/s of `gateway run --once` with 1, 2 and 3 instances on one PostgreSQL ledger."""
    from benchmarks.postgres import Postgres, binaries

    found = binaries()
    if found is None:
        return {"workload": "instances on PostgreSQL", "unavailable": "Debian's postgresql is not installed"}
    server = Postgres(found)
    server.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rates = {n: _throughput(Path(tmp), server.database(f"bench{n}"), n, count) for n in COUNTS}
    finally:
        server.remove()
    return {
        "workload": f"{count} small canonical CSV files, `gateway run --once` on one PostgreSQL ledger",
        **{f"files_per_s_{n}_instance{'s' if n > 1 else ''}": round(rate, 1) for n, rate in rates.items()},
        "speedup_3_vs_1": round(rates[3] / rates[1], 2),
    }
