"""Faults the machine cannot make on demand: one EIO from a rename or an fsync at each step that
changes the world (claim, staging, publish, archive, quarantine). A fault-injecting layer over
`os` fails the first call that touches the chosen place; the service must postpone the file,
retry it, and end with exactly one outcome and one output, as if nothing had happened."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Config
from gateway.ledger.sqlite import SqliteLedger
from gateway.service import Service
from tests.waiting import wait_for_final

HEADER = "adjustment_id,sku,mode,quantity_change\n"


class Faulty:
    """Makes `os.<name>` raise EIO once, on its first call with a path argument matching `where`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str, where: str) -> None:
        self.real = getattr(os, name)
        self.where = where
        self.fired = 0
        monkeypatch.setattr(os, name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        shown = [self._path(a) for a in args]
        if not self.fired and any(re.search(self.where, path) for path in shown):
            self.fired += 1
            raise OSError(errno.EIO, os.strerror(errno.EIO), shown[0])
        return self.real(*args, **kwargs)

    @staticmethod
    def _path(arg: object) -> str:
        if isinstance(arg, int):  # fsync(fd): the path the descriptor is open on
            try:
                return os.readlink(f"/proc/self/fd/{arg}")
            except OSError:
                return ""
        return os.fsdecode(arg) if isinstance(arg, (str, bytes, os.PathLike)) else ""


# (os function, a pattern its path matches): the steps of the durability protocol.
FAULTS = [
    ("rename", r"\bwork/"),  # the claim's move into the state root's work/
    ("fsync", r"\.jsonl\.tmp$"),  # a staged output's contents
    ("replace", r"\.jsonl\.tmp$"),  # the publish rename
    ("fsync", "/outbound/canonical$"),  # the outbound folder after the rename
    ("replace", "/archive/"),  # the original into the archive
    ("replace", "/quarantine/"),  # the original into its quarantine case
]


@pytest.mark.parametrize(("name", "where"), FAULTS, ids=[f"{n}:{w}" for n, w in FAULTS])
def test_one_io_error_is_retried_to_exactly_one_outcome(
    name: str, where: str, root: Path, make_config: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config()
    (root / "inbound" / "good.csv").write_text(HEADER + "ADJ-1,SKU-1,delta,3\n")
    (root / "inbound" / "bad.csv").write_text("no,such,layout\n1,2,3\n")
    for folder in ("work", "quarantine", "archive"):
        config.folder(folder).mkdir(parents=True, exist_ok=True)
    ledger = SqliteLedger(config.ledger_path)
    service = Service(config, ledger)
    faulty = Faulty(monkeypatch, name, where)
    try:
        service.recover()

        def step() -> None:
            service.poll_once()
            service.retry_postponed()

        states = wait_for_final(ledger, ["good.csv", "bad.csv"], step=step)
        events = [event for row in ledger.files() for _, event, _ in ledger.events(row.file_id)]
    finally:
        ledger.close()
    assert faulty.fired == 1, f"os.{name} never touched {where}"
    # Postponed as a transient failure (and shown in status), not a bug: a failed claim is undone.
    assert events.count("file_postponed") == (0 if name == "rename" else 1), events
    assert states == {"good.csv": "accepted", "bad.csv": "quarantined"}
    outputs = sorted((root / "outbound" / "canonical").iterdir())
    assert [p.name.split(".")[0] for p in outputs] == ["good"]  # one, never two; no .tmp left
    assert [p.name.split(".", 1)[1] for p in (root / "archive").rglob("*.csv")] == ["good.csv"]
    (case,) = (root / "quarantine").iterdir()
    assert sorted(p.name for p in case.iterdir()) == ["bad.csv", "error.json", "error.txt"]
    assert not list((root / "work").iterdir())
    assert sorted(p.name for p in (root / "inbound").iterdir()) == []
