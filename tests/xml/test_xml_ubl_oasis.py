"""UBL against OASIS's own schemas, which nobody here wrote (`../shared/reference/ubl-2.1`, `-2.4`).

What the gateway ships must be OASIS's files unchanged, its UBL samples must be valid UBL 2.1, and
every UBL document it writes must validate against the official UBL 2.1 schemas with every line
of the record in it, or be refused with findings.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.canonical.build import record_from_dict
from gateway.resources import SCHEMAS
from tests.conftest import REPO
from tests.xml.test_xml_writer import PARTIES, writer_for

REFERENCE = REPO.parent / "shared" / "reference"
SHIPPED = SCHEMAS / "xml" / "_ubl-2.4" / "xsdrt"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"


@cache
def oasis(version: str, document: str) -> etree.XMLSchema:
    return etree.XMLSchema(
        file=str(REFERENCE / f"ubl-{version}" / "xsdrt" / "maindoc" / f"UBL-{document}-{version}.xsd")
    )


def test_shipped_schemas_are_oasis_files_unchanged() -> None:
    shipped = sorted(p for p in SHIPPED.rglob("*.xsd"))
    assert len(shipped) > 10
    for path in shipped:
        original = REFERENCE / "ubl-2.4" / "xsdrt" / path.relative_to(SHIPPED)
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest(), (
            path
        )


@pytest.mark.parametrize("sample", ["ubl_order", "ubl_despatch_advice", "ubl_receipt_advice"])
def test_ubl_samples_are_valid_ubl_21(sample: str) -> None:
    doc = etree.parse(str(REPO / "samples" / "inbound" / "xml" / f"{sample}.xml"))
    schema = oasis("2.1", etree.QName(doc.getroot()).localname)
    assert schema.validate(doc), [e.message for e in schema.error_log]


text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20)
amount = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False).map(str)
day = st.dates().map(lambda d: d.isoformat())


def line_strategy(quantity: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"line_no": st.integers(1, 999).map(str), "sku": text, quantity: amount},
        optional={
            "description": text,
            "gtin": st.just("4000862141404"),
            "uom": st.sampled_from(["EA", "KGM"]),
            "lot": text,
            "expiry": day,
            "serial": text,
            "unit_price": amount,
            "buyer_sku": text,
        },
    )


DOCS = {
    "ubl.despatch_advice": ("DespatchAdvice", "DespatchLine", "shipment", "quantity_shipped"),
    "ubl.receipt_advice": ("ReceiptAdvice", "ReceiptLine", "receipt", "quantity_received"),
    "ubl.order": ("Order", "OrderLine", "sales_order", "quantity"),
}


@st.composite
def documents(draw: st.DrawFn, layout: str) -> dict[str, Any]:
    _, _, doc_type, quantity = DOCS[layout]
    doc: dict[str, Any] = {
        "doc_type": doc_type,
        "doc_id": draw(text),
        "issued_at": draw(day),
        **PARTIES,
        "lines": draw(st.lists(line_strategy(quantity), min_size=1, max_size=4)),
    }
    if doc_type == "shipment":
        doc["packages"] = draw(
            st.lists(st.fixed_dictionaries({"sscc": st.just("340123450000000018")}), max_size=2)
        )
        doc["tracking_numbers"] = draw(st.lists(text, max_size=1))
        doc["ship_date"] = draw(day)
    if doc_type == "sales_order":
        doc["order_number"] = doc["doc_id"]
        doc["currency"] = draw(st.sampled_from(["EUR", "USD"]))
    return doc


@pytest.mark.parametrize("layout", sorted(DOCS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_ubl_written_is_valid_oasis_ubl_21_with_every_line(layout: str, data: st.DataObject) -> None:
    root, line_tag, _, _ = DOCS[layout]
    doc = data.draw(documents(layout))
    writer, outputs = writer_for(layout)
    findings = writer.write(record_from_dict(doc))
    writer.close()
    if findings:
        # Refused, never shortened: only what UBL cannot hold may refuse a generated document.
        assert outputs == {}
        assert all(f.code == "schema_violation" for f in findings), findings
        event("refused")
        return
    event("written")
    (sink,) = outputs.values()
    element = etree.fromstring(sink.kept)
    schema = oasis("2.1", root)
    assert schema.validate(element), [e.message for e in schema.error_log]
    assert len(element.findall(f"{CAC}{line_tag}")) == len(doc["lines"])
