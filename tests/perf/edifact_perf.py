"""Opt-in EDIFACT performance check (not collected by pytest: run it by hand).

    .venv/bin/python tests/perf/edifact_perf.py [--mb 200]

1. Speed: the gateway's parse + validate against pydifact's parser on a generated 2.2 MB
   interchange, both measured in this run (benchmarks/edifact.py; `gateway bench` can call it).
2. Memory: a generated interchange of --mb megabytes is validated and mapped to canonical records
   by the real reader in a child process, which reports its peak RSS (resource.getrusage).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from gateway import config
from gateway.cli import check
from gateway.config import SourceConfig
path = Path(sys.argv[1])
cfg = config.parse({}, path.parent)
report = check.Report(path)
started = time.perf_counter()
records = sum(1 for _ in check.read(path, cfg, SourceConfig(name="perf"), report))
print(json.dumps({
    "records": records, "findings": len(report.findings), "format": report.format,
    "seconds": round(time.perf_counter() - started, 2),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    from benchmarks import edifact as bench_edifact

    speed = bench_edifact.run()
    print("speed", json.dumps(speed))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.edi"
        size = bench_edifact.write_interchange(path, args.mb * 1_000_000)
        child = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                               check=True, timeout=3600)  # fmt: skip
        memory = json.loads(child.stdout)
    memory["bytes"] = size
    print("memory", json.dumps(memory))
    ok = float(str(speed["ratio"])) >= 20 and memory["peak_rss_mb"] < 200 and memory["findings"] == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
