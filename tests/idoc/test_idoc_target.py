"""The IDoc target: goods movements, delivery confirmations, status; round trips through the readers."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from helpers_idoc import codes, read
from lxml import etree

from gateway import resources
from gateway.canonical.build import record_from_dict
from gateway.config import Config, TargetConfig, target_problems
from gateway.formats.idoc import schema as idoc_schema
from gateway.formats.idoc.writer import IdocTarget
from gateway.ledger.sqlite import SqliteLedger
from gateway.targets.base import FileInfo

PARTNER = {
    "client": "100",
    "sender_port": "WMSPORT",
    "sender_partner": "WMS01",
    "receiver_port": "SAPPRD",
    "receiver_partner": "PRDCLNT100",
}
SOURCE = {"file_id": "f1", "file_name": "in.idoc", "format": "idoc", "message_ref": "0000000000600001"}


class Sink(io.BytesIO):
    """An output that keeps its bytes after close."""

    def close(self) -> None:
        self.kept = self.getvalue()


def target(**options: Any) -> IdocTarget:
    return IdocTarget(TargetConfig("sap", "idoc", "local:out", {**PARTNER, **options}))


def write(t: IdocTarget, *docs: dict[str, Any]) -> tuple[dict[str, bytes], list[Any]]:
    outputs: dict[str, Sink] = {}

    def opener(name: str) -> Sink:
        outputs[name] = Sink()
        return outputs[name]

    writer = t.writer(FileInfo("f1", "in.csv"), opener)
    findings = [f for d in docs for f in writer.write(record_from_dict({"source": SOURCE, **d}))]
    writer.close()
    return {name: out.kept for name, out in outputs.items()}, findings


RECEIPT = {
    "doc_type": "receipt", "doc_id": "GR-1", "receipt_id": "GR-1", "po_number": "4500001234",
    "received_at": "2026-11-26", "warehouse": "1010",
    "lines": [{"line_no": "10", "sku": "100001", "quantity_received": "12", "uom": "PCE", "lot": "B1",
               "location": "0001"}],
}  # fmt: skip
TRANSFER = {
    "doc_type": "transfer", "doc_id": "TR-1", "transfer_id": "TR-1", "from_warehouse": "1010",
    "to_warehouse": "1010", "completed_at": "2026-11-26",
    "lines": [{"line_no": "1", "sku": "100002", "quantity": "5", "uom": "PCE", "from_location": "0001",
               "to_location": "0002"}],
}  # fmt: skip
ADJUSTMENT = {
    "doc_type": "inventory_adjustment", "doc_id": "ADJ-1", "adjustment_id": "ADJ-1",
    "adjusted_at": "2026-11-26", "warehouse": "1010",
    "lines": [
        {"line_no": "1", "sku": "100001", "mode": "delta", "quantity_change": "-15", "uom": "PCE",
         "reason_code": "DAMAGED", "location": "0001"},
        {"line_no": "2", "sku": "100002", "mode": "delta", "quantity_change": "4", "uom": "PCE",
         "reason_code": "FOUND", "location": "0001"},
    ],
}  # fmt: skip
SHIPMENT = {
    "doc_type": "shipment", "doc_id": "0080001001", "shipment_id": "0080001001", "order_number": "0000012345",
    "ship_date": "2026-11-27", "carrier": "UPS", "warehouse": "1000",
    "packages": [{"sscc": "003123450000000017", "tracking_number": "1Z1", "weight": "21.5"}],
    "lines": [{"line_no": "10", "sku": "100001", "quantity_shipped": "6", "uom": "PCE", "lot": "B-1",
               "package_sscc": "003123450000000017"}],
}  # fmt: skip


def reread(
    tmp_path: Path, name: str, data: bytes, make_config: Callable[..., Config]
) -> list[dict[str, Any]]:
    path = tmp_path / name
    path.write_bytes(data)
    records, report = read(path, make_config)
    assert report.valid, [f.render(name) for f in report.findings]
    return records


DOCNUM = re.compile(rb"<DOCNUM>(\d+)</DOCNUM>")


def test_goods_movements_round_trip(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    t = target(movement_by_reason={"DAMAGED": "551"}, reason_codes={"DAMAGED": "0001"})
    outputs, findings = write(t, RECEIPT, TRANSFER, ADJUSTMENT)
    assert findings == []
    ((name, data),) = outputs.items()
    assert name == "in.f1.WMMBID02.xml"  # IDoc-XML by default
    assert DOCNUM.findall(data) == [b"0000000000000001", b"0000000000000002", b"0000000000000003"]
    for tag in (b"<MANDT>100</MANDT>", b"<SNDPOR>WMSPORT</SNDPOR>", b"<RCVPRN>PRDCLNT100</RCVPRN>"):
        assert tag in data
    receipt, transfer, adjustment = reread(tmp_path, name, data, make_config)
    assert receipt["doc_type"] == "receipt" and receipt["po_number"] == "4500001234"
    assert receipt["lines"][0]["quantity_received"] == "12"
    assert receipt["lines"][0]["lot"] == "B1"
    assert receipt["lines"][0]["extensions"]["movement_type"] == "101"
    assert transfer["doc_type"] == "transfer"
    assert transfer["lines"][0]["to_location"] == "0002"
    assert transfer["lines"][0]["extensions"]["movement_type"] == "311"
    assert adjustment["doc_type"] == "inventory_adjustment"
    assert [ln["quantity_change"] for ln in adjustment["lines"]] == ["-15", "4"]
    assert [ln["extensions"]["movement_type"] for ln in adjustment["lines"]] == ["551", "701"]
    assert adjustment["lines"][0]["reason_code"] == "0001"


def test_idoc_xml_fields_follow_sap_s_order() -> None:
    """SAP's IDoc-XML schemas make each segment's fields, and the segments under it, a
    sequence: the writer keeps the tables' order (SAP's), whatever order values were set in."""
    loose = {**SHIPMENT, "tracking_numbers": ["1Z1", "1Z9"]}
    outputs, _ = write(target(acknowledge=True), TRANSFER, loose)
    assert sorted(outputs) == ["in.f1.DELVRY07.xml", "in.f1.SYSTAT01.xml", "in.f1.WMMBID02.xml"]
    for name, data in outputs.items():
        tree = etree.fromstring(data)
        basic_type = idoc_schema.basic_type(tree.tag)
        assert basic_type is not None
        order = [*basic_type.nodes]
        for element in tree.iter():
            segments = [order.index(c.tag) for c in element if c.get("SEGMENT") and c.tag != "EDI_DC40"]
            assert segments == sorted(segments), (name, element.tag)
            layout = (idoc_schema.records()["EDI_DC40"] if element.tag == "EDI_DC40"
                      else idoc_schema.segment_types().get(element.tag))  # fmt: skip
            if layout is None or not len(element):
                continue
            names = [child.tag for child in element if not len(child) and child.tag in layout.by_name]
            assert names == sorted(names, key=[f.name for f in layout.fields].index), (name, element.tag)
    item = etree.fromstring(outputs["in.f1.WMMBID02.xml"]).find(".//E1MBXYI")
    assert [child.tag for child in item] == ["MATNR", "WERKS", "LGORT", "BWART", "ERFMG", "ERFME", "UMWRK",
                                             "UMLGO"]  # fmt: skip


def test_flat_goods_movements_wait_for_a_layout_the_site_confirms(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """SAP's listing of E1MBXYI gives the quantity ERFMG as QUAN 13,3 but not its width in a
    flat file: a flat goods movement is refused, naming the field, until a site confirms the
    segment's layout (WE60) in its own `idoc/_segments.toml`, which then serves both ways."""
    outputs, findings = write(target(syntax="flat"), RECEIPT)
    assert outputs == {}
    assert [(f.code, f.location["segment"], f.location["field"]) for f in findings] == [
        ("undocumented_layout", "E1MBXYI", "ERFMG")]  # fmt: skip
    shipped = (resources.SCHEMAS / "idoc" / "_segments.toml").read_text(encoding="utf-8")
    confirmed = shipped[shipped.index("[E1MBXYI]"):shipped.index("\n\n", shipped.index("[E1MBXYI]"))]
    site = tmp_path / "site" / "idoc"
    site.mkdir(parents=True)
    (site / "_segments.toml").write_text(confirmed.replace('flat_documented_through = "BWTAR"\n', ""))
    resources.use_site_schemas(site.parent)
    try:
        outputs, findings = write(target(syntax="flat"), RECEIPT)
        assert findings == []
        data = outputs["in.f1.WMMBID02.idoc"]
        assert {len(line) for line in data.decode().splitlines()} == {524, 1063}
        confirmed_site = partial(make_config, schemas_dir=str(site.parent))
        (receipt,) = reread(tmp_path, "gr.idoc", data, confirmed_site)
        assert receipt["lines"][0]["quantity_received"] == "12"
        assert idoc_schema.segment_types()["E1KNA1M"].documented_end is not None  # the rest shipped
    finally:
        resources.use_site_schemas(None)
    path = tmp_path / "gr.idoc"
    _, report = read(path, make_config)  # the same file, with the shipped layouts again
    (finding,) = report.findings
    assert (finding.code, finding.location["segment"]) == ("undocumented_layout", "E1MBXYI")
    assert "SDATA column 116" in finding.message and "ERFMG" in finding.message


