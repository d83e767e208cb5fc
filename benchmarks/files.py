"""Small files through the whole gateway beside the durable-copy floor, alternated in one run.

The floor is what it costs this machine to move a file durably at all: read it, hash it, write
a copy, fsync it, rename it into place and fsync the folder. The gateway does that and more
(ledger transactions, detection, decoding, validation, mapping, an archive move), so the figure
that carries over to another machine is the ratio. Each round copies the same input afresh and
runs the floor and the gateway one after the other, so a burst of load on a shared machine falls
on both; the best round of each is kept. The gateway runs twice per round: as the whole command
line (`gateway run --once` in a new process, start-up included) and in-process (the service
alone). The files' mtimes are set a minute back, as for files that arrived before the run, and
the configuration is the default one.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import adjustment_csv
from benchmarks.edifact import interchange

ROUNDS = 3
FILES = 500


def durable_copy(files: list[Path], out: Path) -> float:
    """Seconds to read, hash, write, fsync, rename and fsync the folder, file by file."""
    started = time.perf_counter()
    folder = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for path in files:
            data = path.read_bytes()
            hashlib.sha256(data).hexdigest()
            tmp = out / (path.name + ".tmp")
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.rename(out / path.name)
            os.fsync(folder)
    finally:
        os.close(folder)
    return time.perf_counter() - started


def edifact_orders(count: int) -> list[tuple[str, str]]:
    """(name, text) of `count` small ORDERS interchanges, every other one of two messages."""
    one, two = interchange(100), interchange(len(interchange(100)) + 1)
    return [(f"orders-{i:05}.edi", (two if i % 2 else one).replace("BENCH1", f"B{i:012}"))
            for i in range(count)]  # fmt: skip


def messages(files: list[tuple[str, str]]) -> int:
    """The EDIFACT messages in these files."""
    return sum(text.count("UNH+") for _, text in files)


def canonical_csv(count: int, rows: int = 3) -> list[tuple[str, str]]:
    """(name, text) of `count` small canonical CSV files."""
    return [(f"adj-{i:05}.csv", adjustment_csv(f"ADJ-{i}", rows)) for i in range(count)]


def drop(files: list[tuple[str, str]], folder: Path) -> list[Path]:
    """Write (name, text) pairs into a new `folder`, last modified a minute ago."""
    folder.mkdir(parents=True)
    past = time.time() - 60
    paths = []
    for name, text in files:
        path = folder / name
        path.write_text(text, encoding="latin-1")
        os.utime(path, (past, past))
        paths.append(path)
    return paths


def whole_cli(root: Path) -> float:
    """Seconds of `gateway run --once` on `root` in a new process, start-up included."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gateway", "--root", str(root), "run", "--once"],
                   check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def _in_process(root: Path) -> float:
    from gateway import config as config_module
    from gateway.ledger.sqlite import SqliteLedger
    from gateway.service import Service

    cfg = config_module.parse({}, root)
    for name in ("work", "quarantine", "archive"):
        cfg.folder(name).mkdir(parents=True, exist_ok=True)
    ledger = SqliteLedger(cfg.ledger_path)
    try:
        started = time.perf_counter()
        Service(cfg, ledger).run(once=True)
        return time.perf_counter() - started
    finally:
        ledger.close()


def accepted_in(root: Path) -> int:
    """How many files the ledger under `root` accepted."""
    from gateway.ledger.sqlite import SqliteLedger
    from gateway.ledger.states import FileState

    ledger = SqliteLedger(root / "gateway.db")
    try:
        return len(ledger.files(FileState.ACCEPTED))
    finally:
        ledger.close()


def alternated(files: list[tuple[str, str]], rounds: int = ROUNDS) -> dict[str, Any]:
    """Best seconds of the floor, the whole command line and the in-process service, alternated."""
    best: dict[str, float] = {}
    accepted = {}
    runs: dict[str, Callable[[Path], float]] = {"whole_cli": whole_cli, "in_process": _in_process}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            copies = drop(files, base / "floor-in")
            (base / "floor-out").mkdir()
            best["floor"] = min(best.get("floor", float("inf")), durable_copy(copies, base / "floor-out"))
            for name, run in runs.items():
                root = base / name
                drop(files, root / "inbound")
                best[name] = min(best.get(name, float("inf")), run(root))
                accepted[name] = accepted_in(root)
    return {"seconds": best, "accepted": accepted}


def figures(
    label: str, count: int, timing: dict[str, Any], unit: str = "files", per: int = 0
) -> dict[str, Any]:
    """Files per second of each side of `alternated`'s timing and the gateway's ratios to the
    floor; with `per`, also `unit`s (messages) per second."""
    seconds = timing["seconds"]
    result: dict[str, Any] = {
        "workload": label,
        "floor_files_per_s": round(count / seconds["floor"], 1),
        "whole_cli_files_per_s": round(count / seconds["whole_cli"], 1),
        "in_process_files_per_s": round(count / seconds["in_process"], 1),
        "whole_cli_vs_floor": round(seconds["floor"] / seconds["whole_cli"], 3),
        "in_process_vs_floor": round(seconds["floor"] / seconds["in_process"], 3),
        "accepted": timing["accepted"],
    }
    if per:
        result[f"whole_cli_{unit}_per_s"] = round(per / seconds["whole_cli"], 1)
        result[f"in_process_{unit}_per_s"] = round(per / seconds["in_process"], 1)
    return result


def run(count: int = FILES) -> dict[str, Any]:
    """Both small-file workloads."""
    orders = edifact_orders(count)
    csv_files = canonical_csv(count)
    edifact_label = f"{count} small EDIFACT ORDERS files ({messages(orders)} messages), run --once"
    csv_label = f"{count} small canonical CSV files (3 lines), run --once"
    return {
        "edifact_files": figures(edifact_label, count, alternated(orders), "messages", messages(orders)),
        "csv_files": figures(csv_label, count, alternated(csv_files)),
    }

