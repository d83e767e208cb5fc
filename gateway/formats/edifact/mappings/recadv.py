"""RECADV → receipt: received, accepted and rejected quantities per line (QTY 194 received and
accepted, else 48 received; 195/196 received, not accepted, to be returned/destroyed; QVR for the
discrepancy and its reason), the despatched or ordered quantity (12, 21) as the expected one."""

from __future__ import annotations

from typing import Any

from gateway.canonical.shapes import ReceiptData, ReceiptLineData, RecordData
from gateway.formats.edifact.envelope import Message
from gateway.formats.edifact.mappings.common import LineProblems, day, envelope_fields, header, lines, number
from gateway.formats.edifact.mappings.items import item, quantity

STOP = frozenset({"UNS", "UNT", "CNT", "CPS"})


def map_recadv(message: Message, options: dict[str, Any]) -> list[RecordData]:
    """One receipt from a RECADV message."""
    h = header(message, frozenset({"CPS", "LIN"}))
    items: list[ReceiptLineData] = []
    problems = LineProblems()
    for segs in lines(message.segments, stop=STOP):
        with problems:
            base, q = item(segs)
            received = quantity(base, segs[0], q, ("194", "48"), also=("12", "21", "195", "196"))
            line: ReceiptLineData = {
                **base,
                "quantity_expected": q.get("12") or q.get("21"),
                "quantity_received": received,
                "quantity": received,
                "quantity_rejected": q.get("195") or q.get("196"),
                "reject_reason": None,
            }
            for seg in segs:
                if seg.tag == "QVR":
                    line["quantity_rejected"] = line["quantity_rejected"] or number(seg.get(0, 0)).lstrip("-")
                    line["reject_reason"] = seg.get(2, 3) or seg.get(2, 0) or seg.get(1) or None
            items.append(line)
    problems.raise_any()
    receipt: ReceiptData = {
        **envelope_fields(message, h),
        "doc_type": "receipt",
        "doc_id": h.number,
        "receipt_id": h.number,
        "po_number": h.refs.get("ON"),
        "asn_number": h.refs.get("DQ") or h.refs.get("AAK"),
        "received_at": day(h.dates.get("50") or h.dates.get("137")),
        "warehouse": h.party_id("DP", "WH"),
        "lines": items,
    }
    return [receipt]