def test_shipment_round_trip_and_message_type(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    outputs, findings = write(target(shipment_message="WHSCON", syntax="flat"), SHIPMENT)
    assert findings == []
    data = outputs["in.f1.DELVRY07.idoc"]
    assert data[99:129].decode().strip() == "WHSCON"
    (ship,) = reread(tmp_path, "ship.idoc", data, make_config)
    assert ship["shipment_id"] == "0080001001"
    assert ship["order_number"] == "0000012345"
    assert ship["ship_date"] == "2026-11-27"
    assert ship["carrier"] == "UPS"
    assert ship["packages"] == [{"sscc": "003123450000000017", "tracking_number": "1Z1", "weight": "21.5"}]
    assert ship["lines"][0]["package_sscc"] == "003123450000000017"
    assert ship["lines"][0]["quantity_shipped"] == "6"
    assert ship["lines"][0]["lot"] == "B-1"


def test_a_tracking_number_no_package_carries_travels_as_the_bill_of_lading(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    loose = {**SHIPMENT, "tracking_numbers": ["1Z1", "1Z9"]}
    outputs, findings = write(target(syntax="flat"), loose)
    assert findings == []
    (ship,) = reread(tmp_path, "ship.idoc", outputs["in.f1.DELVRY07.idoc"], make_config)
    assert ship["tracking_numbers"] == ["1Z1", "1Z9"]
    assert [p["tracking_number"] for p in ship["packages"]] == ["1Z1"]


def test_tracking_numbers_a_delivery_cannot_carry_are_refused_not_dropped() -> None:
    unpacked = {**SHIPMENT, "packages": [], "tracking_numbers": ["1Z1", "1Z2"],
                "lines": [{**SHIPMENT["lines"][0], "package_sscc": None}]}  # type: ignore[index]  # fmt: skip
    _, findings = write(target(), unpacked)
    assert [(f.code, f.value) for f in findings] == [("unwritable", "1Z1, 1Z2")]


def test_flat_and_xml_deliveries_read_the_same(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    flat, _ = write(target(syntax="flat"), SHIPMENT)
    xml, _ = write(target(), SHIPMENT)
    assert sorted(xml) == ["in.f1.DELVRY07.xml"]
    (by_xml,) = reread(tmp_path, "ship.xml", xml["in.f1.DELVRY07.xml"], make_config)
    (by_flat,) = reread(tmp_path, "ship.idoc", flat["in.f1.DELVRY07.idoc"], make_config)
    assert {k: v for k, v in by_xml.items() if k != "source"} == {
        k: v for k, v in by_flat.items() if k != "source"}  # fmt: skip
    assert by_xml["lines"][0]["sku"] == "100001"


def test_sap_material_number_and_alpha() -> None:
    kept = {**RECEIPT, "lines": [{**RECEIPT["lines"][0], "extensions": {"sap_matnr": "000000000000100001"}}]}
    for doc, options in ((kept, {}), (RECEIPT, {"matnr_alpha": True})):
        outputs, _ = write(target(**options), doc)
        assert b"<MATNR>000000000000100001</MATNR>" in outputs["in.f1.WMMBID02.xml"]


def test_docnums_from_a_ledger_sequence(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "gateway.db")
    try:
        t = target()
        t.bind_sequence(ledger.next_sequence)
        first, _ = write(t, RECEIPT)
        second, _ = write(t, RECEIPT)
        docnums = [DOCNUM.findall(out["in.f1.WMMBID02.xml"]) for out in (first, second)]
        assert docnums == [[b"0000000000000001"], [b"0000000000000002"]]
        assert ledger.next_sequence("idoc.docnum.PRDCLNT100") == 3
    finally:
        ledger.close()


def test_records_it_cannot_represent() -> None:
    count = {**ADJUSTMENT, "lines": [{"line_no": "1", "sku": "X", "mode": "count", "counted_quantity": "3"}]}
    outputs, findings = write(target(), count)
    assert [f.code for f in findings] == ["not_representable"]
    assert findings[0].location == {"record": "ADJ-1", "line_no": "1", "field": "mode"}
    wrong_way = {**ADJUSTMENT, "lines": [{**ADJUSTMENT["lines"][1], "reason_code": "SCRAP"}]}
    _, findings = write(target(movement_by_reason={"SCRAP": "551"}), wrong_way)
    assert [f.code for f in findings] == ["movement_direction"]
    gtin_only = {**ADJUSTMENT, "lines": [{**ADJUSTMENT["lines"][1], "sku": None, "gtin": "4006381333931"}]}
    _, findings = write(target(), gtin_only)
    assert [(f.code, f.location.get("line_no"), f.value) for f in findings] == [
        ("not_representable", ADJUSTMENT["lines"][1]["line_no"], "4006381333931")
    ]
    bad_qty = {**RECEIPT, "lines": [{**RECEIPT["lines"][0], "quantity_received": "many"}]}
    _, findings = write(target(), bad_qty)
    assert [f.code for f in findings] == ["not_numeric"]
    too_long = {**SHIPMENT, "shipment_id": "DELIVERY-NUMBER-TOO-LONG"}
    _, findings = write(target(), too_long)
    assert {f.code for f in findings} == {"too_long"}
    assert findings[0].location["field"] == "VBELN"
    product = {"doc_type": "product", "doc_id": "P1", "sku": "P1"}
    outputs, findings = write(target(), product)
    assert [f.code for f in findings] == ["not_representable"] and outputs == {}


def test_status_acknowledges_inbound_idocs(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    product = {"doc_type": "product", "doc_id": "P1", "sku": "P1"}
    outputs, findings = write(target(acknowledge=True, syntax="flat"), product, SHIPMENT)
    assert findings == []
    status = outputs["in.f1.SYSTAT01.idoc"].decode().splitlines()
    assert status[0][99:129].strip() == "STATUS"
    assert len(status) == 2  # one control record, one E1STATS for the one inbound DOCNUM
    sdata = status[1][63:]
    assert sdata[13:29] == "0000000000600001" and sdata[43:45] == "16"
    path = tmp_path / "status.idoc"
    path.write_bytes(outputs["in.f1.SYSTAT01.idoc"])
    _, report = read(path, make_config)
    assert codes(report) == ["unsupported_message"]  # valid SYSTAT01, no canonical document


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"syntax": "edi"}, "syntax: must be one of xml, flat"),
        ({"client": "1000"}, "client: longer than the control record's 3 characters"),
        ({"movement_types": "101"}, "movement_types: expected a table"),
        ({"acknowledge": "yes"}, "acknowledge: expected true or false"),
        ({"file_name": "{stem}.idoc"}, "file_name: must contain {file_id} and {basic_type}"),
        ({"colour": "red"}, "colour: unknown option"),
    ],
)
def test_option_checks(options: dict[str, Any], problem: str) -> None:
    problems = target_problems(IdocTarget, TargetConfig("sap", "idoc", "local:out", options))
    assert any(p.startswith(problem) for p in problems), problems


def test_defaults_are_valid() -> None:
    assert target_problems(IdocTarget, TargetConfig("sap", "idoc", "local:out", dict(PARTNER))) == []
