"""An external reference for `gateway bench`: another translator's command on the same files.

`gateway bench --bots-command "CMD {inbox}"` (or the environment variable named by `ENVIRONMENT`)
names a shell command that translates every file in a folder; `{inbox}` becomes that folder,
shell-quoted. The bench runs it as a whole process on the same input bytes the gateway gets, round
by round with the gateway's own run, so a burst of load on a shared machine falls on both sides,
and keeps the best round of each. The command must exit 0, so a reference that rejected the input
fails the bench instead of posting a time for work it did not do.

The command runs under a small fresh interpreter that times it and reads its peak RSS from
`getrusage(RUSAGE_CHILDREN)`: in the bench process itself that figure would be a maximum over
every child the bench ever ran, and a child forked from a large process would start from the
parent's RSS. The wrapper is small, so its own few MB bound the error.

It was written for Bots (bots-edi), the open-source Python EDI translator; the README says how
Bots was set up for the figures there. Nothing of Bots is part of this repository.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import files

#: Where `gateway bench` finds the reference command when `--bots-command` is not given.
ENVIRONMENT = "GATEWAY_BENCH_BOTS_COMMAND"
PLACEHOLDER = "{inbox}"
NOT_MEASURED = "not measured (no --bots-command)"
SMALL_FILES = 1_000
ROUNDS = 3

WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1], shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - started
sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(done.returncode)
"""


class ReferenceFailed(RuntimeError):
    """The reference command exited with an error: its figures would mean nothing."""


@dataclass(frozen=True)
class Measured:
    """One whole-process run: wall-clock seconds and peak RSS."""

    seconds: float
    peak_mb: float


@dataclass(frozen=True)
class Reference:
    """A shell command that translates every file in the folder `{inbox}` names."""

    command: str
    name: str = "Bots"

    def __post_init__(self) -> None:
        if PLACEHOLDER not in self.command:
            raise ValueError(f"the reference command must contain {PLACEHOLDER}: {self.command!r}")

    def run(self, inbox: Path) -> Measured:
        """Run the command on `inbox` in a fresh wrapper process; raise if it fails."""
        line = self.command.replace(PLACEHOLDER, shlex.quote(str(inbox)))
        wrapped = [sys.executable, "-c", WRAPPER, line]
        done = subprocess.run(wrapped, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ReferenceFailed(f"{self.name} command exited {done.returncode}: {line}\n{done.stderr}")
        seconds, peak_kb = done.stdout.split()
        return Measured(float(seconds), int(peak_kb) / 1024)


def small_files(
    reference: Reference | None, count: int = SMALL_FILES, rounds: int = ROUNDS
) -> dict[str, Any]:
    """`count` small ORDERS files through `gateway run --once` (whole process) and through the
    reference, the same bytes in fresh folders each round, alternated; best of `rounds`."""
    orders = files.edifact_orders(count)
    messages = files.messages(orders)
    gateway, theirs = float("inf"), float("inf")
    accepted = 0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "gateway"
            files.drop(orders, root / "inbound")
            gateway = min(gateway, files.whole_cli(root))
            accepted = files.accepted_in(root)
            if reference is not None:
                files.drop(orders, Path(tmp) / "reference")
                theirs = min(theirs, reference.run(Path(tmp) / "reference").seconds)
    result: dict[str, Any] = {
        "workload": f"{count} small EDIFACT ORDERS files ({messages} messages), whole process",
        "gateway_messages_per_s": round(messages / gateway, 1),
        "accepted": accepted,
    }
    if reference is None:
        result["reference"] = NOT_MEASURED
        return result
    return result | {
        "reference": reference.name,
        "reference_messages_per_s": round(messages / theirs, 1),
        "gateway_vs_reference": round(theirs / gateway, 2),
    }
