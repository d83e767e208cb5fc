"""Readers in worker processes (pipeline/readers.py): the same outcomes as reading in the service
itself, and a worker that dies or cannot start never loses, doubles or stalls a file.

The workers here are real processes; the ones that die do so on purpose, through a connection
that ends its process where a test file's name says (`dying`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.edifact import orders_interchange
from gateway import config as config_module
from gateway import plugins
from gateway.config import Config
from gateway.formats.base import Inbound, ReadContext
from gateway.ledger.sqlite import SqliteLedger
from gateway.pipeline import readers
from gateway.pipeline.readers import ReaderFailed, Readers
from gateway.service import Service
from tests.conftest import CORPUS, SAMPLES

HOSTILE = Path(__file__).resolve().parents[1] / "hostile" / "files"
FILE_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{12}")


class Dying:
    """A worker's end of the pipe that ends its process where the file's name asks:
    `die-after-<n>` after its n-th chunk of records (the first attempt only: a marker file
    beside it remembers), `die-always` before anything."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.file: Inbound | None = None
        self.chunks = 0

    def recv(self) -> Any:
        task = self.conn.recv()
        self.file, self.chunks = task[0], 0
        return task

    def send(self, message: Any) -> None:
        name = self.file.name if self.file else ""
        if name.startswith("die-always") and message[0] != "ready":
            os._exit(9)
        if name.startswith("die-after-") and message[0] == "records":
            self.chunks += 1
            marker = Path(f"{self.file.path}.died")  # type: ignore[union-attr]
            if self.chunks > int(name.split("-")[2].split(".")[0]) and not marker.exists():
                marker.touch()
                os._exit(9)
        self.conn.send(message)


def dying(conn: Any, config: Config, json_logs: bool) -> None:
    readers.serve(Dying(conn), config, json_logs)


def unstartable(conn: Any, config: Config, json_logs: bool) -> None:
    os._exit(3)


def inbound(config: Config, path: Path) -> Inbound:
    return Inbound(path.name, path, path.name, config.sources[0], "0" * 64, path.stat().st_size)


def read_here(config: Config, path: Path) -> list[str]:
    ctx = ReadContext(inbound(config, path), config, format="edifact")
    return [r.to_json() for r in plugins.reader("edifact")().read(ctx)]


def read_remote(pool: Readers, config: Config, path: Path) -> tuple[list[str], ReadContext]:
    file = inbound(config, path)
    pool.submit(file, "edifact")
    remote = pool.take(file.file_id)
    assert remote is not None
    ctx = ReadContext(file, config, format="edifact")
    return [r.to_json() for r in remote.records(ctx)], ctx


@pytest.fixture(name="cfg")
def _cfg(make_config: Callable[..., Config]) -> Config:
    return make_config(workers=1)


def test_a_worker_killed_mid_file_is_replaced_and_no_record_is_lost_or_doubled(cfg: Config) -> None:
    files = []
    for name in ("die-after-1.edi", "next.edi"):
        path = cfg.state_dir / name
        # 150 messages: three chunks, the worker dies after sending the first
        path.write_text(orders_interchange(150).replace("BENCH1", name[:6].upper()), encoding="latin-1")
        files.append(path)
    pool = Readers(cfg, 1, f"{__name__}:dying")
    try:
        for path in files:
            pool.submit(inbound(cfg, path), "edifact")
        for path in files:
            remote = pool.take(path.name)
            assert remote is not None
            ctx = ReadContext(inbound(cfg, path), cfg, format="edifact")
            got = [r.to_json() for r in remote.records(ctx)]
            assert got == read_here(cfg, path)
            assert len(got) == 150 and ctx.keys and not ctx.findings
    finally:
        pool.close()
    assert (cfg.state_dir / "die-after-1.edi.died").exists()  # it did die, once


def test_a_file_that_kills_its_reader_twice_is_refused_and_the_next_one_is_read(cfg: Config) -> None:
    bad, good = cfg.state_dir / "die-always.edi", cfg.state_dir / "good.edi"
    bad.write_text(orders_interchange(3), encoding="latin-1")
    good.write_text(orders_interchange(3).replace("BENCH1", "GOOD1"), encoding="latin-1")
    pool = Readers(cfg, 1, f"{__name__}:dying")
    try:
        pool.submit(inbound(cfg, bad), "edifact")
        pool.submit(inbound(cfg, good), "edifact")
        remote = pool.take(bad.name)
        assert remote is not None
        with pytest.raises(ReaderFailed, match="ended its reader process 2 times"):
            list(remote.records(ReadContext(inbound(cfg, bad), cfg, format="edifact")))
        assert read_remote(pool, cfg, good)[0] == read_here(cfg, good)
    finally:
        pool.close()


def test_workers_that_cannot_start_leave_the_reading_to_the_service(cfg: Config) -> None:
    path = cfg.state_dir / "orders.edi"
    path.write_text(orders_interchange(5), encoding="latin-1")
    pool = Readers(cfg, 2, f"{__name__}:unstartable")
    try:
        got, _ = read_remote(pool, cfg, path)
        assert got == read_here(cfg, path)
        assert pool.broken and not pool.workers
    finally:
        pool.close()


