"""The local drop-folder source: readiness by our own observations, leases, done-files."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from gateway.config import Config
from gateway.sources.base import Readiness, is_ignored
from gateway.sources.local import LocalSource, has_writer


def source_for(config: Config) -> LocalSource:
    source = LocalSource(config.sources[0], threading.Event())
    source.folder.mkdir(parents=True, exist_ok=True)
    return source


def poll_until(source: LocalSource, count: int, timeout: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout
    names: list[str] = []
    while time.monotonic() < deadline and len(names) < count:
        names = [c.name for c in source.poll()]
        time.sleep(0.02)
    return names


class TestReadiness:
    def test_needs_two_equal_observations_settle_apart(self) -> None:
        r = Readiness(2.0)
        assert not r.observe("a", (1, 1, 1), at=10.0)
        assert not r.observe("a", (1, 1, 1), at=11.9)
        assert r.observe("a", (1, 1, 1), at=12.0)

    def test_any_change_restarts_the_wait(self) -> None:
        r = Readiness(1.0)
        r.observe("a", (1, 1, 1), at=0.0)
        assert not r.observe("a", (2, 1, 1), at=5.0)  # grew
        assert not r.observe("a", (2, 1, 9), at=5.5)  # replaced: another inode
        assert r.observe("a", (2, 1, 9), at=6.5)

    def test_files_are_judged_independently(self) -> None:
        r = Readiness(1.0)
        r.observe("slow", (1, 1, 1), at=0.0)
        r.observe("fast", (1, 1, 2), at=0.0)
        assert not r.observe("slow", (5, 2, 1), at=1.0)
        assert r.observe("fast", (1, 1, 2), at=1.0)
        r.forget("fast")  # claimed
        assert r.next_due(at=1.0) == 1.0

    def test_forgets_files_that_are_gone(self) -> None:
        r = Readiness(1.0)
        r.observe("a", (1, 1, 1), at=0.0)
        r.keep_only([])
        assert r.next_due() is None


class TestLocalSource:
    def test_ignores_temporary_and_hidden_names(self, make_config: Callable[..., Config]) -> None:
        cfg = make_config()
        for name in ("x.part", "x.tmp", ".hidden", "x.filepart", "~lock"):
            assert is_ignored(name, cfg.sources[0])
        assert not is_ignored("orders.csv", cfg.sources[0])
        source = source_for(cfg)
        for name in ("upload.csv.part", ".x.csv", "real.csv"):
            (source.folder / name).write_text("sku\nA\n")
        (source.folder / "sub").mkdir()
        assert poll_until(source, 1) == ["real.csv"]
        time.sleep(0.2)
        assert [c.name for c in source.poll()] == ["real.csv"]

    def test_done_file_gates_readiness(self, make_config: Callable[..., Config], tmp_path: Path) -> None:
        cfg = make_config(source=[{"name": "inbound", "settle_seconds": 0.05, "done_suffix": ".ok"}])
        source = source_for(cfg)
        (source.folder / "orders.csv").write_text("sku\nA\n")
        time.sleep(0.2)
        assert poll_until(source, 1, timeout=0.5) == []
        (source.folder / "orders.csv.ok").touch()
        assert poll_until(source, 1) == ["orders.csv"]

    def test_oldest_first(self, make_config: Callable[..., Config]) -> None:
        source = source_for(make_config())
        for i, name in enumerate(("c.csv", "a.csv", "b.csv")):
            path = source.folder / name
            path.write_text("sku\nA\n")
            os.utime(path, ns=(1_000_000_000 * (i + 1), 1_000_000_000 * (i + 1)))
        assert poll_until(source, 3) == ["c.csv", "a.csv", "b.csv"]

    def test_writer_holding_the_file_open_blocks_readiness(self, make_config: Callable[..., Config]) -> None:
        source = source_for(make_config())
        path = source.folder / "held.csv"
        with path.open("w") as writer:
            writer.write("sku\nA\n")
            writer.flush()
            assert has_writer(str(path))
            time.sleep(0.2)
            assert poll_until(source, 1, timeout=0.5) == []
        assert not has_writer(str(path))
        assert poll_until(source, 1) == ["held.csv"]

    def test_watch_wakes_the_loop(self, make_config: Callable[..., Config]) -> None:
        source = source_for(make_config())
        source.start()
        try:
            source.wake.clear()
            (source.folder / "new.csv").write_text("sku\nA\n")
            assert source.wake.wait(timeout=5)
        finally:
            source.stop()
