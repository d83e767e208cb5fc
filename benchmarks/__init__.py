"""`gateway bench`: the gateway beside this machine's own floor, measured in the same run.

The floor is what it costs here to move a file durably at all: read it, hash it, write a copy
with fsync, rename. The gateway does that and more (ledger transactions, detection, decoding,
validation, mapping, an archive move), so the figure that holds on any machine is the ratio.
Parsers are set beside the obvious reference on the same input (CSV: `pandas.read_csv`), and
memory is measured in fresh processes on two input sizes to show that it stays flat.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: Format benchmarks contributed by their modules; each has `run() -> dict`.
EXTRA = (
    "benchmarks.edifact", "benchmarks.idoc", "benchmarks.xml", "benchmarks.sftp",
    "benchmarks.targets", "benchmarks.instances",
)  # fmt: skip

FILES = 200
ROWS_PER_FILE = 50
CSV_ROWS = 200_000


def adjustment_csv(doc: str, rows: int) -> str:
    """A canonical inventory adjustment with `rows` lines."""
    head = "adjustment_id,adjusted_at,warehouse,line_no,sku,location,mode,quantity_change,reason_code\n"
    body = "".join(
        f"{doc},2026-11-26,000,{i},SKU-{i % 997:05},A-{i % 40:02}-01,delta,{i % 13 - 6},CYCLE\n"
        for i in range(rows)
    )
    return head + body


def _floor(files: list[Path], out: Path) -> float:
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        hashlib.sha256(data).hexdigest()
        tmp = out / (path.name + ".tmp")
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.rename(out / path.name)
    return time.perf_counter() - started


def files_workload(count: int = FILES) -> dict[str, Any]:
    """Small canonical CSV files through the whole service vs the durable-copy floor."""
    from gateway import config as config_module
    from gateway.ledger.sqlite import SqliteLedger
    from gateway.ledger.states import FileState
    from gateway.service import Service

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        source = base / "source"
        source.mkdir()
        files = []
        for i in range(count):
            path = source / f"adj-{i:05}.csv"
            path.write_text(adjustment_csv(f"ADJ-{i}", ROWS_PER_FILE))
            files.append(path)
        floor_out = base / "floor"
        floor_out.mkdir()
        floor = _floor(files, floor_out)
        root = base / "root"
        (root / "inbound").mkdir(parents=True)
        for path in files:
            os.link(path, root / "inbound" / path.name)
        raw = {"source": [{"name": "inbound", "settle_seconds": 0.001, "poll_seconds": 0.01}]}
        cfg = config_module.parse(raw, root)
        ledger = SqliteLedger(cfg.ledger_path)
        started = time.perf_counter()
        Service(cfg, ledger).run(once=True)
        gateway = time.perf_counter() - started
        accepted = len(ledger.files(FileState.ACCEPTED))
        ledger.close()
    return {
        "workload": f"{count} canonical CSV files of {ROWS_PER_FILE} lines, claim to archive",
        "floor_files_per_s": round(count / floor, 1),
        "gateway_files_per_s": round(count / gateway, 1),
        "gateway_vs_floor": round(floor / gateway, 3),
        "accepted": accepted,
    }


def csv_workload(rows: int = CSV_ROWS) -> dict[str, Any]:
    """One large CSV: the gateway's decode+validate+map against pandas.read_csv alone."""
    import pandas as pd

    from gateway import config as config_module
    from gateway.cli import check

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        path.write_text(adjustment_csv("BIG", rows))
        size = path.stat().st_size / 1e6
        started = time.perf_counter()
        pd.read_csv(path, dtype=str, keep_default_na=False)
        reference = time.perf_counter() - started
        cfg = config_module.parse({}, Path(tmp))
        started = time.perf_counter()
        report = check.validate(path, cfg, cfg.sources[0])
        gateway = time.perf_counter() - started
    return {
        "workload": f"one canonical CSV of {rows} lines ({size:.1f} MB): validate and map",
        "pandas_read_csv_mb_per_s": round(size / reference, 1),
        "gateway_mb_per_s": round(size / gateway, 1),
        "gateway_vs_pandas": round(reference / gateway, 3),
        "valid": report.valid,
    }


# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report the
# parent's peak; VmHWM belongs to the new process image alone.
PEAK = """
import re as _re
from pathlib import Path as _Path
print(_re.search(r"VmHWM:\\s+(\\d+) kB", _Path("/proc/self/status").read_text()).group(1), result)
"""

VALIDATE = """
import sys
from pathlib import Path
from gateway import config
from gateway.cli import check
path = Path(sys.argv[1])
cfg = config.parse({}, path.parent)
report = check.validate(path, cfg, cfg.sources[0])
assert report.valid, report.findings[:3]
result = report.records
"""


def peak_mb(code: str, *args: str) -> tuple[float, str]:
    """Run `code` (which sets `result`) in a fresh interpreter: (its peak RSS in MB, result)."""
    out = subprocess.run(
        [sys.executable, "-c", code + PEAK, *args], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[-2]) / 1024, out[-1]


def validate_peak_mb(path: Path) -> tuple[float, int]:
    """Peak RSS (MB) and document count of `gateway validate` on a valid file, in a fresh process."""
    peak, records = peak_mb(VALIDATE, str(path))
    return peak, int(records)


def memory_workload(small: int = 50_000, large: int = 500_000) -> dict[str, Any]:
    """Peak RSS of `validate` in fresh processes on a file and one ten times larger."""
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (small, large):
            path = Path(tmp) / f"m{rows}.csv"
            # Many documents, so the reader streams document by document.
            with path.open("w") as fh:
                fh.write(adjustment_csv("M0", 0))
                for d in range(rows // 100):
                    fh.write(adjustment_csv(f"M{d}", 100).split("\n", 1)[1])
            peaks[rows] = (validate_peak_mb(path)[0], path.stat().st_size / 1e6)
    (small_mb, small_size), (large_mb, large_size) = peaks[small], peaks[large]
    return {
        "workload": "peak RSS of `gateway validate` on a canonical CSV and one 10x larger",
        f"peak_mb_{small_size:.0f}mb_file": round(small_mb, 1),
        f"peak_mb_{large_size:.0f}mb_file": round(large_mb, 1),
        "growth_ratio": round(large_mb / small_mb, 2),
    }


def run_all() -> dict[str, Any]:
    """Every workload; format benchmarks join when their modules exist."""
    results: dict[str, Any] = {
        "files": files_workload(),
        "csv": csv_workload(),
        "memory": memory_workload(),
    }
    for name in EXTRA:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        results[name.rsplit("_", 1)[-1]] = module.run()
    return results


def render(results: dict[str, Any]) -> str:
    """One block per workload, one `key: value` a line."""
    blocks = []
    for name, values in results.items():
        lines = [f"[{name}] {values.get('workload', '')}"]
        lines.extend(f"  {k}: {v}" for k, v in values.items() if k != "workload")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


if __name__ == "__main__":
    print(json.dumps(run_all(), indent=2))
