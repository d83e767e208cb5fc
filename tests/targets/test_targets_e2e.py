"""End to end through `gateway run --once`: a canonical CSV shipment in, Sage and NetSuite files out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from gateway.targets.layout import layouts
from gateway.targets.sage100 import job_definition
from tests.conftest import run_cli
from tests.targets.test_targets_golden import EXPECTED, INBOUND, REPO

CONFIG = """
unrouted = "quarantine"

[[source]]
name = "wms"
side = "wms"
path = "inbound"
settle_seconds = 0.05
poll_seconds = 0.1

[[target]]
name = "sage"
format = "sage100.shipment"
value_map = "wms_to_sage100"
done_file = true

[[target]]
name = "netsuite"
format = "netsuite"
adjustment_account = "Inventory Adjustment"
value_map = { warehouse = { DC1 = "East Coast DC", DC2 = "West Coast DC" } }

[[route]]
doc_type = "shipment"
from = ["wms"]
to = ["sage", "netsuite", "canonical"]
"""


def setup(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG, encoding="utf-8")
    assert run_cli("--config", config, "--root", root, "config", "check").returncode == 0
    return root, config


def test_shipment_to_sage_and_netsuite(tmp_path: Path) -> None:
    root, config = setup(tmp_path)
    shutil.copy(INBOUND / "erp-shipment.csv", root / "inbound" / "erp-shipment.csv")
    result = run_cli("--config", config, "--root", root, "run", "--once")
    assert result.returncode == 0, result.stderr
    sage = sorted((root / "outbound" / "sage").iterdir())
    assert [p.name.split(".")[0] for p in sage] == ["shipment", "shipment"]
    data, done = (sage[0], sage[1]) if sage[1].name.endswith(".ok") else (sage[1], sage[0])
    assert done.name == data.name + ".ok" and done.read_bytes() == b""
    assert data.read_bytes() == (EXPECTED / "sage100" / "shipment.erp-shipment.csv").read_bytes()
    (netsuite,) = (root / "outbound" / "netsuite").iterdir()
    assert netsuite.name.startswith("item_fulfillment.erp-shipment.")
    assert netsuite.read_bytes() == (EXPECTED / "netsuite" / "item_fulfillment.erp-shipment.csv").read_bytes()
    assert len(list((root / "outbound" / "canonical").iterdir())) == 1
    assert not (root / "quarantine").exists() or not any((root / "quarantine").iterdir())


def test_a_shipment_sage_cannot_hold_is_a_case_for_sage_alone(tmp_path: Path) -> None:
    root, config = setup(tmp_path)
    text = (INBOUND / "erp-shipment.csv").read_text(encoding="utf-8").replace("0001240", "SO-00001240")
    (root / "inbound" / "long-order.csv").write_text(text, encoding="utf-8")
    result = run_cli("--config", config, "--root", root, "run", "--once")
    assert result.returncode == 0, result.stderr
    assert not (root / "outbound" / "sage").exists() or not list((root / "outbound" / "sage").iterdir())
    for target in ("netsuite", "canonical"):
        published = list((root / "outbound" / target).iterdir())
        assert len(published) == 1 and not published[0].name.endswith(".tmp")
    (case,) = (root / "quarantine").iterdir()
    assert [p.name for p in case.iterdir()] == ["sage"]
    folder = case / "sage"
    error = json.loads((folder / "error.json").read_text(encoding="utf-8"))
    assert (error["stage"], error["target"], error["file_id"]) == ("write", "sage", case.name)
    (finding,) = error["errors"]
    assert finding["code"] == "too_long"
    assert finding["location"] == {"field": "SalesOrderNo", "record": "SHP-5002"}
    assert finding["value"] == "SO-00001240" and "max 7" in finding["rule"]
    assert "SalesOrderNo" in (folder / "error.txt").read_text(encoding="utf-8")


def test_domain_violation_from_the_wms_is_quarantined_at_route(tmp_path: Path) -> None:
    root, config = setup(tmp_path)
    shutil.copy(INBOUND / "erp-sales-order.csv", root / "inbound" / "erp-sales-order.csv")
    assert run_cli("--config", config, "--root", root, "run", "--once").returncode == 0
    (folder,) = (root / "quarantine").iterdir()
    error = json.loads((folder / "error.json").read_text(encoding="utf-8"))
    assert error["stage"] == "route"
    assert [e["code"] for e in error["errors"]] == ["domain_violation"]


def test_deploy_job_definitions_match_the_layouts() -> None:
    for name, layout in layouts("sage100").items():
        shipped = REPO / "deploy" / "sage100" / f"{name}.md"
        assert shipped.read_text(encoding="utf-8") == job_definition(layout), f"regenerate {shipped.name}"


def test_example_config_is_valid(tmp_path: Path) -> None:
    example = REPO / "deploy" / "erp-targets.toml.example"
    result = run_cli("--config", example, "--root", tmp_path / "root", "config", "check")
    assert result.returncode == 0, result.stdout + result.stderr
