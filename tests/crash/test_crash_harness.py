"""The crash harness: the real service, thousands of files, SIGKILL at random moments, then the proof.

Files of every format arrive in a local folder and on an SFTP server while `gateway run` works
on them; it delivers to a local folder and to the SFTP server. The service is killed with
SIGKILL at random moments (seeded; the seed is printed and named in every failure) and started
again each time, a consumer imports and deletes outputs as they appear, and the sshd goes away
and comes back. Then the invariants of invariants.py must all hold.

The state root and the SFTP folders live in memory (/dev/shm) when the machine has room
there: a SIGKILL leaves the kernel's page cache intact, so the gateway's fsyncs decide nothing
in this test and on a disk shared with other work they only make it several times slower.
GATEWAY_CRASH_DISK=1 runs it on the disk under pytest's tmp_path instead.

The run's size comes from the environment, the defaults being what CI runs:
GATEWAY_CRASH_FILES (2000), GATEWAY_CRASH_KILLS (50), GATEWAY_CRASH_OUTAGES (2),
GATEWAY_CRASH_SEED (random). Alone: `.venv/bin/python -m pytest -s tests/crash`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.sshd import Sshd
from tests.conftest import require_sshd, run_cli
from tests.crash import invariants
from tests.crash.actors import Consumer, Feeder, Killer, Outages, Service, outage_plan, running
from tests.crash.corpus import Input, calibrate, inputs
from tests.waiting import wait_until

pytestmark = pytest.mark.service

#: Share of the inputs that arrive over SFTP rather than in the local folder.
REMOTE_SHARE = 0.2
#: Files waiting ahead of the service at most: they keep arriving until the end.
BACKLOG = 150
#: Free memory the run's folders need at most (2,000 files take some 60 MB), with room to spare.
MEMORY_NEEDED = 1 << 30
#: Bound on a CI-sized run past calibration: generous for a loaded two-core machine, but a
#: bound; a larger run gets it in proportion.
BUDGET_SECONDS = 600.0


@dataclass(frozen=True)
class Settings:
    """The size of one run."""

    files: int
    kills: int
    outages: int
    seed: int

    @classmethod
    def from_env(cls) -> Settings:
        seed = os.environ.get("GATEWAY_CRASH_SEED")
        return cls(
            files=int(os.environ.get("GATEWAY_CRASH_FILES", "2000")),
            kills=int(os.environ.get("GATEWAY_CRASH_KILLS", "50")),
            outages=int(os.environ.get("GATEWAY_CRASH_OUTAGES", "2")),
            seed=int(seed) if seed else random.SystemRandom().randrange(1 << 32),
        )

    @property
    def budget(self) -> float:
        return BUDGET_SECONDS * max(1.0, self.files / 2000, self.kills / 50)


SETTINGS = Settings.from_env()


@pytest.fixture(name="workdir")
def _workdir(tmp_path: Path) -> Iterator[Path]:
    """Where the run keeps its state: memory when there is room, else tmp_path. The logs are
    copied to tmp_path at the end, where pytest keeps them for a look after a failure."""
    shm = Path("/dev/shm")
    roomy = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > MEMORY_NEEDED
    if os.environ.get("GATEWAY_CRASH_DISK") or not roomy:
        yield tmp_path
        return
    base = Path(tempfile.mkdtemp(prefix="gateway-crash-", dir=shm))
    try:
        yield base
    finally:
        if (base / "logs").is_dir():
            shutil.copytree(base / "logs", tmp_path / "logs")
        shutil.rmtree(base)


@pytest.fixture(name="sshd")
def _sshd(tmp_path: Path) -> Iterator[Sshd]:
    """An sshd of the harness's own: it is stopped and started during the run."""
    require_sshd()
    server = Sshd(tmp_path / "sshd")
    server.start()
    yield server
    server.remove()


def write_config(path: Path, sshd: Sshd, remote: Path) -> None:
    """Two sources (local, SFTP) and two targets (local, SFTP), every document to both; one
    reader process (what `auto` starts on four cores), so that the kills find it mid-read too."""
    path.write_text(f"""
unrouted = "quarantine"
workers = 1

[[source]]
name = "local"
path = "inbound"
settle_seconds = 0.2
poll_seconds = 0.5

[[source]]
name = "partner"
type = "sftp"
{sshd.server_settings()}remote_dir = "{remote / "in"}"
after = "delete"
settle_seconds = 0.2
poll_seconds = 0.5
timeout_seconds = 5

[[target]]
name = "canonical"
format = "jsonl"
deliver = "local:outbound/canonical"

[[target]]
name = "partner"
format = "jsonl"
deliver = "sftp:partner:{remote / "out"}"

[[route]]
doc_type = "*"
to = ["canonical", "partner"]
""")


