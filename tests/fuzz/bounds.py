"""Every fuzz example runs under a CPU-time and a memory bound, so that a hang or a runaway
allocation fails the example (and hypothesis shrinks it) instead of stalling the suite.

CPU time, not wall time: a loaded CI machine slows the wall clock, not the work, and a hang is
a loop burning CPU. The profiling timer (SIGPROF) leaves SIGALRM to pytest-timeout.
"""

from __future__ import annotations

import signal
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

CPU_SECONDS = 5.0
MEGABYTES = 64


class Hang(Exception):
    """An example used more CPU time than any input of its size may."""


def _hang(signum: int, frame: FrameType | None) -> None:
    raise Hang(f"more than {CPU_SECONDS:g} s of CPU time on one example")


@contextmanager
def bounded(cpu_seconds: float = CPU_SECONDS, megabytes: int = MEGABYTES) -> Iterator[None]:
    """Fail with `Hang` past `cpu_seconds` of CPU, with AssertionError past `megabytes` at peak."""
    previous = signal.signal(signal.SIGPROF, _hang)
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        _, peak = tracemalloc.get_traced_memory()
        if not tracing:
            tracemalloc.stop()
    assert peak < megabytes << 20, f"{peak >> 20} MB at peak on one example"
