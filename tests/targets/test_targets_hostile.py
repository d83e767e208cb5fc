"""Hostile values never crash a target: every document is either written or refused with findings."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import plugins
from gateway.canonical.build import record_from_dict
from gateway.canonical.records import RECORD_TYPES
from gateway.config import TargetConfig
from gateway.targets.base import FileInfo
from tests.targets.test_targets_rules import Memory

FORMATS = ["sage100", "netsuite", "quickbooks_iif", "quickbooks_online", "canonical_csv"]
OPTIONS: dict[str, dict[str, Any]] = {
    "netsuite": {"adjustment_account": "Adj"},
    "quickbooks_iif": {"customer": "C"},
    "quickbooks_online": {"customer": "C"},
}

values = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["1e999999", "-0", "NaN", "Infinity", "1.0000000001", "2026-02-30", "9" * 40, "\x00",
                     "a\tb", "\r\n", "Ω€中", "  7  ", "01-", "-", "2026-11-26T25:00:00"]),
)  # fmt: skip


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc_type = draw(st.sampled_from(["shipment", "sales_order", "inventory_adjustment", "receipt",
                                     "transfer", "product", "customer"]))  # fmt: skip
    fields = {
        "shipment": ["shipment_id", "order_number", "ship_date", "carrier", "warehouse"],
        "sales_order": ["order_number", "customer_id", "order_date", "warehouse", "customer_po"],
        "inventory_adjustment": ["adjustment_id", "adjusted_at", "warehouse"],
        "receipt": ["receipt_id", "po_number", "received_at", "warehouse"],
        "transfer": ["transfer_id", "from_warehouse", "to_warehouse", "completed_at"],
        "product": ["sku", "description", "uom", "unit_cost", "weight"],
        "customer": ["customer_id", "name", "terms"],
    }[doc_type]
    doc: dict[str, Any] = {"doc_type": doc_type, "doc_id": draw(st.text(min_size=1, max_size=12))}
    for name in fields:
        doc[name] = draw(values)
    line_fields = ["line_no", "sku", "quantity", "uom", "unit_price", "lot", "quantity_shipped",
                   "quantity_change", "quantity_received", "reason_code", "description"]  # fmt: skip
    line_type = RECORD_TYPES[doc_type].line_type
    if line_type is not None:
        # Only the line type's own names: an unknown one is a mapping bug, refused when building.
        own = {f.name for f in dataclasses.fields(line_type)}
        line = st.fixed_dictionaries({k: values for k in line_fields if k in own})
        doc["lines"] = draw(st.lists(line, max_size=3))
        if doc_type == "inventory_adjustment":
            for line in doc["lines"]:
                line["mode"] = "delta"
    if doc_type == "shipment":
        doc["tracking_numbers"] = draw(st.lists(st.text(max_size=20), max_size=3))
    if doc_type == "customer":
        doc["bill_to"] = {"address_lines": draw(st.lists(st.text(max_size=30), max_size=4))}
    return doc


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents())
def test_never_crashes(fmt: str, doc: dict[str, Any]) -> None:
    target = plugins.target(fmt)(TargetConfig("t", fmt, "local:out", OPTIONS.get(fmt, {})))
    memory = Memory()
    writer = target.writer(FileInfo("F1", "in.csv"), memory)
    record = record_from_dict(doc)
    findings = writer.write(record)
    writer.close()
    for finding in findings:
        assert finding.code and finding.message
        assert finding.location.get("record") == record.doc_id
        finding.render("in.csv")
    if findings:
        assert memory.data == {}, "a refused document writes nothing"
    for name, data in memory.data.items():
        assert len(data) < 100_000, name
