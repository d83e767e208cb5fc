"""File names from the real world: bytes that are not UTF-8, and names near the 255-byte limit."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import run_cli

CSV = b"adjustment_id,sku,mode,quantity_change\nADJ-1,SKU-1,delta,3\n"


def drop(root: Path, name: bytes, data: bytes) -> None:
    inbound = os.fsencode(root / "inbound")
    with open(os.path.join(inbound, name), "wb") as fh:
        fh.write(data)


def test_names_that_are_not_utf8_flow_like_any_other(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    drop(root, b"caf\xe9.csv", CSV)  # Latin-1, as a Windows tool writes it
    drop(root, b"bad\xff.csv", b"\x00\x01 binary")
    done = run_cli("run", "--once", "--root", root)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    processed = {e["name"]: e["outcome"] for e in events if e["event"] == "file_processed"}
    assert processed == {"caf\\xe9.csv": "accepted", "bad\\xff.csv": "quarantined"}
    (output,) = (root / "outbound" / "canonical").iterdir()
    assert json.loads(output.read_text())["source"]["file_name"] == "caf\\xe9.csv"
    (case,) = (root / "quarantine").iterdir()
    assert (case / "bad\\xff.csv").read_bytes() == b"\x00\x01 binary"
    assert os.listdir(os.fsencode(root / "inbound")) == []
    for command in (["status"], ["trace", "caf\\xe9.csv"], ["quarantine", "list"]):
        shown = run_cli(*command, "--root", root)
        assert shown.returncode == 0, (command, shown.stderr)


def test_a_name_too_long_to_derive_names_from_is_quarantined_once(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    name = "L" * 251 + ".csv"  # 255 bytes: the most a file system name holds
    (root / "inbound" / name).write_bytes(CSV)
    done = run_cli("run", "--once", "--root", root)
    assert done.returncode == 0, done.stderr
    (case,) = (root / "quarantine").iterdir()
    report = json.loads((case / "error.json").read_text())
    assert report["stage"] == "claim"
    assert [e["code"] for e in report["errors"]] == ["name_too_long"]
    assert (case / name).read_bytes() == CSV
    assert done.stdout.count('"file_claimed"') == 1
