"""XML in: recognition, mapping to canonical records, XSD findings, streaming."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import check
from gateway.config import Config
from gateway.formats.xml.layout import layouts

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "inbound" / "xml"
EXPECTED = REPO / "samples" / "expected" / "xml"

UBL_DA = (
    '<DespatchAdvice xmlns="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2"'
    ' xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"'
    ' xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">\n'
)


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the per-file parts of its lineage."""
    record = json.loads(json.dumps(record))
    for key in ("file_id", "file_name", "sha256"):
        record["source"].pop(key)
    return record


def read(path: Path, config: Config) -> tuple[list[dict[str, Any]], check.Report]:
    report = check.Report(path)
    records = [r.to_dict() for r in check.read(path, config, config.sources[0], report)]
    return records, report


def expected(stem: str) -> list[dict[str, Any]]:
    text = (EXPECTED / f"{stem}.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_every_shipped_layout_loads_with_its_schema() -> None:
    found = layouts()
    assert set(found) == {
        "ubl.order",
        "ubl.despatch_advice",
        "ubl.receipt_advice",
        "cxml.order_request",
        "cxml.ship_notice_request",
        "erp.products",
        "erp.customers",
        "erp.inventory_adjustments",
    }
    for layout in found.values():
        assert layout.schema is not None


@pytest.mark.parametrize("sample", sorted(p.stem for p in SAMPLES.glob("*.xml")))
def test_synthetic_samples_map_to_their_expected_records(
    sample: str, make_config: Callable[..., Config]
) -> None:
    records, report = read(SAMPLES / f"{sample}.xml", make_config())
    assert report.valid, [f.to_dict() for f in report.findings]
    assert report.format == "xml"
    assert [comparable(r) for r in records] == expected(sample)


@pytest.mark.parametrize("name", ["cxml-php__OrderRequest", "cxml-php__ShipNoticeRequest"])
def test_corpus_cxml_maps_to_expected_records(
    name: str, corpus: Path, make_config: Callable[..., Config]
) -> None:
    records, report = read(corpus / "xml-cxml" / f"{name}.xml", make_config())
    assert report.valid, [f.to_dict() for f in report.findings]
    assert [comparable(r) for r in records] == expected(name)


def test_corpus_order_request_details(corpus: Path, make_config: Callable[..., Config]) -> None:
    (order,), _ = read(corpus / "xml-cxml" / "cxml-php__OrderRequest.xml", make_config())
    assert order["doc_type"] == "sales_order" and order["doc_id"] == "DO1234"
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in order["lines"]] == [
        ("1233244", "10", "2.10"),
        ("1233245", "20", "3.20"),
    ]
    assert order["ship_to"]["country"] == "US" and order["bill_to"]["city"] == "Solingen"
    assert "coyote" not in json.dumps(order)  # the shared secret in the header is never mapped


