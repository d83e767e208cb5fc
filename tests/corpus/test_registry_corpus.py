"""Every file of the registry corpus (registry.toml, fetched by fetch.py) gets the outcome a person
reading it gives: refused with exactly the findings that block it, or accepted with the values a
person reads in it, written by hand in registry.toml."""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import check
from gateway.config import Config
from tests.conftest import run_cli, unavailable

HERE = Path(__file__).resolve().parent
MANIFEST = tomllib.loads((HERE / "registry.toml").read_text(encoding="utf-8"))
FOLDER = HERE / "real" / "registry"


def value_at(data: Any, path: str) -> Any:
    """The value at a dotted canonical path (`ship_to.city`, `extensions.quantities.59`)."""
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def fetched(name: str) -> Path:
    path = FOLDER / name
    if not path.is_file():
        unavailable(f"the registry corpus is not fetched: run python tests/corpus/fetch.py ({name})")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MANIFEST["files"][name]["sha256"]
    return path


def test_the_corpus_is_large_and_every_file_comes_from_a_recorded_package() -> None:
    files = MANIFEST["files"]
    assert len(files) >= 40
    assert {entry["package"] for entry in files.values()} == set(MANIFEST["packages"])
    for package in MANIFEST["packages"].values():
        assert package["registry"] in ("pypi", "npm") and package["licence"] and package["version"]


@pytest.mark.parametrize("name", sorted(MANIFEST["files"]))
def test_a_real_file_gets_the_outcome_a_person_gives_it(
    name: str, make_config: Callable[..., Config]
) -> None:
    entry = MANIFEST["files"][name]
    path = fetched(name)
    config = make_config()
    report = check.Report(path)
    records = [r.to_dict() for r in check.read(path, config, config.sources[0], report)]
    assert [str(f.code) for f in report.findings] == entry["errors"], report.findings
    assert [str(f.code) for f in report.warnings] == entry.get("warnings", []), report.warnings
    if entry["outcome"] == "quarantined":
        assert entry["errors"] and not report.valid
        return
    assert report.valid and records
    expected = dict(entry.get("values", {}))
    lines = expected.pop("lines", [])
    first = records[0]
    assert {path: value_at(first, path) for path in expected} == expected
    assert len(first.get("lines") or []) == len(lines)
    for got, want in zip(first.get("lines") or [], lines, strict=True):
        assert {path: value_at(got, path) for path in want} == want


def test_the_service_gives_every_real_file_its_outcome_in_one_run(root: Path) -> None:
    """The same outcomes from `run --once` over the whole corpus at once: quarantined files with
    exactly their codes in error.json, accepted ones in the canonical output."""
    for name in MANIFEST["files"]:
        shutil.copy(fetched(name), root / "inbound" / Path(name).name)
    done = run_cli("run", "--once", "--root", root)
    assert done.returncode == 0, done.stdout + done.stderr
    refused = {}
    for report in (root / "quarantine").glob("*/error.json"):
        data = json.loads(report.read_text(encoding="utf-8"))
        refused[data["original_name"]] = [e["code"] for e in data["errors"]]
    accepted = {}
    for output in (root / "outbound").rglob("*.jsonl"):
        for line in output.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            accepted.setdefault(record["source"]["file_name"], []).append(record["doc_id"])
    for name, entry in MANIFEST["files"].items():
        base = Path(name).name
        if entry["outcome"] == "quarantined":
            assert (refused.get(base), base in accepted) == (entry["errors"], False), name
        else:
            order = entry["values"]["order_number"]
            assert (base in refused, accepted.get(base, [None])[0]) == (False, order), name
