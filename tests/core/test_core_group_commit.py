"""Group commit: the files a poll finds ready are claimed, committed, published and archived
together, and a crash at any step between leaves each of them exactly one outcome after restart.

A crash is an exception that no handler of the gateway catches (a BaseException), raised by the
n-th call of a step; the service is then started afresh on the same state, as after a SIGKILL.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from gateway.config import Config
from gateway.ledger.sqlite import SqliteLedger
from gateway.ledger.states import FileState
from gateway.service import Service
from tests.conftest import SAMPLES

FILES = 6


class Crash(BaseException):
    """The process dies here."""


def adjustment(n: int) -> str:
    return f"adjustment_id,sku,mode,quantity_change\nADJ-{n},SKU-{n},delta,{n}\n"


def drop(config: Config, files: dict[str, str | bytes]) -> None:
    """Files that arrived a while ago: ready at the first poll."""
    inbound = config.sources[0].path
    inbound.mkdir(parents=True, exist_ok=True)
    past = time.time() - 600
    for name, content in files.items():
        path = inbound / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        os.utime(path, (past, past))


def outcomes(config: Config) -> dict[str, str]:
    ledger = SqliteLedger(config.ledger_path)
    try:
        return {row.original_name: row.state for row in ledger.files()}
    finally:
        ledger.close()


def published(config: Config) -> list[str]:
    return sorted(p.name for p in (config.state_dir / "outbound" / "canonical").iterdir())


def spy(monkeypatch: pytest.MonkeyPatch, where: str, crash_on: int | None = None) -> list[int]:
    """Count the calls of `where` (module.function or module.Class.method); the `crash_on`-th
    one crashes."""
    path, _, name = where.rpartition(".")
    try:
        owner: Any = importlib.import_module(path)
    except ModuleNotFoundError:
        module, _, cls = path.rpartition(".")
        owner = getattr(importlib.import_module(module), cls)
    real = getattr(owner, name)
    calls: list[int] = []

    def spied(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == crash_on:
            raise Crash(where)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spied)
    return calls


@pytest.fixture(name="cfg")
def _cfg(make_config: Callable[..., Config]) -> Config:
    return make_config()


def test_a_poll_commits_its_ready_files_as_one_group(cfg: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    drop(cfg, {f"a{n}.csv": adjustment(n) for n in range(FILES)})
    ledger = SqliteLedger(cfg.ledger_path)
    commits = spy(monkeypatch, "gateway.ledger.sqlite.SqliteLedger.commit")
    groups = spy(monkeypatch, "gateway.ledger.sqlite.SqliteLedger.group")
    syncs = spy(monkeypatch, "gateway.pipeline.process.sync_files")
    assert Service(cfg, ledger).run(once=True) == 0
    ledger.close()
    assert outcomes(cfg) == {f"a{n}.csv": FileState.ACCEPTED for n in range(FILES)}
    assert len(commits) == FILES
    # claims, starts, commits and accepts: one transaction each for the whole group
    assert len(groups) == 4
    assert len(syncs) == 1  # the outputs of all of them, synced at once before the commit


@pytest.mark.parametrize(
    ("where", "call"),
    [
        ("gateway.pipeline.claim.take", 3),  # claims recorded, some files moved
        ("gateway.pipeline.claim.fingerprint", 2),  # all moved, none hashed into the ledger
        ("gateway.pipeline.process.sync_files", 1),  # all outputs written, none synced or committed
        ("gateway.pipeline.staging.Stager.publish", 1),  # committed, nothing renamed
        ("gateway.pipeline.staging.Stager.publish", 4),  # committed, some renamed
        ("gateway.delivery.local.LocalDelivery.sync", 1),  # all renamed, the folder not synced
        ("gateway.pipeline.process.fsync_dir", 1),  # all archived, none accepted
    ],
)
def test_a_crash_in_a_group_leaves_one_outcome_and_one_output_each(
    cfg: Config, monkeypatch: pytest.MonkeyPatch, where: str, call: int
) -> None:
    drop(cfg, {f"a{n}.csv": adjustment(n) for n in range(FILES)} | {"bad.csv": b"\x00binary"})
    ledger = SqliteLedger(cfg.ledger_path)
    calls = spy(monkeypatch, where, crash_on=call)
    with pytest.raises(Crash):
        Service(cfg, ledger).run(once=True)
    ledger.close()
    assert len(calls) == call
    monkeypatch.undo()
    ledger = SqliteLedger(cfg.ledger_path)
    assert Service(cfg, ledger).run(once=True) == 0
    ledger.close()
    expected = {f"a{n}.csv": FileState.ACCEPTED for n in range(FILES)} | {"bad.csv": FileState.QUARANTINED}
    assert outcomes(cfg) == expected
    outputs = published(cfg)
    assert not [name for name in outputs if name.endswith(".tmp")]
    assert sorted(name.split(".")[0] for name in outputs) == [f"a{n}" for n in range(FILES)]
    assert not list((cfg.state_dir / "work").iterdir())
    assert not list(cfg.sources[0].path.iterdir())
    archived = [p.name for p in (cfg.state_dir / "archive").rglob("*") if p.is_file()]
    assert sorted(name.split(".", 1)[1] for name in archived) == [f"a{n}.csv" for n in range(FILES)]


def test_the_same_content_twice_in_one_group_is_one_acceptance_and_one_duplicate(cfg: Config) -> None:
    drop(cfg, {"first.csv": adjustment(1), "again.csv": adjustment(1), "other.csv": adjustment(2)})
    ledger = SqliteLedger(cfg.ledger_path)
    assert Service(cfg, ledger).run(once=True) == 0
    ledger.close()
    states = outcomes(cfg)
    assert sorted(states.values()) == [FileState.ACCEPTED, FileState.ACCEPTED, FileState.DUPLICATE]
    assert states["other.csv"] == FileState.ACCEPTED
    assert len(published(cfg)) == 2


def test_the_same_business_key_twice_in_one_group_is_published_once(cfg: Config) -> None:
    edifact = (SAMPLES / "inbound" / "edifact" / "desadv_d96a.edi").read_bytes()
    # The same interchange (sender and control reference) with a different byte at the end.
    drop(cfg, {"one.edi": edifact, "two.edi": edifact + b"\n"})
    ledger = SqliteLedger(cfg.ledger_path)
    assert Service(cfg, ledger).run(once=True) == 0
    ledger.close()
    assert sorted(outcomes(cfg).values()) == [FileState.ACCEPTED, FileState.DUPLICATE]
    assert len(published(cfg)) == 1


def test_an_archive_that_fails_leaves_the_group_publishing_for_the_next_run(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(cfg, {f"a{n}.csv": adjustment(n) for n in range(FILES)})

    def refuse(*_: object) -> None:
        raise PermissionError(13, "archive not writable")

    monkeypatch.setattr("gateway.pipeline.process.Pipeline._archive_file", refuse)
    ledger = SqliteLedger(cfg.ledger_path)
    assert Service(cfg, ledger).run(once=True) == 0  # the service goes on; the files wait
    ledger.close()
    assert set(outcomes(cfg).values()) == {FileState.PUBLISHING}
    monkeypatch.undo()
    ledger = SqliteLedger(cfg.ledger_path)
    assert Service(cfg, ledger).run(once=True) == 0
    ledger.close()
    assert outcomes(cfg) == {f"a{n}.csv": FileState.ACCEPTED for n in range(FILES)}
    assert sorted(name.split(".")[0] for name in published(cfg)) == [f"a{n}" for n in range(FILES)]


def test_a_claim_that_fails_after_the_moves_is_finished_by_the_next_start(
    cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(cfg, {f"a{n}.csv": adjustment(n) for n in range(FILES)})

    def unreadable(*_: object) -> None:
        raise OSError(5, "input/output error")

    monkeypatch.setattr("gateway.pipeline.claim.fingerprint", unreadable)
    ledger = SqliteLedger(cfg.ledger_path)
    assert Service(cfg, ledger).run(once=True) == 0  # logged as claim_failed, the service goes on
    ledger.close()
    assert set(outcomes(cfg).values()) == {FileState.CLAIMED}
    monkeypatch.undo()
    ledger = SqliteLedger(cfg.ledger_path)
    assert Service(cfg, ledger).run(once=True) == 0
    ledger.close()
    assert outcomes(cfg) == {f"a{n}.csv": FileState.ACCEPTED for n in range(FILES)}
