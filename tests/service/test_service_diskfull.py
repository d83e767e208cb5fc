"""A full destination is the destination's state, not the file's fault: the file waits, then flows.

A real filesystem fills up: a 64 KB tmpfs mounted as one target's folder (root only, as CI runs).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli, unavailable

pytestmark = pytest.mark.service

HEADER = "adjustment_id,sku,mode,quantity_change\n"


@pytest.fixture(name="small_disk")
def _small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "small"
    folder.mkdir()
    if os.geteuid() != 0:
        unavailable("mounting a small tmpfs needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_full_destination_postpones_the_file_and_it_flows_once_there_is_room(
    tmp_path: Path, small_disk: Path
) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[[source]]\nname = "inbound"\nsettle_seconds = 0.1\n'
        f'[[target]]\nname = "small"\nformat = "jsonl"\ndeliver = "local:{small_disk}"\n'
        '[[route]]\ndoc_type = "inventory_adjustment"\nfrom = ["inbound"]\nto = ["small", "canonical"]\n'
    )
    rows = "".join(f"ADJ-{i},SKU-{i},delta,{i}\n" for i in range(3000))  # about 1 MB of JSON Lines
    (root / "inbound" / "big.csv").write_text(HEADER + rows)
    (root / "inbound" / "tiny.csv").write_text(HEADER + "ADJ-T,SKU-T,delta,1\n")

    first = run_cli("--config", config, "run", "--once", "--root", root)
    assert first.returncode == 0, first.stderr
    assert '"file_postponed"' in first.stdout and "No space left on device" in first.stdout
    status = run_cli("--config", config, "status", "--root", root)
    assert "1 accepted, 1 processing" in status.stdout
    assert "waiting:" in status.stdout and "big.csv" in status.stdout and "No space left" in status.stdout
    assert "quarantine: 0 file(s)" in status.stdout
    assert not [p for p in small_disk.iterdir() if p.name.endswith(".tmp")]

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    second = run_cli("--config", config, "run", "--once", "--root", root)
    assert second.returncode == 0, second.stderr
    status = run_cli("--config", config, "status", "--root", root)
    assert "2 accepted" in status.stdout and "waiting:" not in status.stdout
    outputs = {p.name.split(".")[0]: p for p in small_disk.iterdir()}
    assert sorted(outputs) == ["big", "tiny"]
    assert len(outputs["big"].read_text().splitlines()) == 3000
