"""Readiness without waiting where it is safe: a file its writer finished is ready at once.

The settle window here is a minute, so a file reported ready by the first poll after it arrived
was judged by the rule under test, never by the window. Events reach the watch's thread
asynchronously: each test waits (bounded) for the event it needs before it polls.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.config import Config
from gateway.sources import local
from gateway.sources.base import ROUND
from gateway.sources.local import LocalSource
from tests.waiting import wait_until

LONG = 60.0
CSV = "sku\nA\n"


@pytest.fixture(name="make_source")
def _make_source(make_config: Callable[..., Config]) -> Iterator[Callable[..., LocalSource]]:
    started: list[LocalSource] = []

    def make(**options: object) -> LocalSource:
        raw = {"name": "inbound", "settle_seconds": LONG, "poll_seconds": LONG, **options}
        cfg = make_config(source=[raw])
        source = LocalSource(cfg.sources[0], threading.Event())
        source.start()
        started.append(source)
        return source

    yield make
    for source in started:
        source.stop()


def completed(source: LocalSource, name: str) -> bool:
    assert source.watch is not None
    return source.watch.completed(name)


def names(source: LocalSource) -> list[str]:
    return [c.name for c in source.poll()]


def test_a_file_renamed_in_is_ready_at_once(make_source: Callable[..., LocalSource], tmp_path: Path) -> None:
    source = make_source()
    outside = tmp_path / "upload.csv"
    outside.write_text(CSV)
    os.utime(outside)  # written just now: only the rename can make it ready
    os.rename(outside, source.folder / "orders.csv")
    wait_until(lambda: completed(source, "orders.csv"), what="IN_MOVED_TO")
    assert names(source) == ["orders.csv"]


def test_a_file_closed_by_its_writer_is_ready_at_once(make_source: Callable[..., LocalSource]) -> None:
    source = make_source()
    (source.folder / "orders.csv").write_text(CSV)
    wait_until(lambda: completed(source, "orders.csv"), what="IN_CLOSE_WRITE")
    assert names(source) == ["orders.csv"]


def test_a_file_written_again_after_its_close_waits(make_source: Callable[..., LocalSource]) -> None:
    source = make_source()
    path = source.folder / "orders.csv"
    path.write_text(CSV)
    wait_until(lambda: completed(source, "orders.csv"), what="IN_CLOSE_WRITE")
    with path.open("a") as writer:
        writer.write("B\n")
        writer.flush()
        wait_until(lambda: not completed(source, "orders.csv"), what="IN_MODIFY")
        assert names(source) == []  # written to since its close, and still open
    wait_until(lambda: completed(source, "orders.csv"), what="the second IN_CLOSE_WRITE")
    assert names(source) == ["orders.csv"]


def test_a_file_still_open_for_writing_is_not_ready(make_source: Callable[..., LocalSource]) -> None:
    source = make_source()
    path = source.folder / "orders.csv"
    with path.open("w") as writer:
        writer.write(CSV)
        writer.flush()
        os.utime(path, (time.time() - 2 * LONG,) * 2)  # quiet for longer than the window, yet open
        assert names(source) == []
    wait_until(lambda: completed(source, "orders.csv"), what="IN_CLOSE_WRITE")
    assert names(source) == ["orders.csv"]


def test_settle_readiness_keeps_the_window_for_closed_files(make_source: Callable[..., LocalSource]) -> None:
    source = make_source(readiness="settle")
    (source.folder / "orders.csv").write_text(CSV)
    wait_until(lambda: completed(source, "orders.csv"), what="IN_CLOSE_WRITE")
    assert names(source) == []
    assert source.next_due() == pytest.approx(LONG, abs=5)


def test_a_file_with_its_done_file_is_ready_at_once(make_source: Callable[..., LocalSource]) -> None:
    source = make_source(done_suffix=".ok")
    with (source.folder / "orders.csv").open("w") as writer:
        writer.write(CSV)
    source.stop()  # no events: the done-file alone decides
    assert names(source) == []
    (source.folder / "orders.csv.ok").touch()
    assert names(source) == ["orders.csv"]


def test_the_time_since_a_files_last_write_counts_towards_its_window(
    make_source: Callable[..., LocalSource],
) -> None:
    source = make_source()
    source.stop()  # as after a restart: no event tells about files that arrived before
    for name, age in (("old.csv", 2 * LONG), ("half.csv", LONG - 20), ("new.csv", 0)):
        path = source.folder / name
        path.write_text(CSV)
        os.utime(path, (time.time() - age,) * 2)
    assert names(source) == ["old.csv"]
    source.forget("old.csv")  # claimed
    assert source.next_due() == pytest.approx(20, abs=5)  # half.csv has 20 s of its window left


def test_a_backlog_is_offered_a_round_at_a_time_with_one_lease_check_each(
    make_source: Callable[..., LocalSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_source()
    source.stop()
    backlog = ROUND + ROUND // 2
    for i in range(backlog):
        path = source.folder / f"f{i:04}.csv"
        path.write_text(CSV)
        os.utime(path, (time.time() - 2 * LONG,) * 2)
    asked: list[str] = []
    real = local.has_writer

    def counted(path: str) -> bool:
        asked.append(path)
        return real(path)

    monkeypatch.setattr(local, "has_writer", counted)
    first = names(source)
    assert len(first) == ROUND
    assert len(asked) == ROUND
    for name in first:
        (source.folder / name).unlink()  # as the claims would take them
    assert len(names(source)) == backlog - ROUND
    assert len(asked) == backlog