def imported(name: str) -> bool:
    """The consumer imports the outputs of three inputs in four (`h00012-...` is input 12)."""
    return int(name[1:6]) % 4 != 0


@pytest.fixture(name="service")
def _service(sshd: Sshd, workdir: Path) -> Iterator[Service]:
    """The service of a state root fed by `inbound/` and the sshd's `remote/in`; never left running."""
    root, remote = workdir / "root", workdir / "remote"
    for folder in (root / "inbound", remote / "in", remote / "out"):
        folder.mkdir(parents=True)
    write_config(workdir / "gateway.toml", sshd, remote)
    service = Service(workdir / "gateway.toml", root, workdir / "logs")
    yield service
    if service.alive():
        service.kill()


@pytest.mark.timeout(SETTINGS.budget + 300)
def test_every_file_one_outcome_through_kills_and_outages(
    sshd: Sshd, service: Service, workdir: Path
) -> None:
    """Thousands of files, dozens of SIGKILLs and sshd outages: each file one outcome, each output once."""
    settings = SETTINGS
    print(f"\ncrash harness: {settings}")
    rng = random.Random(settings.seed)
    items = inputs(calibrate(workdir), settings.files, REMOTE_SHARE)
    root, remote = service.root, workdir / "remote"
    folders = {"canonical": root / "outbound" / "canonical", "partner": remote / "out"}

    def progress() -> int:
        return invariants.finished(root / "gateway.db")

    feeder = Feeder(items, root / "inbound", remote / "in", progress, BACKLOG)
    consumer = Consumer(folders, imported)
    outages = Outages(sshd, outage_plan(rng, settings.outages, settings.files), progress)
    killer = Killer(service, rng, progress, settings.files, settings.kills)
    started = time.monotonic()
    service.start()
    with running(feeder, consumer, outages):
        while sum(killer.kinds.values()) < settings.kills or outages.is_alive():
            over = time.monotonic() - started > settings.budget
            assert not over, f"seed {settings.seed}: over budget after {killer.kinds} kills"
            killer.kill()
        killing = time.monotonic() - started
        # The last run takes the rest, files still arriving, to the end.
        wait_until(
            lambda: progress() >= len(items),
            what=f"an outcome for all {len(items)} inputs (seed {settings.seed})",
            seen=lambda: f"{progress()} done",
            timeout=max(60.0, settings.budget - killing),
        )
        for actor in (feeder, outages, consumer):
            actor.finish()
    assert service.stop() == 0, service.last_log()
    duration = time.monotonic() - started

    snap = invariants.Snapshot.of(root / "gateway.db")
    problems = [
        *invariants.outcomes(items, snap),
        *invariants.originals(items, snap, root),
        *invariants.published(items, snap, consumer.reads, folders),
        *invariants.ledger_agrees(items, snap, consumer.reads, folders),
        *invariants.leftovers([root / "inbound", remote / "in", root / "work"]),
        *invariants.logged_errors(service.logs),
        *status_problems(service, items),
    ]
    print(figures(settings, items, snap, killer.kinds, outages.done, len(consumer.reads), killing, duration))
    assert not problems, f"seed {settings.seed}: {len(problems)} problem(s):\n" + "\n".join(problems[:60])
    assert len(outages.done) == settings.outages


def status_problems(service: Service, items: list[Input]) -> list[str]:
    """`gateway status --json` agrees: sources reachable, nothing waiting, the counts per source."""
    result = run_cli("--config", service.config, "status", "--json", "--root", service.root)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    problems = [f"status: {key} {status[key]}" for key in ("postponed", "pair_cases") if status[key]]
    for source in status["sources"]:
        remote = source["name"] == "partner"
        expected = Counter(i.outcome for i in items if i.remote == remote)
        if not source["reachable"] or source["files"] != dict(expected):
            problems.append(f"status: source {source['name']} {source}, expected {dict(expected)}")
    return problems


def figures(
    settings: Settings,
    items: list[Input],
    snap: invariants.Snapshot,
    kills: Counter[str],
    outages: list[tuple[int, float]],
    reads: int,
    killing: float,
    duration: float,
) -> str:
    """The figures of the run, for the README's Durability section."""
    formats = Counter(item.name.split("-", 2)[1] for item in items)
    states = Counter(f.state for f in snap.files)
    return (
        f"crash harness (seed {settings.seed}): {len(items)} files ({dict(formats)}, "
        f"{sum(i.remote for i in items)} over SFTP), {sum(kills.values())} SIGKILLs {dict(kills)} in "
        f"{killing:.0f} s, {len(outages)} sshd outages (after files, seconds) {outages}, "
        f"outcomes {dict(states)}, {len(snap.outputs)} outputs published, {reads} read and deleted "
        f"by the consumer, {duration:.0f} s in all"
    )
