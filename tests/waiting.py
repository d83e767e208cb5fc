"""Bounded waits for tests that watch a service work: for final states and explicit events only.

A wait for the absence of one intermediate state races with the next one (a file is `claimed`
before it is `processing`, and neither is an outcome), so every wait here asks for final states
or for an event the test names. The time-outs are generous because a loaded two-core machine
runs the suite several times slower than an idle one (tests/loaded.sh checks exactly that); they
are still bounded, and a time-out says what it waited for and what it saw last.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from gateway.ledger.sqlite import Ledger, SqliteLedger
from gateway.ledger.states import UNFINISHED, FileState

T = TypeVar("T")

#: A file in any other state has its one outcome (or, retried, a successor that will have one).
FINAL = frozenset(FileState) - set(UNFINISHED)
TIMEOUT = 120.0
INTERVAL = 0.05


def wait_until(
    check: Callable[[], T],
    *,
    what: str,
    seen: Callable[[], object] | None = None,
    step: Callable[[], object] | None = None,
    timeout: float = TIMEOUT,
) -> T:
    """Call `check` until it returns something true and return that.

    `step` runs before every check (one round of an in-process service, say), `seen` describes
    the last observation when the time runs out (else the last result of `check`).
    """
    deadline = time.monotonic() + timeout
    while True:
        if step is not None:
            step()
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            last = seen() if seen is not None else result
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; last seen: {last!r}")
        time.sleep(INTERVAL)


@contextmanager
def reading(ledger: Ledger | Path) -> Iterator[Ledger | None]:
    """An open ledger as it is, a path to one opened for the block; None while it does not exist."""
    if not isinstance(ledger, Path):
        yield ledger
    elif not ledger.exists():
        yield None
    else:
        opened = SqliteLedger(ledger)
        try:
            yield opened
        finally:
            opened.close()


def file_states(ledger: Ledger | Path) -> dict[str, str]:
    """The latest state of every file in a ledger, by original name."""
    with reading(ledger) as db:
        return {row.original_name: row.state for row in db.files()} if db else {}


def wait_for_final(
    ledger: Ledger | Path,
    names: Collection[str],
    *,
    step: Callable[[], object] | None = None,
    timeout: float = TIMEOUT,
) -> dict[str, str]:
    """Wait until every one of `names` has a final state (accepted, quarantined, duplicate ...).

    Returns the states of all files in the ledger at that moment, by original name.
    """
    assert names, "wait for at least one file"

    def final() -> dict[str, str] | None:
        states = file_states(ledger)
        return states if all(states.get(name) in FINAL for name in names) else None

    what = f"final states of {sorted(names)}"
    return wait_until(final, what=what, seen=lambda: file_states(ledger), step=step, timeout=timeout)


def wait_for_batches(
    ledger: Ledger | Path, target: str, records: int, *, timeout: float = TIMEOUT
) -> list[int]:
    """Wait until the published batches of `target` hold `records` records in all; their sizes."""

    def published() -> list[int]:
        with reading(ledger) as db:
            return [b.records for b in db.batches("published") if b.target == target] if db else []

    def complete() -> list[int]:
        sizes = published()
        return sizes if sum(sizes) == records else []

    return wait_until(
        complete, what=f"{records} records of {target} in published batches", seen=published, timeout=timeout
    )


def wait_for_poll(ledger: Ledger | Path, source: str, *, after: str, gap: float = 0.0) -> str:
    """Wait until a service has polled `source` at least `gap` seconds after the ledger time `after`.

    Returns the time of that poll (ISO 8601 UTC, as the ledger writes it).
    """
    threshold = (datetime.fromisoformat(after) + timedelta(seconds=gap)).isoformat(timespec="microseconds")

    def last_poll() -> str:
        with reading(ledger) as db:
            row = db.source_rows().get(source) if db else None
        return str(row["last_poll"]) if row else ""

    def newer() -> str:
        polled = last_poll()
        return polled if polled > threshold else ""

    return wait_until(newer, what=f"a poll of {source} after {threshold}", seen=last_poll)
