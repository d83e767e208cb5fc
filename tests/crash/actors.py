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
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.sshd import Sshd
from tests.conftest import REPO
from tests.crash.corpus import Input
from tests.waiting import wait_until

#: How long a stopped process may take to go.
PROCESS_TIMEOUT = 60.0
#: Share of the kills in the first seconds of a run, and those seconds.
STARTUP_SHARE = 0.2
STARTUP_SECONDS = (0.05, 3.0)
#: A kill in the middle of work comes up to this long after a file's outcome: a file takes
#: tens of milliseconds, so this lands anywhere in the next ones.
WITHIN_FILE = 0.3
#: How long the service may take for the files before a kill; it makes progress unless stuck.
WORK_TIMEOUT = 180.0

#: How many inputs have an outcome so far.
Progress = Callable[[], int]


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
        """A warm stop (SIGTERM) once the service handles it; the exit code."""
        assert self.process is not None
        # Before its handler is installed (Python still importing), SIGTERM simply ends it.
        wait_until(lambda: '"service_started"' in self.log() or not self.alive(),
                   what="the service to start", seen=self.last_log, timeout=PROCESS_TIMEOUT)  # fmt: skip
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=PROCESS_TIMEOUT)

    def log(self) -> str:
        """What the current (or last) run has logged so far."""
        return (self.logs / f"run-{self.runs - 1:03d}.log").read_text(errors="replace")

    def last_log(self) -> str:
        return self.log()[-4000:]


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
    then renamed; local ones into `inbound/`, remote ones into the SFTP source's folder. It keeps
    at most `backlog` files waiting ahead of the service, so files arrive for the whole run."""

    def __init__(
        self, inputs: list[Input], local: Path, remote: Path, progress: Progress, backlog: int
    ) -> None:
        super().__init__("feeder", interval=0.1)
        self.pending = list(reversed(inputs))
        self.local, self.remote = local, remote
        self.progress, self.backlog = progress, backlog
        self.dropped = 0

    def step(self) -> bool:
        room = self.backlog - (self.dropped - self.progress())
        for _ in range(min(room, len(self.pending))):
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
    """Stops the sshd for the planned seconds once the service has done the planned number of files."""

    def __init__(self, sshd: Sshd, plan: list[tuple[int, float]], progress: Progress) -> None:
        super().__init__("sshd-outages", interval=0.05)
        self.sshd, self.plan, self.progress = sshd, list(plan), progress
        self.done: list[tuple[int, float]] = []

    def step(self) -> bool:
        if not self.plan:
            return False
        after, duration = self.plan[0]
        if self.progress() < after:
            return True
        self.plan.pop(0)
        self.sshd.stop()
        self.halt.wait(duration)
        self.sshd.start()
        self.done.append((after, duration))
        return bool(self.plan)


def outage_plan(rng: random.Random, count: int, files: int) -> list[tuple[int, float]]:
    """`count` outages of 1 to 3 s, each after a random tenth to seven tenths of the files."""
    return sorted(
        (rng.randint(files // 10, files * 7 // 10), round(rng.uniform(1.0, 3.0), 2)) for _ in range(count)
    )


class Killer:
    """Kills the service with SIGKILL at random moments and starts it again. A share of the kills
    comes in the first seconds of a run (start-up, recovery); the others after a random number
    of files and a random fraction of a second more, in the middle of claims and publishes, so
    the service keeps making progress however slow the machine is."""

    def __init__(
        self, service: Service, rng: random.Random, progress: Progress, files: int, kills: int
    ) -> None:
        self.service, self.rng, self.progress, self.files = service, rng, progress, files
        # The kills in the middle of work are spread over four fifths of the files.
        self.most = max(1, round(2 * files * 0.8 / max(1, kills * (1 - STARTUP_SHARE))) - 1)
        self.kinds: Counter[str] = Counter()

    def kill(self) -> None:
        """Wait for the next random moment, kill, start again."""
        if self.rng.random() < STARTUP_SHARE:
            kind = "start-up"
            time.sleep(self.rng.uniform(*STARTUP_SECONDS))
        else:
            kind = "work"
            goal = min(self.files, self.progress() + self.rng.randint(1, self.most))
            wait_until(
                lambda: self.progress() >= goal or not self.service.alive(),
                what=f"{goal} files done", seen=self.progress, timeout=WORK_TIMEOUT,
            )  # fmt: skip
            time.sleep(self.rng.uniform(0, WITHIN_FILE))
        assert self.service.alive(), f"the service ended by itself:\n{self.service.last_log()}"
        self.service.kill()
        self.kinds[kind] += 1
        self.service.start()
