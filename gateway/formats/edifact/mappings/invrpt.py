"""INVRPT → inventory_adjustment: a QTY 145 (actual stock) is a count, any other quantity with
an INV is a delta whose sign is INV 4501 (1 out, 2 in); INV 4499 is the reason code. D.96A puts
the INV after its QTY, D.01B before it."""

from __future__ import annotations

from typing import Any

from gateway.canonical.shapes import AdjustmentLineData, InventoryAdjustmentData, RecordData
from gateway.formats.edifact.envelope import Message
from gateway.formats.edifact.mappings.common import day, envelope_fields, header, item, lines, number
from gateway.formats.edifact.syntax import Segment

REASONS = {
    "1": "reception",
    "2": "delivery",
    "3": "scrapped",
    "4": "difference",
    "5": "transfer",
    "7": "reversal",
    "8": "defects",
}
STOCK = {"1": "accepted", "2": "damaged", "4": "reserved", "5": "awaiting inspection"}


def map_invrpt(message: Message, options: dict[str, Any]) -> list[RecordData]:
    """One inventory_adjustment from an INVRPT message; one line per quantity group (or LIN)."""
    h = header(message, frozenset({"LIN"}))
    items: list[AdjustmentLineData] = []
    for segs in lines(message.segments):
        base, _ = item(segs)
        groups = _inv_groups(segs)
        for n, (inv, group) in enumerate(groups):
            line: AdjustmentLineData = {
                **base,
                "mode": None,
                "quantity_change": None,
                "counted_quantity": None,
                "reason_code": None,
                "reason": None,
            }
            if len(groups) > 1:
                line["line_no"] = f"{base.get('line_no') or ''}.{n + 1}"
            qty = {s.get(0, 0): (number(s.get(0, 1)), s.get(0, 2)) for s in group if s.tag == "QTY"}
            if "145" in qty:
                line["mode"] = "count"
                line["counted_quantity"] = line["quantity"] = qty["145"][0]
            elif qty:
                value, _ = next(iter(qty.values()))
                sign = "-" if inv is not None and inv.get(0) == "1" and not value.startswith("-") else ""
                line["mode"] = "delta"
                line["quantity_change"] = line["quantity"] = sign + value
            uoms = [u for _, u in qty.values() if u]
            if uoms:
                line["uom"] = uoms[0]
            if inv is not None:
                line["reason_code"] = inv.get(2) or None
                line["reason"] = REASONS.get(inv.get(2)) or STOCK.get(inv.get(1))
                line["extensions"] = {
                    k: v for k, v in (("direction", inv.get(0)), ("stock_status", inv.get(1))) if v
                }
            for s in group:
                if s.tag == "LOC" and s.get(1, 0):
                    line["location"] = s.get(1, 0)
                elif s.tag == "GIN" and s.get(0) == "BX":
                    line["lot"] = s.get(1, 0)
            items.append(line)
    adjustment: InventoryAdjustmentData = {
        **envelope_fields(message, h),
        "doc_type": "inventory_adjustment",
        "doc_id": h.number,
        "adjustment_id": h.number,
        "adjusted_at": day(h.dates.get("366") or h.dates.get("137")),
        "warehouse": h.party_id("WH", "SU"),
        "lines": items,
    }
    return [adjustment]


def _inv_groups(segs: list[Segment]) -> list[tuple[Segment | None, list[Segment]]]:
    """The quantity groups of one line, each with its INV (or None) and its segments.

    D.96A's group (SG11) starts with QTY and INV follows it; D.01B's starts with INV and QTY
    follows. Whichever of the two comes first in the line starts every group. A line without INV
    is one group of its own QTYs, LOCs and GINs."""
    if not any(s.tag == "INV" for s in segs):
        return [(None, [s for s in segs if s.tag in ("QTY", "LOC", "GIN")])]
    trigger = next(s.tag for s in segs if s.tag in ("INV", "QTY"))
    groups: list[tuple[Segment | None, list[Segment]]] = []
    for seg in segs:
        if seg.tag == trigger == "INV":
            groups.append((seg, []))
        elif seg.tag == trigger:
            groups.append((None, [seg]))
        elif groups:
            inv, group = groups[-1]
            if seg.tag == "INV" and inv is None:
                groups[-1] = (seg, group)
            else:
                group.append(seg)
    return groups
