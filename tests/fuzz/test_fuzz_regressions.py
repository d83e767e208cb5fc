"""The crashes the fuzzers found, each kept as the smallest input that showed it."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.canonical.build import record_from_dict
from gateway.findings import Code
from tests.fuzz.test_fuzz_writers import write

SHIPMENT: dict[str, Any] = {
    "doc_type": "shipment", "doc_id": "SHP-1", "shipment_id": "SHP-1", "ship_date": "2026-11-26",
    "lines": [{"line_no": "1", "sku": "W-1", "quantity_shipped": "2", "uom": "PCE"}],
}  # fmt: skip


@pytest.mark.parametrize("options", [{"syntax": "flat"}, {}], ids=["flat", "xml"])
@pytest.mark.parametrize("text", ["A\nE1EDL24 forged", "\x08", "tab\there", "\x85"])
def test_idoc_refuses_control_characters(options: dict[str, Any], text: str) -> None:
    # The XML syntax crashed in lxml; the flat one wrote a line break into a fixed-width record.
    doc = {**SHIPMENT, "lines": [{**SHIPMENT["lines"][0], "description": text}]}
    memory, findings = write("idoc", options, [record_from_dict(doc)])
    assert [f.code for f in findings] == [Code.NOT_REPRESENTABLE]
    assert findings[0].location == {"record": "SHP-1", "field": "ARKTX", "segment": "E1EDL24"}
    assert memory.data == {}


def test_xml_target_refuses_control_characters() -> None:
    doc = {**SHIPMENT, "carrier": "UPS\x07"}
    memory, findings = write("xml", {"layout": "ubl.despatch_advice"}, [record_from_dict(doc)])
    assert [f.code for f in findings] == [Code.NOT_REPRESENTABLE]
    assert findings[0].value == "SHP-1" and findings[0].location == {"record": 1}
    assert all(not data for data in memory.data.values())
