"""Every real file in ../shared/corpus/edifact has its expected outcome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers_edifact import records, validate

from gateway.config import Config


def test_sap_orders_is_accepted_with_a_warning_for_underscore_in_unoa(
    corpus: Path, make_config: Callable[..., Config]
) -> None:
    path = corpus / "edifact/sap-samples__ORDERS_D96A_EAN008_inbound.edi"
    finding = (
        "segment 1 (UNB), element 2.1: {}'TP_UNEDIFACT_ID': character '_' is not allowed in UNOA"
        " (UNB 0001 UNOA character set)"
    )
    (order,), report = records(path, make_config())
    assert report.valid
    assert [f.render("x") for f in report.warnings] == ["x: " + finding.format("warning: ")]
    # The value is kept as decoded, and the record says what was tolerated.
    assert order.sender.id == "TP_UNEDIFACT_ID"
    assert [w["code"] for w in order.source.warnings] == ["bad_character"]
    strict = validate(path, make_config(), strictness="strict")
    assert [f.render("x") for f in strict.findings] == ["x: " + finding.format("")]


def test_sap_orders_maps_when_charset_check_is_off(corpus: Path, make_config: Callable[..., Config]) -> None:
    path = corpus / "edifact/sap-samples__ORDERS_D96A_EAN008_inbound.edi"
    (order,), report = records(path, make_config(), edifact_charset_check="off")
    assert report.valid
    data = order.to_dict()
    assert data["doc_type"] == "sales_order" and data["order_number"] == "5YGVX1VT"
    assert data["customer_id"] == "1111111111111" and data["ship_to"]["id"] == "3333333333333"
    assert data["ship_to"]["scheme"] == "GLN" and data["ship_to"]["country"] == "DE"
    assert data["order_date"] == "2024-03-11" and data["currency"] == "EUR"
    assert data["sender"] == {"id": "TP_UNEDIFACT_ID", "scheme": "ZZ"}
    assert data["source"]["interchange_ref"] == "36790"
    (line,) = data["lines"]
    assert (line["gtin"], line["quantity"], line["unit_price"]) == ("8710103931935", "38", "75.55")


def test_pydifact_order_without_unz_is_quarantined(corpus: Path, make_config: Callable[..., Config]) -> None:
    report = validate(corpus / "edifact/pydifact__order.edi", make_config())
    assert [f.render("x") for f in report.findings] == [
        "x: segment 2 (UNB): interchange '807' has no UNZ before the end of the file"
        " (UNB needs a matching UNZ)"
    ]
    assert report.findings[0].code == "missing_unz"


def test_pydifact_invoice_has_no_canonical_type(corpus: Path, make_config: Callable[..., Config]) -> None:
    report = validate(corpus / "edifact/pydifact__invoice1.edi", make_config())
    assert report.stage == "map"
    assert [(f.code, f.location) for f in report.findings] == [
        ("no_mapping", {"segment": "UNH", "segment_index": 2, "element": 2, "component": 1})
    ]
