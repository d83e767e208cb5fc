"""RECADV → receipt: received, accepted and rejected quantities per line (QTY 48/194/195,
QVR for the discrepancy and its reason)."""

from __future__ import annotations

from typing import Any

from gateway.formats.edifact.envelope import Message
from gateway.formats.edifact.mappings.common import day, envelope_fields, header, item, lines, number

STOP = frozenset({"UNS", "UNT", "CNT", "CPS"})


def map_recadv(message: Message, options: dict[str, Any]) -> list[dict[str, Any]]:
    """One receipt from a RECADV message."""
    h = header(message, frozenset({"CPS", "LIN"}))
    items = []
    for segs in lines(message.segments, stop=STOP):
        line = item(segs)
        q = line.pop("_quantities")
        line["quantity_expected"] = q.get("12") or q.get("21")
        line["quantity_received"] = q.get("194") or q.get("48")
        line["quantity"] = line["quantity_received"]
        line["quantity_rejected"] = q.get("195")
        for seg in segs:
            if seg.tag == "QVR":
                line["quantity_rejected"] = line["quantity_rejected"] or number(seg.get(0, 0)).lstrip("-")
                line["reject_reason"] = seg.get(2, 3) or seg.get(2, 0) or seg.get(1) or None
        items.append(line)
    return [
        {
            **envelope_fields(message, h),
            "doc_type": "receipt",
            "doc_id": h.number,
            "receipt_id": h.number,
            "po_number": h.refs.get("ON"),
            "asn_number": h.refs.get("DQ") or h.refs.get("AAK"),
            "received_at": day(h.dates.get("50") or h.dates.get("137")),
            "warehouse": (h.parties.get("DP") or h.parties.get("WH") or {}).get("id"),
            "lines": items,
        }
    ]
