"""A real partner file through the ERP targets: SAP's DELVRY07 sample as a shipment."""

from __future__ import annotations

from pathlib import Path

from gateway import config as config_module
from gateway.cli.check import convert_to_target

DELVRY = "idoc-xml/sap-samples__DELVRY07_DESADV_S4_755.xml"


def convert(corpus: Path, tmp_path: Path, fmt: str, **options: object) -> tuple[list[str], list[str]]:
    raw = {"target": [{"name": "t", "format": fmt, **options}]}
    config = config_module.parse(raw, tmp_path / "root")
    report = convert_to_target(corpus / DELVRY, config, config.sources[0], "t", tmp_path / "out")
    return report.outputs, [f"{f.location.get('field')}: {f.code}" for f in report.findings]


def test_netsuite_fulfillment_from_sap_delivery(corpus: Path, tmp_path: Path) -> None:
    outputs, findings = convert(corpus, tmp_path, "netsuite.item_fulfillment")
    assert findings == []
    (output,) = outputs
    header, row = Path(output).read_text(encoding="utf-8").splitlines()
    assert header.startswith("External ID,Created From,Date,")
    assert row.startswith("0080000849,0000001390,12/18/2018,")
    assert ",000010,TG-D120_AU,3010,1," in row


def test_sage_refuses_sap_numbers_it_cannot_hold(corpus: Path, tmp_path: Path) -> None:
    outputs, findings = convert(corpus, tmp_path, "sage100.shipment")
    assert outputs == []
    assert findings == ["SalesOrderNo: too_long", "WarehouseCode: too_long"]
    # A value map translates the SAP plant; the 10-digit order number still cannot be a Sage one.
    _, findings = convert(corpus, tmp_path, "sage100.shipment", value_map={"warehouse": {"3010": "000"}})
    assert findings == ["SalesOrderNo: too_long"]
