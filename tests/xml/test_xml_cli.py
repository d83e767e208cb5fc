"""XML through the command line: `run --once`, `validate` and `convert` on a temporary root."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "inbound" / "xml"

CONFIG = """
[[source]]
name = "inbound"
settle_seconds = 0.05
poll_seconds = 0.2

[[target]]
name = "ubl-desadv"
format = "xml"
layout = "ubl.despatch_advice"

[[target]]
name = "erp-adj"
format = "xml"
layout = "erp.inventory_adjustments"

[[route]]
doc_type = "shipment"
from = ["inbound"]
to = ["ubl-desadv", "canonical"]

[[route]]
doc_type = "inventory_adjustment"
from = ["inbound"]
to = ["erp-adj", "canonical"]
"""


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_run_once_reads_xml_and_writes_xml(tmp_path: Path, root: Path) -> None:
    config = _config(tmp_path)
    for name in ("cxml_ship_notice_request.xml", "erp_inventory_adjustments.xml", "erp_products.xml"):
        shutil.copy(SAMPLES / name, root / "inbound" / name)
    # Both a change and a count on one line: valid canonical CSV, but not expressible in the
    # ERP XML schema, so that writer refuses it: a case for that target, the others deliver.
    (root / "inbound" / "both.csv").write_text(
        "adjustment_id,adjusted_at,warehouse,line_no,sku,mode,quantity_change,counted_quantity\n"
        "ADJ-1,2026-11-26,000,1,W-1,count,-1,5\n",
        encoding="utf-8",
    )
    result = run_cli("run", "--once", "--config", config, "--root", root)
    assert result.returncode == 0, result.stderr
    desadv = list((root / "outbound" / "ubl-desadv").glob("*.xml"))
    adjustments = list((root / "outbound" / "erp-adj").glob("*.xml"))
    assert len(desadv) == 1 and len(adjustments) == 1
    assert len(list((root / "outbound" / "canonical").glob("*.jsonl"))) == 4
    (case,) = (root / "quarantine").iterdir()
    (quarantined,) = case.iterdir()
    error = json.loads((quarantined / "error.json").read_text(encoding="utf-8"))
    assert error["original_name"] == "both.csv" and error["stage"] == "write"
    assert error["target"] == quarantined.name == "erp-adj"
    assert error["errors"][0]["code"] == "schema_violation"
    assert error["errors"][0]["location"] == {"xpath": "/Adjustment/Line/CountedQuantity", "record": 1}
    # What the gateway wrote, it reads back.
    result = run_cli("validate", *desadv, *adjustments, "--root", tmp_path / "r2")
    assert result.returncode == 0, result.stdout
    assert "ok (xml, utf-8, 1 document(s))" in result.stdout
    assert "ok (xml, utf-8, 2 document(s))" in result.stdout


def test_validate_prints_every_finding_with_line_and_xpath(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(
        "<Products>\n<Product><SKU>A</SKU><UnitCost>x</UnitCost></Product>\n"
        "<Product><SKU>B</SKU><GTIN>1</GTIN></Product>\n</Products>\n",
        encoding="utf-8",
    )
    result = run_cli("validate", bad, "--root", tmp_path / "r")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{bad}: line 2, at /Products/Product[1]/UnitCost: ")
    assert lines[1].startswith(f"{bad}: line 3, at /Products/Product[2]/GTIN: ")


def test_convert_prints_canonical_records_and_writes_a_target(tmp_path: Path) -> None:
    result = run_cli("convert", SAMPLES / "ubl_receipt_advice.xml", "--root", tmp_path / "r")
    assert result.returncode == 0, result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["doc_type"] == "receipt" and record["lines"][0]["quantity_rejected"] == "2"
    out = tmp_path / "out"
    result = run_cli("convert", SAMPLES / "ubl_despatch_advice.xml", "--target", "ubl-desadv", "--out", out,
                     "--config", _config(tmp_path), "--root", tmp_path / "r")  # fmt: skip
    assert result.returncode == 0, result.stderr
    (written,) = out.glob("*.xml")
    assert written.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<DespatchAdvice')
