"""ORDERS → sales_order (or purchase_order, by the source's `edifact_orders_as`), and ORDRSP →
the same sales_order with function `replace` (an order response restates the order).

An ORDRSP's BGM number is the response's own document number; the order it answers is its
RFF+ON. Without RFF+ON the order number stays unset rather than taking the response's number."""

from __future__ import annotations

from typing import Any

from gateway.canonical.shapes import LineData, PurchaseOrderData, RecordData, SalesOrderData
from gateway.formats.edifact.envelope import Message
from gateway.formats.edifact.mappings.common import LineProblems, envelope_fields, header, lines
from gateway.formats.edifact.mappings.items import item, quantity

DETAIL = frozenset({"LIN", "UNS"})


def map_orders(message: Message, options: dict[str, Any]) -> list[RecordData]:
    """One sales_order (default) or purchase_order from an ORDERS message."""
    h = header(message, DETAIL)
    items: list[LineData] = []
    problems = LineProblems()
    for segs in lines(message.segments):
        with problems:
            line, quantities = item(segs)
            line["quantity"] = quantity(line, segs[0], quantities, ("21",))
            items.append(line)
    problems.raise_any()
    base = envelope_fields(message, h)
    ship_to = h.parties.get("DP") or h.parties.get("ST")
    if options.get("edifact_orders_as") == "purchase_order":
        order: PurchaseOrderData = {
            **base,
            "doc_type": "purchase_order",
            "doc_id": h.number,
            "po_number": h.number,
            "vendor_id": h.party_id("SU"),
            "order_date": _day(h.dates.get("137")),
            "expected_date": _day(h.dates.get("2")),
            "warehouse": (ship_to or {}).get("id"),
            "currency": h.currency,
            "lines": [{**line, "vendor_sku": line.get("sku")} for line in items],
        }
        return [order]
    extensions: dict[str, Any] = {}
    if h.dates.get("2"):
        extensions["requested_delivery_date"] = _day(h.dates.get("2"))
    if h.parties.get("SU"):
        extensions["supplier"] = h.parties["SU"]
    order_number: str | None = h.number
    if message.type == "ORDRSP":
        order_number = extensions["response_to"] = h.refs.get("ON")
    sales: SalesOrderData = {
        **base,
        "doc_type": "sales_order",
        "doc_id": h.number,
        "function": "replace" if message.type == "ORDRSP" else h.function,
        "order_number": order_number,
        "customer_id": h.party_id("BY"),
        "customer_po": order_number,
        "order_date": _day(h.dates.get("137")),
        "requested_ship_date": _day(h.dates.get("10")),
        "ship_to": ship_to,
        "bill_to": h.parties.get("IV"),
        "carrier": h.carrier,
        "service_level": None,
        "warehouse": None,
        "currency": h.currency,
        "lines": items,
        "extensions": extensions,
    }
    return [sales]


def _day(iso: str | None) -> str | None:
    return iso[:10] if iso else None
