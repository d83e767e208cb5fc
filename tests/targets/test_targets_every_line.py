"""No writer drops a line: every line of a record it takes is in its output, or a finding names it.

Generated canonical records of every document type that has lines go through every target (the
ERP layouts, canonical CSV and JSON Lines, EDIFACT, IDoc and every writable XML layout). Each
line carries an item number of its own, so a line is in the output when its number is. A target
may refuse a record it cannot carry whole (a finding naming the record, no part written) or a
line (a finding naming that line); a shorter output without a finding is the bug this test hunts.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import plugins
from gateway.canonical.build import record_from_dict
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.formats.xml.layout import layouts as xml_layouts
from gateway.targets.base import FileInfo
from tests.targets.test_targets_rules import Memory

OPTIONS: dict[str, dict[str, Any]] = {
    "netsuite": {"adjustment_account": "Adj"},
    "quickbooks_iif": {"customer": "C"},
    "quickbooks_online": {"customer": "C"},
    "edifact": {"sender": "5412345000013", "receiver": "4012345000009"},
    "idoc": {"sender_partner": "GATEWAY", "receiver_partner": "SAPCLNT100"},
}


def _targets() -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for family in ("jsonl", "canonical_csv", "sage100", "netsuite", "quickbooks_iif", "quickbooks_online",
                   "edifact", "idoc"):  # fmt: skip
        variants = plugins.target(family).variants()
        for fmt in [f"{family}.{v}" for v in variants] or [family]:
            found.append((fmt, OPTIONS.get(family, {})))
    found += [("xml", {"layout": name}) for name in sorted(xml_layouts())]
    return found


TARGETS = _targets()
LINED = ["sales_order", "purchase_order", "shipment", "receipt", "inventory_adjustment", "return", "transfer",
         "price_list"]  # fmt: skip


def gtin(body: str) -> str:
    """A GTIN-13 with its check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


quantities = st.sampled_from(["1", "2", "12", "2.5", "0.125", "100", "3.000", "0"])
prices = st.sampled_from(["0.99", "4.15", "10", "1250.00", "0.0675", None])


@st.composite
def records(draw: st.DrawFn, doc_type: str) -> dict[str, Any]:
    count = draw(st.integers(min_value=1, max_value=8))
    numbers = draw(st.lists(st.integers(1, 9999), min_size=count, max_size=count, unique=True))
    tag = draw(st.sampled_from("ABCDEFGHJK"))
    packages = ["003871234500000017", "003871234500000024"]
    lines: list[dict[str, Any]] = []
    for i, number in enumerate(numbers):
        qty = draw(quantities)
        line: dict[str, Any] = {
            "line_no": str(number * 10),
            # Now and then a line known only by its GTIN, as EANCOM partners send them.
            "sku": draw(st.sampled_from([f"IT{tag}{number:04d}Q"] * 4 + [None])),
            "gtin": gtin(f"400638{number:06d}"),
            "description": f"Item {number}",
            "quantity": qty,
            "uom": draw(st.sampled_from(["EA", "PCE", "KGM"])),
            "unit_price": draw(prices),
            "lot": draw(st.sampled_from([None, f"L{number}"])),
        }
        extra = {
            "shipment": {
                "quantity_shipped": qty,
                "quantity_ordered": qty,
                "package_sscc": draw(st.sampled_from([None, *packages, "003871234500000093"])),
            },
            "receipt": {"quantity_received": qty, "quantity_expected": qty},
            "inventory_adjustment": {
                "mode": "delta",
                "quantity_change": draw(st.sampled_from([qty, f"-{qty}"])),
                "reason_code": "DMG",
            },
            "return": {"condition": "damaged", "disposition": "restock", "reason": "wrong size"},
            "transfer": {"from_location": "A-01", "to_location": f"B-{i:02d}"},
            "purchase_order": {"vendor_sku": f"V{number}"},
            "price_list": {"per_quantity": "1"},
        }.get(doc_type, {})
        lines.append({**line, **extra})
    if count > 2 and draw(st.booleans()):
        # The same item on two lines under two line numbers: both must come out.
        lines[-1] = {**lines[0], "line_no": lines[-1]["line_no"]}
    # Listed packages: those the lines name (one SSCC no package lists may stay on a line).
    named = sorted({ln["package_sscc"] for ln in lines if ln.get("package_sscc") in packages})
    head: dict[str, Any] = {
        "sales_order": {
            "order_number": "SO-1",
            "customer_id": "C-1",
            "order_date": "2026-03-02",
            "currency": "EUR",
            "warehouse": "WH1",
            "ship_to": {"id": "4012345000016", "name": "Depot", "city": "Breda", "country": "NL"},
        },
        "purchase_order": {
            "po_number": "PO-1",
            "vendor_id": "V-1",
            "order_date": "2026-03-02",
            "currency": "EUR",
            "warehouse": "WH1",
        },
        "shipment": {
            "shipment_id": "SH-1",
            "order_number": "SO-1",
            "ship_date": "2026-03-03",
            "carrier": "DHL",
            "warehouse": "WH1",
            "packages": [{"sscc": s} for s in named],
            "tracking_numbers": ["TRK1"],
        },
        "receipt": {
            "receipt_id": "RC-1",
            "po_number": "PO-1",
            "received_at": "2026-03-04T10:00:00",
            "warehouse": "WH1",
        },
        "inventory_adjustment": {
            "adjustment_id": "ADJ-1",
            "adjusted_at": "2026-03-04T10:00:00",
            "warehouse": "WH1",
        },
        "return": {
            "rma_number": "RMA-1",
            "order_number": "SO-1",
            "customer_id": "C-1",
            "received_at": "2026-03-05T09:00:00",
            "warehouse": "WH1",
        },
        "transfer": {
            "transfer_id": "TR-1",
            "from_warehouse": "WH1",
            "to_warehouse": "WH2",
            "completed_at": "2026-03-05T09:00:00",
        },
        "price_list": {"price_list_id": "PL-1", "currency": "EUR", "valid_from": "2026-01-01"},
    }[doc_type]
    envelope = {"doc_id": f"DOC-{tag}", "issued_at": "2026-03-05T09:00:00", "sender": {"id": "5412345000013"},
                "receiver": {"id": "4012345000009"}}  # fmt: skip
    return {"doc_type": doc_type, **envelope, **head, "lines": lines}


