"""`gateway bench`'s small-file workload does what it reports: every file accepted on both sides.

Speed is measured by the bench, never asserted here; this checks that the workload is real (the
floor copies every file, the gateway accepts every file, whole CLI and in process) and that the
table shows each figure beside its reference.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import files, table


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
