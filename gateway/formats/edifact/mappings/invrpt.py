"""INVRPT → inventory_adjustment: a QTY 145 (actual stock) is a count, a QTY 156 (the movement
quantity, as the gateway's own INVRPT writes it) with an INV is a delta whose sign is INV 4501
(1 out, 2 in); INV 4499 is the reason code. D.96A puts the INV after its QTY, D.01B before it.

Any other quantity (units per pack, free goods...) is kept under the line's extensions, never
taken as the stock: a group with neither 145 nor a movement quantity is a finding."""

from __future__ import annotations

from typing import Any

from gateway.canonical.shapes import AdjustmentLineData, InventoryAdjustmentData, RecordData
from gateway.formats.edifact.envelope import Message
from gateway.formats.edifact.mappings.common import LineProblems, day, envelope_fields, header, lines, number
from gateway.formats.edifact.mappings.items import extend, item, no_quantity, quantity
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
COUNT, MOVEMENT = "145", "156"


def map_invrpt(message: Message, options: dict[str, Any]) -> list[RecordData]:
    """One inventory_adjustment from an INVRPT message; one line per quantity group (or LIN)."""
    h = header(message, frozenset({"LIN"}))
    items: list[AdjustmentLineData] = []
    problems = LineProblems()
    for segs in lines(message.segments):
        with problems:
            base, quantities = item(segs)
            groups = [(inv, group, _quantities(group)) for inv, group in _inv_groups(segs)]
            # A group with neither a stock figure nor a movement (units per pack...) only informs.
            stock = [g for g in groups if _is_stock(g[0], g[2])]
            if not stock:
                raise no_quantity(segs[0], quantities, (COUNT, MOVEMENT))
            informing = {
                q: v for inv, _, qty in groups if not _is_stock(inv, qty) for q, (v, _) in qty.items()
            }
            if informing:
                extend(base, "quantities", informing)
            for n, (inv, group, qty) in enumerate(stock):
                line: AdjustmentLineData = {
                    **base,
                    "mode": None,
                    "quantity_change": None,
                    "counted_quantity": None,
                    "reason_code": None,
                    "reason": None,
                }
                if "extensions" in base:
                    line["extensions"] = dict(base["extensions"])  # each group line gets its own
                if len(stock) > 1:
                    line["line_no"] = f"{base.get('line_no') or ''}.{n + 1}"
                wanted = _wanted(inv)
                value = quantity(line, segs[0], {q: v for q, (v, _) in qty.items()}, wanted)
                unit = next(u for q, (v, u) in qty.items() if q in wanted and v)
                if unit:
                    line["uom"] = unit
                if COUNT in qty:
                    line["mode"] = "count"
                    line["counted_quantity"] = line["quantity"] = value
                else:
                    sign = "-" if inv is not None and inv.get(0) == "1" and not value.startswith("-") else ""
                    line["mode"] = "delta"
                    line["quantity_change"] = line["quantity"] = sign + value
                if inv is not None:
                    line["reason_code"] = inv.get(2) or None
                    line["reason"] = REASONS.get(inv.get(2)) or STOCK.get(inv.get(1))
                    for key, code in (("direction", inv.get(0)), ("stock_status", inv.get(1))):
                        if code:
                            extend(line, key, code)
                for s in group:
                    if s.tag == "LOC" and s.get(1, 0):
                        line["location"] = s.get(1, 0)
                    elif s.tag == "GIN" and s.get(0) == "BX":
                        line["lot"] = s.get(1, 0)
                items.append(line)
    problems.raise_any()
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


def _wanted(inv: Segment | None) -> tuple[str, ...]:
    """The quantities that make a group a stock line: a movement only means a change under an
    INV, which gives its direction."""
    return (COUNT, MOVEMENT) if inv is not None else (COUNT,)


def _is_stock(inv: Segment | None, qty: dict[str, tuple[str, str]]) -> bool:
    return any(qty.get(q, ("", ""))[0] for q in _wanted(inv))


def _quantities(group: list[Segment]) -> dict[str, tuple[str, str]]:
    """A group's quantities by qualifier: the value and its unit."""
    return {s.get(0, 0): (number(s.get(0, 1)), s.get(0, 2)) for s in group if s.tag == "QTY"}


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