def _named(finding: Finding, line: dict[str, Any], index: int) -> bool:
    """Whether a finding points at this line (by number, item or position)."""
    where = finding.location
    return (where.get("line_no") == line["line_no"] or where.get("sku") in (line["sku"], line["gtin"])
            or where.get("line") in (index, index + 1, line["line_no"]))  # fmt: skip


def _write(fmt: str, options: dict[str, Any], doc: dict[str, Any]) -> tuple[str, list[Finding]]:
    """The target's output for one record (all its files), and its findings."""
    target = plugins.target(fmt)(TargetConfig("t", fmt, "local:out", options))
    memory = Memory()
    writer = target.writer(FileInfo("F1", "in.csv"), memory)
    findings = writer.write(record_from_dict(doc))
    writer.close()
    return b"".join(memory.data.values()).decode("utf-8", "replace"), findings


def _check(fmt: str, options: dict[str, Any], doc: dict[str, Any]) -> None:
    out, findings = _write(fmt, options, doc)
    written = [ln for ln in doc["lines"] if any(t and t in out for t in (ln["sku"], ln["gtin"]))]
    if len(written) == len(doc["lines"]):
        _two_lines_of_one_item(fmt, options, doc, out)
        return
    assert findings, (
        f"{fmt} wrote {len(written)} of {len(doc['lines'])} lines of a {doc['doc_type']}, silently"
    )
    if not written:
        return  # refused whole, with a finding
    for i, line in enumerate(doc["lines"]):
        if line not in written:
            named = any(_named(f, line, i) for f in findings)
            assert named, (fmt, line["line_no"], [f.to_dict() for f in findings])


def _two_lines_of_one_item(fmt: str, options: dict[str, Any], doc: dict[str, Any], out: str) -> None:
    """When the last line repeats the first line's item, leaving it out must shorten the
    output: a writer that merges lines by item would write the same either way."""
    first, last = doc["lines"][0], doc["lines"][-1]
    if len(doc["lines"]) < 2 or first["gtin"] != last["gtin"]:
        return
    fewer, _ = _write(fmt, options, {**doc, "lines": doc["lines"][:-1]})

    def mentions(text: str) -> int:
        return sum(text.count(t) for t in (first["sku"], first["gtin"]) if t)

    assert mentions(out) > mentions(fewer), f"{fmt} merged two lines of {first['gtin']}"


@pytest.mark.parametrize(("fmt", "options"), TARGETS, ids=[f"{f}-{o.get('layout', '')}" for f, o in TARGETS])
@pytest.mark.parametrize("doc_type", LINED)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_line_in_is_a_line_out(
    fmt: str, options: dict[str, Any], doc_type: str, data: st.DataObject
) -> None:
    _check(fmt, options, data.draw(records(doc_type)))
