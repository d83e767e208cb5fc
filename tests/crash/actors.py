"""The crash harness's actors: the service under SIGKILL, a feeder, a consumer, an unreliable sshd.

Each actor is a thread (or, for the service, a process) that the test starts and joins; each
keeps a record of what it did, which the invariants (invariants.py) compare with the ledger
and the folders afterwards. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.sshd import Sshd
from tests.conftest import REPO
from tests.crash.corpus import Input

#: How long a stopped process may take to go, and a started one to create its ledger.
PROCESS_TIMEOUT = 60.0


def is_temporary(name: str) -> bool:
    """A name a consumer must not touch: the gateway's `x.tmp` here, `.x.tmp` on SFTP."""
    return name.startswith(".") or name.endswith(".tmp")


class Service:
    """`gateway run` as a real process, started again after every kill; one log file per run."""

    def __init__(self, config: Path, root: Path, logs: Path) -> None:
        self.config, self.root, self.logs = config, root, logs
        self.logs.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self) -> None:
        with (self.logs / f"run-{self.runs:03d}.log").open("wb") as log:
            command = ["-m", "gateway", "--config", str(self.config), "run", "--root", str(self.root)]
            self.process = subprocess.Popen(
                [sys.executable, *command], stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        self.runs += 1

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, no buffer is flushed, the ledger sees nothing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=PROCESS_TIMEOUT)

    def stop(self) -> int:
        """A warm stop (SIGTERM); the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=PROCESS_TIMEOUT)

    def last_log(self) -> str:
        return (self.logs / f"run-{self.runs - 1:03d}.log").read_text(errors="replace")[-4000:]


class Actor(threading.Thread):
    """A thread that runs `step` until told to stop, and keeps its first exception for the test."""

    def __init__(self, name: str, interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def step(self) -> bool:
        """One round; False when the actor has nothing more to do."""
        raise NotImplementedError

    def run(self) -> None:
        try:
            while not self.halt.is_set() and self.step():
                self.halt.wait(self.interval)
        except BaseException as exc:  # reported by finish(), in the test's thread
            self.error = exc

    def finish(self, timeout: float = PROCESS_TIMEOUT) -> None:
        """Stop after the current round and re-raise what went wrong in the thread."""
        self.halt.set()
        self.join(timeout)
        assert not self.is_alive(), f"{self.name} did not stop"
        if self.error is not None:
            raise self.error


@contextmanager
def running(*actors: Actor) -> Iterator[None]:
    """The actors started for the block and told to stop after it, even when it fails."""
    for actor in actors:
        actor.start()
    try:
        yield
    finally:
        for actor in actors:
            actor.halt.set()


class Feeder(Actor):
    """Drops the inputs while the service runs, as senders do: written under a temporary name,
    then renamed; local ones into `inbound/`, remote ones into the SFTP source's folder."""

    def __init__(self, inputs: list[Input], local: Path, remote: Path, per_second: float) -> None:
        super().__init__("feeder", interval=0.1)
        self.pending = list(reversed(inputs))
        self.local, self.remote = local, remote
        self.per_round = max(1, round(per_second * self.interval))
        self.dropped = 0

    def step(self) -> bool:
        for _ in range(min(self.per_round, len(self.pending))):
            item = self.pending.pop()
            folder = self.remote if item.remote else self.local
            part = folder / f".{item.name}.part"
            part.write_bytes(item.data)
            part.rename(folder / item.name)
            self.dropped += 1
        return bool(self.pending)


@dataclass(frozen=True)
class Read:
    """One output file the consumer imported (and deleted)."""

    target: str
    name: str
    records: tuple[dict[str, object], ...]


class Consumer(Actor):
    """An importer that deletes each output once read, like a Sage VI job; it leaves alone the
    outputs of inputs `wanted` says no to, so the end check sees both kinds."""

    def __init__(self, folders: dict[str, Path], wanted: Callable[[str], bool]) -> None:
        super().__init__("consumer", interval=0.2)
        self.folders, self.wanted = folders, wanted
        self.reads: list[Read] = []

    def step(self) -> bool:
        for target, folder in self.folders.items():
            names = sorted(os.listdir(folder)) if folder.is_dir() else []
            for name in names:
                if is_temporary(name) or not self.wanted(name):
                    continue
                path = folder / name
                records = tuple(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
                path.unlink()
                self.reads.append(Read(target, name, records))
        return True


class Outages(Actor):
    """Stops the sshd at the planned moments (seconds after `started`) for the planned durations."""

    def __init__(self, sshd: Sshd, plan: list[tuple[float, float]], started: float) -> None:
        super().__init__("sshd-outages", interval=0.05)
        self.sshd, self.plan, self.started = sshd, list(plan), started
        self.done: list[tuple[float, float]] = []

    def step(self) -> bool:
        if not self.plan:
            return False
        at, duration = self.plan[0]
        if time.monotonic() - self.started < at:
            return True
        self.plan.pop(0)
        self.sshd.stop()
        self.halt.wait(duration)
        self.sshd.start()
        self.done.append((at, duration))
        return bool(self.plan)


def outage_plan(rng: random.Random, count: int, within: float) -> list[tuple[float, float]]:
    """`count` outages of 1 to 3 s at random moments in the first `within` seconds, apart."""
    slots = sorted(rng.uniform(0, within) for _ in range(count))
    plan: list[tuple[float, float]] = []
    for at in slots:
        start = max(at, plan[-1][0] + plan[-1][1] + 1.0) if plan else at
        plan.append((round(start, 2), round(rng.uniform(1.0, 3.0), 2)))
    return plan
