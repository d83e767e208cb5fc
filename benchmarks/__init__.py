"""`gateway bench`: the gateway beside this machine's own floor, measured in the same run.

The floor is what it costs here to move a file durably at all: read it, hash it, write a copy
with fsync, rename, fsync the folder (files.py). The gateway does that and more (ledger
transactions, detection, decoding, validation, mapping, an archive move), so the figure that
holds on any machine is the ratio. Parsers are set beside the obvious reference on the same
input (CSV: `pandas.read_csv`; EDIFACT: pydifact's parser), each pair alternated round by round,
and memory is measured in fresh processes on two input sizes to show that it stays flat.
Latency and start-up are in latency.py. Another translator (Bots) can be timed on the same files
with `--bots-command` (reference.py); without it, its rows say it was not measured.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.reference import Reference

#: Format benchmarks contributed by their modules; each has `run() -> dict`.
EXTRA = (
    "benchmarks.edifact", "benchmarks.idoc", "benchmarks.xml", "benchmarks.sftp",
    "benchmarks.targets", "benchmarks.instances", "benchmarks.workers",
)  # fmt: skip

CSV_ROWS = 200_000
ROUNDS = 3
INTERCHANGE_MESSAGES = 5_000


def adjustment_csv(doc: str, rows: int) -> str:
    """A canonical inventory adjustment with `rows` lines."""
    head = "adjustment_id,adjusted_at,warehouse,line_no,sku,location,mode,quantity_change,reason_code\n"
    body = "".join(
        f"{doc},2026-11-26,000,{i},SKU-{i % 997:05},A-{i % 40:02}-01,delta,{i % 13 - 6},CYCLE\n"
        for i in range(rows)
    )
    return head + body


def csv_workload(rows: int = CSV_ROWS, rounds: int = ROUNDS) -> dict[str, Any]:
    """One large CSV: the gateway's decode+validate+map against pandas.read_csv alone, the two
    alternated, best of `rounds` each."""
    import pandas as pd

    from gateway import config as config_module
    from gateway.cli import check

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        path.write_text(adjustment_csv("BIG", rows))
        size = path.stat().st_size / 1e6
        cfg = config_module.parse({}, Path(tmp))
        reference, gateway = float("inf"), float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            pd.read_csv(path, dtype=str, keep_default_na=False)
            reference = min(reference, time.perf_counter() - started)
            started = time.perf_counter()
            report = check.validate(path, cfg, cfg.sources[0])
            gateway = min(gateway, time.perf_counter() - started)
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


RUN_CLI = """
import sys
from gateway.cli.main import main
result = main(sys.argv[1:])
"""

PYDIFACT = """
import sys, warnings
from pydifact.parser import Parser
warnings.simplefilter("ignore")
text = open(sys.argv[1], encoding="latin-1").read()
result = sum(1 for _ in Parser().parse(text))
"""


def interchange_workload(
    count: int = INTERCHANGE_MESSAGES, rounds: int = ROUNDS, reference: Reference | None = None
) -> dict[str, Any]:
    """One interchange of `count` ORDERS messages through `gateway run --once` in a fresh process
    (time and peak RSS) beside pydifact's parser alone on the same file and, when given, the
    external reference (a whole translation, as the gateway's), alternated; best of `rounds`."""
    from benchmarks import files
    from benchmarks.edifact import orders_interchange
    from benchmarks.reference import NOT_MEASURED

    text = orders_interchange(count)
    best = {"gateway": float("inf"), "pydifact": float("inf"), "reference": float("inf")}
    peak = {"gateway": 0.0, "pydifact": 0.0, "reference": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "orders.edi"
        source.write_text(text, encoding="latin-1")
        for n in range(rounds):
            root = Path(tmp) / f"root{n}"
            files.drop([(source.name, text)], root / "inbound")
            for name, code, args in (("gateway", RUN_CLI, ["--root", str(root), "run", "--once"]),
                                     ("pydifact", PYDIFACT, [str(source)])):  # fmt: skip
                started = time.perf_counter()
                mb, _ = peak_mb(code, *args)
                best[name] = min(best[name], time.perf_counter() - started)
                peak[name] = max(peak[name], mb)
            accepted = files.accepted_in(root)
            if reference is not None:
                inbox = Path(tmp) / f"reference{n}"
                files.drop([(source.name, text)], inbox)
                measured = reference.run(inbox)
                best["reference"] = min(best["reference"], measured.seconds)
                peak["reference"] = max(peak["reference"], measured.peak_mb)
    result = {
        "workload": f"one interchange of {count} ORDERS messages ({len(text) / 1e6:.1f} MB), whole process",
        "gateway_s": round(best["gateway"], 2),
        "gateway_messages_per_s": round(count / best["gateway"]),
        "gateway_peak_mb": round(peak["gateway"], 1),
        "pydifact_parse_s": round(best["pydifact"], 2),
        "pydifact_peak_mb": round(peak["pydifact"], 1),
        "gateway_vs_pydifact": round(best["pydifact"] / best["gateway"], 2),
        "accepted": accepted,
    }
    if reference is None:
        return result | {"reference": NOT_MEASURED}
    return result | {
        "reference": reference.name,
        "reference_s": round(best["reference"], 2),
        "reference_peak_mb": round(peak["reference"], 1),
        "gateway_vs_reference": round(best["reference"] / best["gateway"], 2),
    }


def run_all(reference: Reference | None = None) -> dict[str, Any]:
    """Every workload, with the external reference where one is given; format benchmarks join
    when their modules exist."""
    from benchmarks import files, latency
    from benchmarks.reference import small_files

    results: dict[str, Any] = {
        **files.run(),
        "small_files_vs_reference": small_files(reference),
        "latency": latency.latency(),
        "startup": latency.startup(),
        "csv": csv_workload(),
        "interchange": interchange_workload(reference=reference),
        "memory": memory_workload(),
    }
    for name in EXTRA:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        results[name.rsplit(".", 1)[-1]] = module.run()
    return results


def render(results: dict[str, Any]) -> str:
    """One block per workload, one `key: value` a line; then the README's table."""
    blocks = []
    for name, values in results.items():
        lines = [f"[{name}] {values.get('workload', '')}"]
        lines.extend(f"  {k}: {v}" for k, v in values.items() if k != "workload")
        blocks.append("\n".join(lines))
    return "\n".join([*blocks, "", table(results)])


def _measured(result: dict[str, Any], figures: str) -> str:
    """The reference cell: its name and `figures`, or why there are none."""
    if "reference_s" in result or "reference_messages_per_s" in result:
        return f"{result['reference']}, same files: {figures}"
    return f"Bots: {result['reference']}"


def _ratio(result: dict[str, Any], meaning: str) -> str:
    if "gateway_vs_reference" not in result:
        return "—"
    return f"{result['gateway_vs_reference']} ({meaning.format(name=result['reference'])})"


def table(results: dict[str, Any]) -> str:
    """The main figures as a Markdown table: workload, gateway, reference, ratio."""
    rows = ["| workload | gateway | reference in the same run | ratio |", "|---|---|---|---|"]

    def row(*cells: object) -> None:
        rows.append("| " + " | ".join(str(c) for c in cells) + " |")

    floor = "durable copy (read, sha256, write, fsync, rename, fsync dir)"
    for key in ("edifact_files", "csv_files"):
        r = results.get(key)
        if r:
            extra = f", {r['whole_cli_messages_per_s']:,} msg/s" if "whole_cli_messages_per_s" in r else ""
            row(r["workload"] + " (whole CLI / in-process)",
                f"{r['whole_cli_files_per_s']:,} / {r['in_process_files_per_s']:,} files/s{extra}",
                f"{floor}: {r['floor_files_per_s']:,} files/s",
                f"{r['whole_cli_vs_floor']} / {r['in_process_vs_floor']}")  # fmt: skip
    if r := results.get("small_files_vs_reference"):
        row(r["workload"], f"{r['gateway_messages_per_s']:,} msg/s",
            _measured(r, f"{r.get('reference_messages_per_s', 0):,} msg/s"),
            _ratio(r, "gateway msg/s ÷ {name} msg/s"))  # fmt: skip
    if r := results.get("interchange"):
        row(r["workload"], f"{r['gateway_s']} s, {r['gateway_peak_mb']} MB peak",
            f"pydifact parser alone: {r['pydifact_parse_s']} s, {r['pydifact_peak_mb']} MB",
            f"{r['gateway_vs_pydifact']}")  # fmt: skip
    if (r := results.get("interchange")) and "reference" in r:
        row(r["workload"] + ", translated", f"{r['gateway_s']} s, {r['gateway_peak_mb']} MB peak",
            _measured(r, f"{r.get('reference_s')} s, {r.get('reference_peak_mb')} MB peak"),
            _ratio(r, "{name} time ÷ gateway time"))  # fmt: skip
    if r := results.get("latency"):
        row(r["workload"], f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms", "—", "—")
    if r := results.get("startup"):
        row("`gateway --help` / `gateway status`, whole process",
            f"{r['gateway_help_ms']} ms / {r['gateway_status_ms']} ms",
            f"`python -c pass`: {r['python_c_pass_ms']} ms",
            f"{r['help_vs_python']} / {r['status_vs_python']}")  # fmt: skip
    if r := results.get("csv"):
        reference = f"`pandas.read_csv` alone: {r['pandas_read_csv_mb_per_s']} MB/s"
        row(r["workload"], f"{r['gateway_mb_per_s']} MB/s", reference, r["gateway_vs_pandas"])
    for part in (results.get("workers") or {}).values():
        row(part["workload"], f"{part['workers_s']} s", f"the same, workers = 0: {part['no_workers_s']} s",
            part["speedup"])  # fmt: skip
    return "\n".join(rows)


if __name__ == "__main__":
    print(json.dumps(run_all(), indent=2))
