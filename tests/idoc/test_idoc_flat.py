"""Flat IDoc files: the synthetic samples, real-file quirks, and malformed input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers_idoc import SAMPLES, codes, read

from gateway.config import Config
from gateway.formats.idoc import schema as idoc_schema
from gateway.formats.idoc.flat import FlatParser, format_idoc
from gateway.formats.idoc.model import Idoc, Segment

DD = idoc_schema.records()["EDI_DD40"]
PO = SAMPLES / "orders05-purchase-order.idoc"


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def set_sdata(line: str, segment: str, field: str, value: str) -> str:
    """Overwrite one SDATA field of a padded EDI_DD40 record."""
    f = idoc_schema.segment_types()[segment].by_name[field]
    at = DD.by_name["SDATA"].offset + f.offset
    return line[:at] + value.ljust(f.length)[: f.length] + line[at + f.length :]


def set_dd(line: str, field: str, value: str) -> str:
    f = DD.by_name[field]
    return line[: f.offset] + value.ljust(f.length)[: f.length] + line[f.end :]


def without_source(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "source"} for r in records]


def write(tmp_path: Path, lines: list[str], name: str = "x.idoc", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes((newline.join(lines) + newline).encode("utf-8"))
    return path


EXPECTED = {
    "orders05-purchase-order.idoc": ["purchase_order"],
    "orders05-sales-orders-e2-crlf-trimmed.idoc": ["sales_order", "sales_order"],
    "orders05-extension-zwms.idoc": ["sales_order"],
    "orders05-extension-namespaced.xml": ["sales_order"],
    "orders01-release3.idoc": ["sales_order"],
    "delvry07-delivery-hu-batches.idoc": ["shipment"],
    "delvry03-desadv.idoc": ["shipment"],
    "wmmbid02-movements.xml": ["receipt", "transfer", "inventory_adjustment"],
    "matmas05-material.idoc": ["product"],
    "debmas07-customer.xml": ["customer"],
    "cond_a04-prices.xml": ["price_list"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_reads_clean(name: str, make_config: Callable[..., Config]) -> None:
    records, report = read(SAMPLES / name, make_config)
    assert report.valid, [f.render(name) for f in report.findings]
    assert [r["doc_type"] for r in records] == EXPECTED[name]


def test_every_shipped_basic_type_has_a_sample() -> None:
    text = " ".join(p.read_text(encoding="utf-8") for p in SAMPLES.iterdir() if p.suffix in (".idoc", ".xml"))
    for basic_type in (
        "ORDERS05",
        "ORDERS01",
        "DELVRY03",
        "DELVRY07",
        "WMMBID02",
        "MATMAS05",
        "DEBMAS07",
        "COND_A04",
    ):
        assert basic_type in text, basic_type


def test_padded_sample_has_full_length_records() -> None:
    lengths = {len(line) for line in lines_of(PO)}
    assert lengths == {524, 1063}


def test_real_world_style_file(make_config: Callable[..., Config]) -> None:
    path = SAMPLES / "orders05-sales-orders-e2-crlf-trimmed.idoc"
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"E2EDK01005" in raw
    control, *data = raw.split(b"\r\n")
    assert len(control) < 524 and max(len(line) for line in data) < 1063  # right-trimmed
    records, report = read(path, make_config)
    assert report.valid
    first, second = records
    assert first["order_number"] == "0000012345"
    assert first["customer_id"] == "0000200001"
    assert first["customer_po"] == "PO-771"
    assert [ln["quantity"] for ln in first["lines"]] == ["5", "2.000"]
    assert first["lines"][0]["buyer_sku"] == "ACME-000010"
    assert second["order_number"] == "0000012346"
    assert first["source"]["message_ref"] == "0000000000600001"


def test_lf_and_crlf_read_the_same(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    crlf = write(tmp_path, lines_of(PO), "crlf.idoc", "\r\n")
    a, _ = read(PO, make_config)
    b, report = read(crlf, make_config)
    assert report.valid
    assert a[0]["lines"] == b[0]["lines"]


def test_purchase_order_and_sku_option(make_config: Callable[..., Config]) -> None:
    (po,), _ = read(PO, make_config, idoc_sku="strip_zeros")
    assert po["po_number"] == "4500001234"
    assert po["vendor_id"] == "0000100200"
    assert po["lines"][0]["sku"] == "100001"
    assert po["lines"][0]["extensions"]["sap_matnr"] == "000000000000100001"
    assert po["lines"][0]["vendor_sku"] == "V-00010"
    assert [ln["quantity"] for ln in po["lines"]] == ["120.000", "8.500"]
    (forced,), _ = read(PO, make_config, idoc_orders_as="sales_order")
    assert forced["doc_type"] == "sales_order"


def test_delivery_handling_units_and_batches(make_config: Callable[..., Config]) -> None:
    (ship,), report = read(SAMPLES / "delvry07-delivery-hu-batches.idoc", make_config)
    assert report.valid
    assert ship["carrier"] == "UPS"
    assert [p["sscc"] for p in ship["packages"]] == ["003123450000000017", "003123450000000024"]
    assert [ln["lot"] for ln in ship["lines"]] == ["B-2026-01", "B-2026-02"]
    assert [ln["package_sscc"] for ln in ship["lines"]] == ["003123450000000017", "003123450000000024"]
    assert [ln["quantity_shipped"] for ln in ship["lines"]] == ["6.000", "4.000"]
    assert ship["order_number"] == "0000012345"


def test_goods_movements_by_movement_type(make_config: Callable[..., Config]) -> None:
    (receipt, transfer, adjustment), report = read(SAMPLES / "wmmbid02-movements.xml", make_config)
    assert report.valid
    assert receipt["po_number"] == "4500001234"
    assert receipt["lines"][0]["quantity_received"] == "120.000"
    assert transfer["lines"][0]["to_location"] == "0002"
    assert [ln["quantity_change"] for ln in adjustment["lines"]] == ["-2.000", "4.000", "-1.000"]
    assert adjustment["lines"][0]["reason_code"] == "0001"


def test_master_data(make_config: Callable[..., Config]) -> None:
    (product,), _ = read(SAMPLES / "matmas05-material.idoc", make_config)
    assert product["description"] == "Widget"
    assert product["gtin"] == "04012345678901"
    assert product["lot_controlled"] is True
    assert [u["uom"] for u in product["extensions"]["units"]] == ["PCE", "CS"]
    (customer,), _ = read(SAMPLES / "debmas07-customer.xml", make_config)
    assert [s["code"] for s in customer["ship_to"]] == ["0000200001", "0000200009"]
    (prices,), _ = read(SAMPLES / "cond_a04-prices.xml", make_config)
    assert [(ln["unit_price"], ln["min_quantity"]) for ln in prices["lines"]] == [
        ("9.99", None),
        ("8.99", "100.000"),
    ]
    assert prices["valid_from"] == "2026-01-01"


def test_extension_segment_decoded(make_config: Callable[..., Config]) -> None:
    (so,), _ = read(SAMPLES / "orders05-extension-zwms.idoc", make_config)
    (segment,) = so["extensions"]["idoc_segments"]
    assert segment == {
        "segment": "Z1WMSHDR",
        "fields": {"DOCK": "DOCK-07", "WAVE": "W-1126", "PRIORITY": "01"},
    }


# ---- malformed input -------------------------------------------------------------------


def test_short_control_record(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = lines_of(PO)
    path = write(tmp_path, [lines[0][:35], *lines[1:]])
    records, report = read(path, make_config)
    assert records == []
    assert codes(report)[:2] == ["short_control_record", "short_control_record"]
    finding = report.findings[0]
    assert finding.location == {
        "record": "0000000000500001",
        "segment": "EDI_DC40",
        "line": 1,
        "field": "IDOCTYP",
    }
    assert finding.value == "35"


def test_a_name_outside_sap_and_customer_namespaces_is_unknown(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    lines = lines_of(PO)
    lines[2] = set_dd(lines[2], "SEGNAM", "QQXXX99")
    _, report = read(write(tmp_path, lines), make_config)
    assert codes(report) == ["unknown_segment"]
    loc = report.findings[0].location
    assert loc == {"record": "0000000000500001", "segment": "QQXXX99", "segment_index": 2, "line": 3}


def test_a_standard_segment_the_table_lacks_is_kept_not_fatal(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """SAP adds standard segments with each release: an IDoc carrying one newer than the tables
    (here a made-up E1EDK38) is read, and the segment travels under extensions.idoc_segments."""
    lines = lines_of(PO)
    lines[2] = set_dd(lines[2], "SEGNAM", "E1EDK38")
    path = write(tmp_path, lines)
    records, report = read(path, make_config)
    assert report.valid, codes(report)
    (kept,) = records[0]["extensions"]["idoc_segments"]
    assert kept["segment"] == "E1EDK38" and kept["sdata"]
    (warning,) = report.warnings
    assert (warning.code, warning.value, warning.location["line"]) == ("unmapped_segment", "E1EDK38", 3)
    assert [w["code"] for w in records[0]["source"]["warnings"]] == ["unmapped_segment"]
    for level, valid in (("lenient", True), ("strict", False)):
        _, judged = read(path, make_config, strictness=level)
        assert judged.valid is valid
    assert codes(judged) == ["unmapped_segment"]


def test_orphaned_child(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = lines_of(PO)
    at = next(i for i, line in enumerate(lines) if line.startswith("E1EDP19"))
    lines[at] = set_dd(lines[at], "PSGNUM", "000001")  # PSGNUM decides: under E1EDK01
    _, report = read(write(tmp_path, lines), make_config)
    assert "orphaned_segment" in codes(report)
    finding = report.findings[codes(report).index("orphaned_segment")]
    assert finding.location["segment"] == "E1EDP19"
    assert finding.location["line"] == at + 1
    assert "under E1EDP01" in finding.message


def test_a_child_without_psgnum_is_placed_by_the_schema(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """PSGNUM blank: the schema's order places E1EDP19 under the E1EDP01 before it, whatever
    its HLEVEL says; the disagreeing HLEVEL is a warning (an error under strict)."""
    lines = lines_of(PO)
    at = next(i for i, line in enumerate(lines) if line.startswith("E1EDP19"))
    lines[at] = set_dd(set_dd(lines[at], "PSGNUM", "000000"), "HLEVEL", "02")
    path = write(tmp_path, lines)
    records, report = read(path, make_config)
    assert report.valid, codes(report)
    assert without_source(records) == without_source(read(PO, make_config)[0])
    (warning,) = report.warnings
    assert (warning.code, warning.value, warning.location["line"]) == ("hlevel_mismatch", "2", at + 1)
    assert "the schema puts it at level 03" in warning.message
    _, strict = read(path, make_config, strictness="strict")
    assert codes(strict) == ["hlevel_mismatch"] and not strict.warnings


def test_non_numeric_quantity(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = lines_of(PO)
    at = next(i for i, line in enumerate(lines) if line.startswith("E1EDP01"))
    lines[at] = set_sdata(lines[at], "E1EDP01", "MENGE", "12,5x")
    _, report = read(write(tmp_path, lines), make_config)
    assert codes(report) == ["not_numeric"]
    f = report.findings[0]
    assert f.value == "12,5x"
    assert f.location["field"] == "MENGE"
    assert f.location["segment"] == "E1EDP01"
    assert f.location["record"] == "0000000000500001"
    assert f.rule is not None and "E1EDP01.MENGE d15" in f.rule
    assert "record 0000000000500001, line" in f.render("x.idoc")


def test_mixed_releases(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    release3 = lines_of(SAMPLES / "orders01-release3.idoc")
    path = write(tmp_path, [*lines_of(PO), *release3])
    _, report = read(path, make_config)
    assert codes(report) == ["mixed_releases"]
    assert report.findings[0].location["line"] == len(lines_of(PO)) + 1


def test_binary_junk_inside(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = lines_of(PO)
    path = tmp_path / "junk.idoc"
    head, tail = "\n".join(lines[:6]) + "\n", "\n".join(lines[6:]) + "\n"
    path.write_bytes(head.encode() + b"\x00\x01\xff\xfejunk\n" + tail.encode())
    _, report = read(path, make_config)
    assert "binary_content" in codes(report)
    assert report.findings[codes(report).index("binary_content")].location["line"] == 7


def test_binary_file_is_not_detected(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    path = tmp_path / "blob.idoc"
    path.write_bytes(b"EDI_DC40\x00\x00\x01\x02" * 100)
    _, report = read(path, make_config)
    assert report.stage == "detect"
    assert codes(report) == ["binary"]


def test_psgnum_decides_over_hlevel(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = lines_of(PO)
    at = next(i for i, line in enumerate(lines) if line.startswith("E1EDP20"))
    lines[at] = set_dd(lines[at], "HLEVEL", "05")  # disagrees with its PSGNUM, which decides
    records, report = read(write(tmp_path, lines), make_config)
    assert report.valid, codes(report)
    assert without_source(records) == without_source(read(PO, make_config)[0])
    lines[at + 1] = set_dd(lines[at + 1], "PSGNUM", "000999")
    _, report = read(write(tmp_path, lines), make_config)
    assert codes(report)[0] == "bad_parent"


def test_the_hlevels_sap_itself_writes(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    """SAP's own flat IDocs (a 6.20 ORDERS01, an S/4 ORDERS05) give E1EDK01 HLEVEL 01 and the
    other top-level segments 02, all with PSGNUM 000000, and children one more than that."""
    lines = lines_of(PO)
    for i, line in enumerate(lines[1:], start=1):
        psgnum = int(line[DD.by_name["PSGNUM"].offset : DD.by_name["PSGNUM"].end] or 0)
        level = int(line[DD.by_name["HLEVEL"].offset : DD.by_name["HLEVEL"].end])
        sap = "01" if line.startswith("E1EDK01") else f"{level if psgnum else 2:02d}"
        lines[i] = set_dd(line, "HLEVEL", sap)
    assert lines[1][DD.by_name["HLEVEL"].offset : DD.by_name["HLEVEL"].end] == "01"
    path = write(tmp_path, lines)
    records, report = read(path, make_config)
    assert report.valid, [f.to_dict() for f in report.findings]
    assert without_source(records) == without_source(read(PO, make_config)[0])
    # Said once per IDoc: at the first top-level segment after E1EDK01 (line 3).
    assert [(w.code, w.location["line"]) for w in report.warnings] == [("hlevel_mismatch", 3)]
    _, strict = read(path, make_config, strictness="strict")
    assert codes(strict) == ["hlevel_mismatch"]


def test_segment_numbers_must_count(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = lines_of(PO)
    lines[3] = set_dd(lines[3], "SEGNUM", "000009")
    _, report = read(write(tmp_path, lines), make_config)
    assert codes(report)[0] == "segment_sequence"
    assert report.findings[0].location["segment_index"] == 9


def test_missing_mandatory_segment(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    control = {"IDOCTYP": "WMMBID02", "MESTYP": "WMMBXY", "DOCNUM": "0000000000800001", "SNDPOR": "SAPPRD"}
    head = Segment("E1MBXYH", 1, 0, 1, {"BLDAT": "20261126", "XBLNR": "GR-1"})  # and no item
    wmmbid02 = idoc_schema.basic_type("WMMBID02")
    assert wmmbid02 is not None
    _, report = read(write(tmp_path, format_idoc(Idoc(control, [head]), wmmbid02.segments)), make_config)
    assert codes(report) == ["missing_segment"]
    assert report.findings[0].location["segment"] == "E1MBXYH"


def test_data_before_control_and_unknown_basic_type(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    lines = lines_of(PO)
    control = lines[0].replace("ORDERS05", "FOOBAR01", 1)
    _, report = read(write(tmp_path, [control, *lines[1:]]), make_config)
    assert codes(report) == ["unknown_basic_type"]
    found: list[tuple[str, dict[str, object]]] = []
    parser = FlatParser(lambda code, msg, **kw: found.append((code, kw)), lambda bt, seg: None)
    idocs = list(parser.idocs([lines[1], *lines]))
    assert len(idocs) == 1
    assert found[0][0] == "missing_control_record"
    assert found[0][1]["line"] == 1


def test_bad_date_and_docnum_mismatch(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = lines_of(PO)
    at = next(i for i, line in enumerate(lines) if line.startswith("E1EDK03"))
    lines[at] = set_sdata(lines[at], "E1EDK03", "DATUM", "20261341")
    lines[1] = set_dd(lines[1], "DOCNUM", "0000000000999999")
    _, report = read(write(tmp_path, lines), make_config)
    assert sorted(codes(report)) == ["bad_date", "docnum_mismatch"]


def test_unknown_movement_type(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = (SAMPLES / "wmmbid02-movements.xml").read_text(encoding="utf-8")
    path = tmp_path / "x.xml"
    path.write_text(text.replace("<BWART>101</BWART>", "<BWART>999</BWART>", 1), encoding="utf-8")
    _, report = read(path, make_config)
    assert codes(report) == ["unknown_movement_type"]
    assert report.stage == "map"
    assert report.findings[0].location["field"] == "BWART"


def test_empty_of_idocs(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    _, report = read(write(tmp_path, ["EDI_DC40"]), make_config)
    assert "short_control_record" in codes(report)


def test_endless_line_is_refused(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    path = tmp_path / "long.idoc"
    path.write_text(lines_of(PO)[0] + "X" * 20000 + "\n", encoding="utf-8")
    _, report = read(path, make_config)
    assert codes(report) == ["line_too_long"]


def test_same_docnum_twice_in_a_file(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = lines_of(PO)
    _, report = read(write(tmp_path, [*lines, *lines]), make_config)
    assert codes(report) == ["duplicate_docnum"]
    assert report.findings[0].location["line"] == len(lines) + 1


def test_orders05_segments_follow_sap_s_own_schema() -> None:
    """The ORDERS05 table holds every segment of SAP's ORDERS05 XML schema (WE60 export), where
    SAP puts it, with the fields at SAP's offsets: a payment card (E1EDK36), an item's text
    (E1EDPAD → E1TXTH1 → E1TXTP1) and its service lines (E1EDC01) decode instead of travelling
    undecoded."""
    orders05 = idoc_schema.basic_type("ORDERS05")
    assert orders05 is not None
    parents = {n.name: n.parent for n in orders05.nodes.values()}
    assert (parents["E1EDK36"], parents["E1EDPAD"], parents["E1TXTH1"], parents["E1TXTP1"]) == (
        "", "E1EDP01", "E1EDPAD", "E1TXTH1")  # fmt: skip
    assert (parents["E1EDC01"], parents["E1EDCT2"], parents["E1CUPRT"]) == ("E1EDP01", "E1EDCT1", "E1CUCFG")
    card = idoc_schema.segment_types()["E1EDK36"]
    assert card.spans == (("CCINS", 0, 4), ("CCINS_BEZEI", 4, 24), ("CCNUM", 24, 49), ("EXDATBI", 49, 57),
                          ("CCNAME", 57, 97), ("FAKWR", 97, 114))  # fmt: skip
    text = idoc_schema.segment_types()["E1TXTP1"]
    line = "* " + "Deliver to gate 3".ljust(132)
    assert text.slice(line) == {"TDFORMAT": "*", "TDLINE": "Deliver to gate 3"}
