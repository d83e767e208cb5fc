"""DESADV → shipment: the CPS/PAC/GIN packing hierarchy gives the packages (SSCC in GIN+BJ, or
AW in later directories), and each LIN under a CPS is shipped in that CPS's package."""

from __future__ import annotations

from typing import Any

from gateway.canonical.shapes import PackageData, RecordData, ShipmentData, ShipmentLineData
from gateway.formats.edifact.envelope import Message
from gateway.formats.edifact.mappings.common import LineProblems, day, envelope_fields, header
from gateway.formats.edifact.mappings.items import item, quantity
from gateway.formats.edifact.syntax import Segment

SSCC_QUALIFIERS = ("BJ", "AW")


def map_desadv(message: Message, options: dict[str, Any]) -> list[RecordData]:
    """One shipment from a DESADV message."""
    h = header(message, frozenset({"CPS", "LIN"}))
    packages: list[PackageData] = []
    sscc_of_cps: dict[str, list[str]] = {}
    cps = ""
    weight: str | None = None
    for seg in message.segments:
        if seg.tag == "CPS":
            cps = seg.get(0)
        elif seg.tag == "PAC":
            weight = None
        elif seg.tag == "MEA" and seg.get(0) == "PD" and seg.get(1, 0) in ("AAB", "G"):
            weight = seg.get(2, 1) or None
        elif seg.tag == "GIN" and seg.get(0) in SSCC_QUALIFIERS:
            for e in range(1, 6):
                sscc = seg.get(e, 0)
                if sscc:
                    packages.append({"sscc": sscc, "weight": weight})
                    sscc_of_cps.setdefault(cps, []).append(sscc)
    items: list[ShipmentLineData] = []
    problems = LineProblems()
    for cps, segs in _lines_with_cps(message):
        with problems:
            line, q = item(segs)
            shipped = quantity(line, segs[0], q, ("12",), also=("21",))
            ssccs = sscc_of_cps.get(cps, [])
            items.append({
                **line,
                "quantity_shipped": shipped,
                "quantity": shipped,
                "quantity_ordered": q.get("21"),
                "package_sscc": ssccs[0] if len(ssccs) == 1 else None,
            })  # fmt: skip
    problems.raise_any()
    tracking = [v for k, v in h.all_refs if k in ("CN", "AAS") and v]
    extensions = {"ship_to": h.parties.get("DP"), "estimated_delivery": day(h.dates.get("17"))}
    shipment: ShipmentData = {
        **envelope_fields(message, h),
        "doc_type": "shipment",
        "doc_id": h.number,
        "shipment_id": h.number,
        "order_number": h.refs.get("ON"),
        "ship_date": day(h.dates.get("11") or h.dates.get("137")),
        "carrier": h.carrier or h.party_id("CA"),
        "service_level": None,
        "tracking_numbers": tracking,
        "packages": packages,
        "warehouse": h.party_id("SF"),
        "lines": items,
        "extensions": {k: v for k, v in extensions.items() if v},
    }
    return [shipment]


def _lines_with_cps(message: Message) -> list[tuple[str, list[Segment]]]:
    """Each LIN's segments together with the id of the CPS it sits under."""
    out: list[tuple[str, list[Segment]]] = []
    cps = line_cps = ""
    current: list[Segment] | None = None
    for seg in message.segments:
        if seg.tag in ("CPS", "LIN", "UNS", "UNT", "CNT"):
            if current:
                out.append((line_cps, current))
            current = None
            if seg.tag == "CPS":
                cps = seg.get(0)
            elif seg.tag == "LIN":
                current, line_cps = [seg], cps
        elif current is not None:
            current.append(seg)
    return out
