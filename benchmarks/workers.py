"""Reader processes (`workers`) against reading in the service: the same files through
`gateway run --once` as a whole process, with `workers = 0` and with one worker per core beyond
the first (at least one), alternated round by round, best of three each. Whether the workers
pay on this machine is this figure; `workers = "auto"` follows what it showed here.

Also `.venv/bin/python -m benchmarks.workers`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.edifact import orders_interchange
from benchmarks.files import accepted_in, drop, edifact_orders, messages

ROUNDS = 3


def _run(root: Path, workers: int) -> float:
    config = root.parent / f"{root.name}.toml"
    config.write_text(f"workers = {workers}\n")
    started = time.perf_counter()
    command = [sys.executable, "-m", "gateway", "--config", str(config), "--root", str(root), "run", "--once"]
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def compare(label: str, files: list[tuple[str, str]], count: int, workers: int) -> dict[str, Any]:
    """Best seconds with no workers and with `workers`, alternated."""
    best = {0: float("inf"), workers: float("inf")}
    accepted = {}
    for n in range(ROUNDS):
        with tempfile.TemporaryDirectory() as tmp:
            for each in (0, workers):
                root = Path(tmp) / f"w{each}-{n}"
                drop(files, root / "inbound")
                best[each] = min(best[each], _run(root, each))
                accepted[each] = accepted_in(root)
    return {
        "workload": f"{label}, run --once (whole process): workers = 0 / {workers}",
        "no_workers_s": round(best[0], 2),
        "workers_s": round(best[workers], 2),
        "messages_per_s": [round(count / best[0], 1), round(count / best[workers], 1)],
        "speedup": round(best[0] / best[workers], 2),
        "accepted": [accepted[0], accepted[workers]],
    }


def run() -> dict[str, Any]:
    workers = max(1, (os.cpu_count() or 1) - 1)
    small = edifact_orders(500)
    big = [("orders.edi", orders_interchange(5000))]
    label = f"500 small EDIFACT ORDERS files ({messages(small)} messages)"
    return {
        "small": compare(label, small, messages(small), workers),
        "interchange": compare("one interchange of 5000 ORDERS messages", big, 5000, workers),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