def _write(tmp_path: Path, text: str, name: str = "doc.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


PARTIES = (
    "<cac:DespatchSupplierParty><cac:Party><cbc:EndpointID schemeID=\"0088\">4098765000002</cbc:EndpointID>"
    "</cac:Party></cac:DespatchSupplierParty>"
    "<cac:DeliveryCustomerParty><cac:Party><cbc:EndpointID schemeID=\"0088\">4012345000009</cbc:EndpointID>"
    "</cac:Party></cac:DeliveryCustomerParty>\n"
)
LINE_REST = "<cac:OrderLineReference><cbc:LineID>NA</cbc:LineID></cac:OrderLineReference><cac:Item/>"


def test_every_schema_violation_is_reported_with_line_and_xpath(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + UBL_DA + "<cbc:ID>DA-1</cbc:ID>\n"
        "<cbc:IssueDate>2026-13-45</cbc:IssueDate>\n" + PARTIES +
        "<cac:DespatchLine><cbc:ID>1</cbc:ID>\n"
        '<cbc:DeliveredQuantity unitCode="EA">ten</cbc:DeliveredQuantity>'
        + LINE_REST + "</cac:DespatchLine>\n"
        "<cac:DespatchLine><cbc:ID>2</cbc:ID>\n"
        '<cbc:DeliveredQuantity unitCode="EA">1,5</cbc:DeliveredQuantity>'
        + LINE_REST + "</cac:DespatchLine>\n"
        "</DespatchAdvice>\n"
    )
    records, report = read(_write(tmp_path, doc), make_config())
    assert records == [] and report.stage == "validate"
    located = [(f.code, f.location["line"], f.location["xpath"]) for f in report.findings]
    assert located == [
        ("schema_violation", 4, "/DespatchAdvice/cbc:IssueDate"),
        ("schema_violation", 7, "/DespatchAdvice/cac:DespatchLine[1]/cbc:DeliveredQuantity"),
        ("schema_violation", 9, "/DespatchAdvice/cac:DespatchLine[2]/cbc:DeliveredQuantity"),
    ]
    assert "2026-13-45" in report.findings[0].message
    assert report.findings[0].rule == "ubl.despatch_advice UBL-DespatchAdvice-2.4.xsd"


def test_a_missing_mandatory_element_is_located(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    # OASIS requires IssueDate and the parties: the official schema names what is missing, and where.
    doc = (
        UBL_DA
        + "<cbc:ID>DA-1</cbc:ID>\n<cac:DespatchLine>\n<cbc:ID>1</cbc:ID>\n"
        + "</cac:DespatchLine>\n</DespatchAdvice>"
    )
    _, report = read(_write(tmp_path, doc), make_config())
    (finding,) = report.findings
    assert finding.code == "schema_violation"
    assert finding.location == {"line": 3, "xpath": "/DespatchAdvice/cac:DespatchLine"}
    assert "IssueDate" in finding.message


def test_an_empty_value_is_valid_ubl(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    # OASIS allows empty text (the shipped schema once required text everywhere): a valid file
    # with an empty Note is read, not refused.
    doc = (
        UBL_DA + "<cbc:ID>DA-1</cbc:ID>\n<cbc:IssueDate>2026-11-26</cbc:IssueDate>\n<cbc:Note/>\n" + PARTIES
        + "<cac:DespatchLine><cbc:ID>1</cbc:ID>\n<cbc:DeliveredQuantity>2</cbc:DeliveredQuantity>"
        + LINE_REST + "</cac:DespatchLine>\n</DespatchAdvice>"
    )
    records, report = read(_write(tmp_path, doc), make_config())
    assert report.valid, [f.to_dict() for f in report.findings]
    assert records[0]["lines"][0]["quantity_shipped"] == "2"


def test_streamed_documents_are_validated_one_by_one(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    doc = (
        "<Products>\n"
        "<Product><SKU>A</SKU><UnitCost>1.5</UnitCost></Product>\n"
        "<Product><SKU>B</SKU><UnitCost>cheap</UnitCost></Product>\n"
        "<Product><Description>no sku</Description></Product>\n"
        "<Product><SKU>D</SKU><GTIN>123</GTIN></Product>\n"
        "</Products>\n"
    )
    _, report = read(_write(tmp_path, doc), make_config())
    located = [(f.location["line"], f.location["xpath"]) for f in report.findings]
    assert located == [
        (3, "/Products/Product[2]/UnitCost"),
        (4, "/Products/Product[3]/Description"),
        (5, "/Products/Product[4]/GTIN"),
    ]
    assert {f.code for f in report.findings} == {"schema_violation"}


def test_many_streamed_documents(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    body = "".join(f"<Product><SKU>P{i}</SKU><UnitCost>{i}.5</UnitCost></Product>\n" for i in range(3000))
    records, report = read(_write(tmp_path, f"<Products>\n{body}</Products>\n"), make_config())
    assert report.valid
    assert len(records) == 3000 and records[-1]["sku"] == "P2999" and records[-1]["unit_cost"] == "2999.5"


def test_layouts_sharing_a_root_are_told_apart(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    doc = '<cXML payloadID="p1" timestamp="2026-01-01T00:00:00Z"><Request><Other/></Request></cXML>'
    _, report = read(_write(tmp_path, doc), make_config())
    (finding,) = report.findings
    assert finding.code == "unknown_layout" and "OrderRequest" in finding.message


def test_unknown_root_names_the_known_ones(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    _, report = read(_write(tmp_path, "<?xml version='1.0'?>\n<Invoice/>"), make_config())
    (finding,) = report.findings
    assert finding.code == "unknown_layout" and finding.location == {"line": 2, "xpath": "/Invoice"}
    assert "DespatchAdvice" in (finding.rule or "")


def test_forced_layout_from_source_option(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    config = make_config(source=[{"name": "in", "xml_layout": "erp.customers"}])
    _, report = read(_write(tmp_path, "<Products><Product><SKU>A</SKU></Product></Products>"), config)
    (finding,) = report.findings
    assert finding.code == "wrong_root" and finding.rule == "erp.customers: <Customers>"


def test_value_conversion_findings_use_the_code_table(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    doc = (
        '<cXML payloadID="p1" timestamp="2026-01-01T00:00:00Z"><Request><OrderRequest>'
        '<OrderRequestHeader orderID="X" orderDate="2026-01-01T00:00:00Z" type="new"/>'
        '<ItemOut quantity="1" lineNumber="1" requestedDeliveryDate="2026-02-30T00:00:00Z">'
        "<ItemID/></ItemOut>"
        "</OrderRequest></Request></cXML>"
    )
    _, report = read(_write(tmp_path, doc), make_config())
    (finding,) = report.findings
    assert finding.code == "schema_violation" and "requestedDeliveryDate" in finding.message


def test_declared_latin1_and_utf16_with_bom_are_decoded(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    latin = tmp_path / "latin.xml"
    latin.write_bytes(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<Customers><Customer><CustomerID>C1</CustomerID>'
        b"<Name>M\xfcller</Name></Customer></Customers>"
    )
    (record,), report = read(latin, make_config())
    assert record["name"] == "Müller" and report.encoding == "iso8859-1"
    utf16 = tmp_path / "utf16.xml"
    utf16.write_bytes("<Products><Product><SKU>Ä-1</SKU></Product></Products>".encode("utf-16"))
    (record,), report = read(utf16, make_config())
    assert record["sku"] == "Ä-1" and report.encoding.startswith("utf-16")


def test_undeclared_cp1252_is_detected(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    path = tmp_path / "cp.xml"
    path.write_bytes(
        "<Customers><Customer><CustomerID>C1</CustomerID><Name>Müller Straße €</Name>"
        "</Customer></Customers>".encode("cp1252")
    )
    (record,), report = read(path, make_config())
    assert record["name"] == "Müller Straße €" and report.encoding == "cp1252"


def test_other_elements_under_a_streamed_root_are_findings(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    doc = "<Products>\n<Product><SKU>A</SKU></Product>\n<Item><SKU>B</SKU></Item>\n</Products>"
    _, report = read(_write(tmp_path, doc), make_config())
    (finding,) = report.findings
    assert finding.code == "unexpected_element"
    assert finding.location == {"line": 3, "xpath": "/Products/Item"}


def test_configured_encoding_libxml2_does_not_know(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    config = make_config(source=[{"name": "in", "encoding": "mac-roman"}])
    path = tmp_path / "mac.xml"
    path.write_bytes("<Customers><Customer><CustomerID>C1</CustomerID><Name>Café Ünal</Name>"
                     "</Customer></Customers>".encode("mac-roman"))  # fmt: skip
    (record,), report = read(path, config)
    assert record["name"] == "Café Ünal" and report.encoding == "mac-roman"


def test_configured_encoding_that_does_not_fit(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    config = make_config(source=[{"name": "in", "encoding": "ascii"}])
    path = tmp_path / "bad.xml"
    path.write_bytes(
        b"<Customers><Customer><CustomerID>C1</CustomerID><Name>Caf\xe9</Name></Customer></Customers>"
    )
    records, report = read(path, config)
    assert records == [] and report.stage == "decode"
    assert report.findings[0].code == "undecodable"
    assert report.findings[0].location == {"line": 1, "column": 58}
