"""The hostile corpus (expected.toml): every input gives exactly its expected finding, through
the real command line: one `gateway validate --json` over all the files, one `gateway run
--once` over the inputs whose hostility is in their names, links or the outputs they make."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_cli
from tests.waiting import file_states

HERE = Path(__file__).parent
FILES = HERE / "files"
EXPECTED: dict[str, Any] = tomllib.loads((HERE / "expected.toml").read_text(encoding="utf-8"))
VALIDATE: dict[str, dict[str, Any]] = EXPECTED["validate"]
RUN: dict[str, dict[str, Any]] = EXPECTED["run"]
ADJUSTMENTS = "adjustment_id,sku,mode,quantity_change\n"


def wide_header(folder: Path, name: str) -> str:
    (folder / name).write_text(",".join("c" * (i % 3 + 1) for i in range(200_000)) + "\n1\n")
    return name


def late_nul(folder: Path, name: str) -> str:
    rows = "".join(f"A{i},SKU-{i},delta,{i}\n" for i in range(300))  # past the first 4 KB
    (folder / name).write_bytes((ADJUSTMENTS + rows).encode() + b"A9,S\x009,delta,1\n")
    return name


def huge_line(folder: Path, name: str) -> str:
    (folder / name).write_text(ADJUSTMENTS + "A1," + "S" * (2 << 20) + ",delta,1\n")
    return name


def long_name(folder: Path, name: str) -> str:
    long = "n" * 251 + ".csv"  # 255 bytes: the most one path component holds
    (folder / long).write_text(ADJUSTMENTS + "LONG,SKU-1,delta,1\n")
    return long


def latin1_name(folder: Path, name: str) -> str:
    raw = os.fsencode(folder) + b"/caf\xe9.csv"
    with open(raw, "wb") as fh:
        fh.write((ADJUSTMENTS + "CAFE,SKU-1,delta,1\n").encode())
    return "caf\\xe9.csv"  # as the ledger records it, readably


def hard_link(folder: Path, name: str) -> str:
    outside = folder.parent / "outside.csv"
    outside.write_text(ADJUSTMENTS + "SECRET,SKU-1,delta,1\n")
    os.link(outside, folder / "hard.csv")
    return "hard.csv"


def symlink(folder: Path, name: str) -> str:
    outside = folder.parent / "target.csv"
    outside.write_text(ADJUSTMENTS + "LINKED,SKU-1,delta,1\n")
    os.symlink(outside, folder / "sym.csv")
    return "sym.csv"


GENERATORS: dict[str, Callable[[Path, str], str]] = {
    f.__name__: f for f in (wide_header, late_nul, huge_line, long_name, latin1_name, hard_link, symlink)
}


def test_the_corpus_and_its_expectations_match() -> None:
    listed = {n for n, e in VALIDATE.items() if "generate" not in e}
    listed |= {n for n, e in RUN.items() if "generate" not in e}
    assert sorted(listed) == sorted(p.name for p in FILES.iterdir())
    generated = [e["generate"] for e in (*VALIDATE.values(), *RUN.values()) if "generate" in e]
    assert sorted(generated) == sorted(GENERATORS)
    for row, test in EXPECTED["elsewhere"].items():
        path, _, name = test.partition("::")
        assert (REPO / path).is_file(), row
        assert not name or f"def {name}(" in (REPO / path).read_text(), row


@pytest.fixture(name="validated", scope="module")
def _validated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("generated")
    paths = [FILES / n if "generate" not in e else folder / GENERATORS[e["generate"]](folder, n)
             for n, e in VALIDATE.items()]  # fmt: skip
    done = run_cli("validate", "--json", *paths)
    assert done.returncode == 1, done.stderr  # every one is refused
    return {Path(r["file"]).name: r for r in json.loads(done.stdout)}


@pytest.mark.parametrize("name", sorted(VALIDATE))
def test_validate_gives_the_expected_finding(name: str, validated: dict[str, dict[str, Any]]) -> None:
    expected, report = VALIDATE[name], validated[name]
    assert report["errors"], report
    first = report["errors"][0]
    assert first["code"] == expected["code"], report["errors"][:3]
    assert first["location"] | expected.get("location", {}) == first["location"], first
    assert "internal_error" not in {e["code"] for e in report["errors"]}


@pytest.fixture(name="ran", scope="module")
def _ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str]:
    """One drain over every [run] input, with a human-facing CSV target split per document."""
    base = tmp_path_factory.mktemp("run")
    root = base / "root"
    inbound = root / "inbound"
    inbound.mkdir(parents=True)
    names = {}
    for name, expected in RUN.items():
        if "generate" in expected:
            names[name] = GENERATORS[expected["generate"]](inbound, name)
        else:
            (inbound / name).write_bytes((FILES / name).read_bytes())
            names[name] = name
    config = base / "gateway.toml"
    config.write_text(
        '[[source]]\nname = "inbound"\nsettle_seconds = 0.05\n'
        '[[target]]\nname = "sheet"\nformat = "canonical_csv"\ndeliver = "local:outbound/sheet"\n'
        'split = "document"\nfile_name = "{layout}.{stem}.{doc_id}.{file_id}.csv"\n'
        '[[route]]\ndoc_type = ["inventory_adjustment", "shipment"]\nfrom = ["inbound"]\nto = ["sheet"]\n'
    )
    done = run_cli("--config", config, "run", "--once", "--root", root)
    assert done.returncode == 0, done.stderr
    status = run_cli("--config", config, "status", "--root", root)
    assert status.returncode == 0, status.stderr
    return root, names, status.stdout


@pytest.mark.parametrize("name", sorted(RUN))
def test_run_gives_the_expected_outcome(name: str, ran: tuple[Path, dict[str, str], str]) -> None:
    root, names, status = ran
    expected, shown = RUN[name], names[name]
    states = {k: v for k, v in file_states(root / "gateway.db").items()}
    if expected["outcome"] == "refused":  # left where it is, never read, named in status
        assert shown not in states
        assert f"{shown!r} a " in status and "link" in status
        return
    assert states.get(shown) == expected["outcome"], states
    rows = [json.loads(p.read_text()) for p in (root / "quarantine").glob("*/error.json")]
    codes = [e["code"] for r in rows if r.get("original_name") == shown for e in r["errors"]]
    assert codes[:1] == ([expected["code"]] if "code" in expected else []), rows
    outputs = [p for p in (root / "outbound" / "sheet").glob(f"*{Path(shown).stem[:20]}*")]
    if "outputs" in expected:
        assert len(outputs) == expected["outputs"], outputs
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in outputs)
    for fragment in expected.get("output_contains", []):
        assert fragment in text, text[:500]
