"""`gateway bench`'s small-file workload does what it reports: every file accepted on both sides.

Speed is measured by the bench, never asserted here; this checks that the workload is real (the
floor copies every file, the gateway accepts every file, whole CLI and in process; an external
reference command gets the same bytes, and its peak RSS is its own) and that the table shows each
figure beside its reference.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from benchmarks import files, interchange_workload, reference, table
from benchmarks.reference import Reference


def test_the_floor_copies_every_file_durably(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    paths = []
    for name, text in files.canonical_csv(3):
        path = inputs / name
        path.write_text(text)
        paths.append(path)
    out = tmp_path / "out"
    out.mkdir()
    assert files.durable_copy(paths, out) > 0
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert all((out / p.name).read_bytes() == p.read_bytes() for p in paths)


def test_both_gateway_runs_accept_every_file_and_the_table_shows_the_ratio() -> None:
    orders = files.edifact_orders(4)
    assert files.messages(orders) == 6  # every other file holds two messages
    timing = files.alternated(orders, rounds=1)
    assert timing["accepted"] == {"whole_cli": 4, "in_process": 4}
    result = files.figures("4 small EDIFACT files", 4, timing, "messages", files.messages(orders))
    rendered = table({"edifact_files": result})
    (row,) = [line for line in rendered.splitlines() if line.startswith("| 4 small EDIFACT files")]
    assert f"{result['whole_cli_vs_floor']} / {result['in_process_vs_floor']}" in row
    assert "durable copy" in row


def test_the_workers_comparison_accepts_every_file_both_ways_and_is_in_the_table() -> None:
    from benchmarks import workers

    orders = files.edifact_orders(3)
    result = workers.compare("3 small EDIFACT files", orders, files.messages(orders), 1)
    assert result["accepted"] == [3, 3]
    assert abs(result["speedup"] - result["no_workers_s"] / result["workers_s"]) < 0.05  # of rounded seconds
    (row,) = [line for line in table({"workers": {"small": result}}).splitlines() if "3 small" in line]
    assert "workers = 0" in row and str(result["speedup"]) in row


def copier(out: Path, *extra: str) -> Reference:
    """A stand-in for Bots: a real process that copies the folder it is given into `out`."""
    code = "; ".join(["import shutil, sys", *extra,
                      "shutil.copytree(sys.argv[1], sys.argv[2], dirs_exist_ok=True)"])  # fmt: skip
    python, target = shlex.quote(sys.executable), shlex.quote(str(out))
    return Reference(f"{python} -c {shlex.quote(code)} {{inbox}} {target}")


def test_the_reference_gets_the_same_files_and_the_table_shows_its_ratio(tmp_path: Path) -> None:
    result = reference.small_files(copier(tmp_path / "out"), count=4, rounds=2)
    orders = files.edifact_orders(4)
    assert {p.name: p.read_text(encoding="latin-1") for p in (tmp_path / "out").iterdir()} == dict(orders)
    assert result["accepted"] == 4
    assert result["reference"] == "Bots"
    assert result["reference_messages_per_s"] > 0
    assert result["gateway_vs_reference"] == pytest.approx(
        result["gateway_messages_per_s"] / result["reference_messages_per_s"], rel=0.1
    )
    (row,) = [line for line in table({"small_files_vs_reference": result}).splitlines() if "4 small" in line]
    assert f"Bots, same files: {result['reference_messages_per_s']:,} msg/s" in row
    assert f"{result['gateway_vs_reference']} (gateway msg/s ÷ Bots msg/s)" in row


def test_the_interchange_is_timed_beside_the_reference_with_its_peak_rss(tmp_path: Path) -> None:
    # The stand-in holds 80 MB while it copies: the peak must be its own, not the bench's.
    hog = copier(tmp_path / "out", "hold = b'x' * 80_000_000")
    result = interchange_workload(count=3, rounds=1, reference=hog)
    assert [p.read_text(encoding="latin-1").count("UNH+") for p in (tmp_path / "out").iterdir()] == [3]
    assert result["accepted"] == 1
    assert 80 <= result["reference_peak_mb"] < 80 + result["gateway_peak_mb"]
    assert result["reference_s"] > 0
    rendered = table({"interchange": result})
    assert f"{result['reference_s']} s, {result['reference_peak_mb']} MB peak" in rendered
    assert f"{result['gateway_vs_reference']} (Bots time ÷ gateway time)" in rendered


def test_without_a_reference_command_the_rows_say_so(tmp_path: Path) -> None:
    result = reference.small_files(None, count=2, rounds=1)
    assert result["accepted"] == 2
    (row,) = [line for line in table({"small_files_vs_reference": result}).splitlines() if "2 small" in line]
    assert row.endswith("| Bots: not measured (no --bots-command) | — |")


def test_a_failing_or_folderless_reference_command_is_refused(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    failing = Reference(f"{shlex.quote(sys.executable)} -c 'import sys; sys.exit(\"no grammar\")' {{inbox}}")
    with pytest.raises(reference.ReferenceFailed, match="no grammar"):
        failing.run(inbox)
    with pytest.raises(ValueError, match="must contain"):
        Reference("bots-engine -c config")
