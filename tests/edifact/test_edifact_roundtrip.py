"""Canonical → EDIFACT (the target) → canonical (the reader) gives the same business fields."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers_edifact import records

from gateway.canonical.build import record_from_dict
from gateway.canonical.records import Record
from gateway.config import Config, TargetConfig, target_problems
from gateway.formats.edifact.writer import EdifactTarget
from gateway.targets.base import FileInfo

PARTNER = {"sender": "5412345000013", "receiver": "4012345000009"}
ENVELOPE = ("doc_type", "source", "sender", "receiver", "issued_at")
# What the reader keeps of how the message said a line (its item number types, its price
# qualifier): the EDIFACT's own wording, not a business field the canonical record started with.
WORDING = ("item_ids", "price_qualifier")


class _Buffer(io.BytesIO):
    def close(self) -> None:
        pass


def _write(recs: list[Record], **options: Any) -> tuple[bytes, list[Any]]:
    target = EdifactTarget(TargetConfig("partner", "edifact", "local:x", {**PARTNER, **options}))
    assert (
        target_problems(
            EdifactTarget, target_config := TargetConfig("p", "edifact", "local:x", {**PARTNER, **options})
        )
        == []
    )
    assert target_config.options["sender"]
    out = _Buffer()
    writer = target.writer(FileInfo("f1", "in.csv"), lambda name: out)
    findings = [f for r in recs for f in writer.write(r)]
    writer.close()
    return out.getvalue(), findings


def _business(record: Record) -> dict[str, Any]:
    data = record.to_dict()
    for key in ENVELOPE:
        data.pop(key)
    party = data.get("extensions", {}).get("ship_to")
    if party:  # a party read from NAD lists every field it can carry, most of them empty
        data["extensions"]["ship_to"] = {k: v for k, v in party.items() if v not in (None, "", [])}
    # DESADV lists lines under their package (CPS), so compare them in line-number order.
    data["lines"] = sorted(data.get("lines", []), key=lambda line: line["line_no"])
    for line in data["lines"]:
        extensions = {k: v for k, v in line.get("extensions", {}).items() if k not in WORDING}
        line["extensions"] = extensions
    return data


SHIPMENT = {
    "doc_type": "shipment",
    "doc_id": "SHP-1",
    "shipment_id": "SHP-1",
    "order_number": "SO-9",
    "ship_date": "2026-11-26",
    "carrier": "DHL",
    "tracking_numbers": ["TRK?1+2", "TRK-3"],
    "warehouse": "WH1",
    "packages": [{"sscc": "354123450000000014", "weight": "12.5"}],
    # The delivery party (NAD DP) is the buyer when a shipment names no ship-to: read back, so.
    "extensions": {"ship_to": {"role": "ship_to", "id": "4012345000009", "scheme": "GLN"}},
    "lines": [
        {
            "line_no": "1",
            "gtin": "4000862141404",
            "sku": "W-1",
            "description": "Widget: blue's",
            "quantity": "5",
            "quantity_shipped": "5",
            "quantity_ordered": "6",
            "uom": "PCE",
            "package_sscc": "354123450000000014",
            "lot": "L1",
            "expiry": "2027-01-31",
        },
        {
            "line_no": "2",
            "gtin": "4000862141428",
            "sku": "W-2",
            "quantity": "1",
            "quantity_shipped": "1",
            "serial": "SN9",
        },
    ],
}
RECEIPT = {
    "doc_type": "receipt",
    "doc_id": "R-1",
    "receipt_id": "R-1",
    "po_number": "PO-7",
    "asn_number": "DES-1",
    "received_at": "2026-11-25",
    "warehouse": "WH1",
    "lines": [
        {
            "line_no": "1",
            "gtin": "4000862141404",
            "quantity": "8",
            "quantity_expected": "10",
            "quantity_received": "8",
            "quantity_rejected": "2",
            "reject_reason": "DAMAGED",
        }
    ],
}
ADJUSTMENT = {
    "doc_type": "inventory_adjustment",
    "doc_id": "ADJ-1",
    "adjustment_id": "ADJ-1",
    "adjusted_at": "2026-11-26",
    "warehouse": "WH1",
    "lines": [
        {
            "line_no": "1",
            "gtin": "4000862141435",
            "sku": "W-1",
            "location": "A-01",
            "mode": "delta",
            "quantity_change": "-15",
            "quantity": "-15",
            "reason_code": "3",
            "reason": "scrapped",
            "uom": "PCE",
            "extensions": {"direction": "1"},
        },
        {
            "line_no": "2",
            "gtin": "4000862141442",
            "sku": "W-2",
            "mode": "count",
            "counted_quantity": "40",
            "quantity": "40",
            "reason_code": "4",
            "reason": "difference",
            "uom": "PCE",
        },
    ],
}
PURCHASE = {
    "doc_type": "purchase_order",
    "doc_id": "PO-7",
    "po_number": "PO-7",
    "vendor_id": "V1",
    "order_date": "2026-11-20",
    "expected_date": "2026-12-01",
    "warehouse": "WH1",
    "currency": "EUR",
    "lines": [
        {
            "line_no": "1",
            "gtin": "4000862141404",
            "sku": "V-SKU",
            "vendor_sku": "V-SKU",
            "quantity": "100",
            "uom": "PCE",
            "unit_price": "2.5",
        }
    ],
}


def test_round_trip(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    originals = [record_from_dict(dict(d)) for d in (SHIPMENT, RECEIPT, ADJUSTMENT, PURCHASE)]
    data, findings = _write(originals, syntax="UNOC")
    assert findings == []
    path = tmp_path / "out.edi"
    path.write_bytes(data)
    back, report = records(path, make_config(), edifact_orders_as="purchase_order")
    assert report.valid, report.findings
    assert len(back) == 4
    for original, copy in zip(originals, back, strict=True):
        assert _business(copy) == _business(original)
    # The purchase line was written as LIN EN, PIA SA and PRI AAA, and read back as just that.
    (line,) = back[3].to_dict()["lines"]
    assert line["extensions"] == {
        "item_ids": {"EN": "4000862141404", "SA": "V-SKU"},
        "price_qualifier": "AAA",
    }


def test_release_escaping_and_counts(make_config: Callable[..., Config]) -> None:
    data, _ = _write([record_from_dict(dict(SHIPMENT))], syntax="UNOC", syntax_version="4")
    text = data.decode("latin-1")
    assert "TRK??1?+2" in text and "Widget?: blue?'s" in text
    assert text.startswith("UNA:+.? '\nUNB+UNOC:4+5412345000013:14+4012345000009:14+20")
    assert text.rstrip().endswith("UNZ+1+1'")


def test_unsupported_document_is_a_finding() -> None:
    order = record_from_dict({"doc_type": "sales_order", "doc_id": "S1"})
    _, findings = _write([order])
    assert [f.code for f in findings] == ["unsupported_document"]


def test_check_reports_bad_options() -> None:
    problems = target_problems(
        EdifactTarget, TargetConfig("p", "edifact", "local:x", {"syntax": "UNOZ", "colour": 1})
    )
    assert any(p.startswith("colour") for p in problems) and any(p.startswith("sender") for p in problems)
    assert any(p.startswith("syntax") for p in problems)


def test_group_order_follows_the_directory(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    # INVRPT's quantity group is QTY-INV in D.96A and INV-QTY in D.01B; a RECADV line's batch GIN
    # is a group after its QVR and DTM.
    receipt = {**RECEIPT, "lines": [{**RECEIPT["lines"][0], "lot": "L7", "expiry": "2027-01-31"}]}  # type: ignore[index]
    originals = [record_from_dict(dict(d)) for d in (ADJUSTMENT, receipt)]
    for directory in ("D96A", "D01B"):
        data, findings = _write(originals, directory=directory)
        assert findings == []
        text = data.decode("latin-1")
        qty_first = text.index("QTY+156") < text.index("INV+1")
        assert qty_first == (directory == "D96A") and "CNT+2:2" not in text
        path = tmp_path / f"{directory}.edi"
        path.write_bytes(data)
        back, report = records(path, make_config())
        assert report.valid, report.findings
        for original, copy in zip(originals, back, strict=True):
            assert _business(copy) == _business(original)