def test_a_reader_that_raises_in_its_worker_is_reported_with_the_workers_traceback(cfg: Config) -> None:
    path = cfg.state_dir / "orders.edi"
    path.write_text(orders_interchange(2), encoding="latin-1")
    pool = Readers(cfg, 1)
    try:
        pool.submit(inbound(cfg, path), "no-such-format")
        remote = pool.take(path.name)
        assert remote is not None
        with pytest.raises(ReaderFailed) as raised:
            list(remote.records(ReadContext(inbound(cfg, path), cfg, format="no-such-format")))
        assert "no-such-format" in repr(raised.value) and "Traceback" in str(raised.value)
        assert read_remote(pool, cfg, path)[0] == read_here(cfg, path)  # the worker goes on
    finally:
        pool.close()


#: A service that starts a reader and is SIGKILLed `argv[2]` seconds later, maybe mid-start.
KILLED_WHILE_STARTING = """
import os, signal, sys, threading
from pathlib import Path
from gateway import config
from gateway.pipeline.readers import Readers
pool = Readers(config.parse({"workers": 1}, Path(sys.argv[1])), 1)
threading.Timer(float(sys.argv[2]), os.kill, (os.getpid(), signal.SIGKILL)).start()
pool.start()
threading.Event().wait(5)
"""


def test_a_service_killed_while_starting_a_reader_leaves_no_traceback_and_no_process(tmp_path: Path) -> None:
    """Killed at any moment of a reader's start, the reader ends quietly: on the service's log
    (the reader's stderr too) no traceback. The run waits for the reader, which holds stderr."""
    for n in range(12):
        run = subprocess.run([sys.executable, "-c", KILLED_WHILE_STARTING, str(tmp_path), str(n / 1000)],
                             check=False, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert run.returncode == -signal.SIGKILL
        assert "Traceback" not in run.stderr, run.stderr


def fingerprint(config: Config) -> dict[str, Any]:
    """Each file's outcome as operations see it, and every output, without the run's file ids."""
    ledger = SqliteLedger(config.ledger_path)
    try:
        rows = ledger.files()
    finally:
        ledger.close()
    seen: dict[str, Any] = {}
    for row in rows:
        report = None
        if row.detail and (Path(row.detail) / "error.json").exists():
            found = json.loads((Path(row.detail) / "error.json").read_text())
            report = {kind: [(f["code"], f["message"], f.get("location"), f.get("value"))
                             for f in found[kind]] for kind in ("errors", "warnings")}  # fmt: skip
        seen[row.original_name] = (row.state, row.format, row.encoding, row.stage, row.records, report)
    out = config.state_dir / "outbound"
    for path in sorted(out.rglob("*")) if out.exists() else []:
        if path.is_file():
            seen[FILE_ID.sub("ID", str(path.relative_to(out)))] = FILE_ID.sub("ID", path.read_text("latin-1"))
    return seen


#: The defaults; and a strict source whose partners are all lenient, with routing findings.
SETTINGS = [
    {},
    {"source": [{"name": "inbound", "strictness": "strict"}],
     "partner": [{"id": "*", "strictness": "lenient"}],
     "unrouted": "quarantine", "route": [{"doc_type": ["sales_order", "shipment"], "to": ["canonical"]}]},
]  # fmt: skip


@pytest.mark.parametrize("settings", SETTINGS, ids=["defaults", "strictness-and-routing"])
def test_the_service_with_workers_gives_every_file_the_outcome_it_gets_without(
    tmp_path: Path, settings: dict[str, Any]
) -> None:
    """Every sample, every hostile file and the shared corpus, read by workers and by the
    service alone: the same states, formats, findings (codes, places, severities) and outputs."""
    inputs = [p for p in sorted((SAMPLES / "inbound").rglob("*")) if p.is_file() and p.suffix != ".md"]
    inputs += [p for p in sorted(HOSTILE.iterdir()) if p.is_file()]
    inputs += [p for p in sorted(CORPUS.rglob("*")) if p.is_file() and p.suffix in (".edi", ".xml", ".idoc")]
    results = []
    for workers in (0, 2):
        root = tmp_path / f"w{workers}"
        (root / "inbound").mkdir(parents=True)
        for n, path in enumerate(inputs):
            shutil.copyfile(path, root / "inbound" / f"{n:03}-{path.name}")
            os.utime(root / "inbound" / f"{n:03}-{path.name}", (time.time() - 60,) * 2)
        cfg = config_module.parse({**settings, "workers": workers}, root)
        ledger = SqliteLedger(cfg.ledger_path)
        service = Service(cfg, ledger)
        assert service.run(once=True) == 0
        ledger.close()
        results.append(fingerprint(cfg))
    assert len(results[0]) > len(inputs)  # outcomes and outputs
    assert {v[0] for k, v in results[0].items() if isinstance(v, tuple)} >= {"accepted", "quarantined"}
    assert results[1] == results[0]
