"""The EDIFACT messages the target writes, as segment lists: DESADV from shipment, RECADV from
receipt, INVRPT from inventory_adjustment and ORDERS from purchase_order.

A builder takes the record and a `Context` (directory, partners, time of writing) and returns
the segments between UNH and UNT, each a tag followed by its elements (a string, or a list of
components). A record a message cannot carry raises `Unwritable`; rendering, escaping and the
schema check are the writer's business (edifact.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from gateway.canonical.records import InventoryAdjustment, PurchaseOrder, Receipt, Shipment
from gateway.formats.edifact.mappings.common import AGENCY_SCHEMES, FUNCTION_CODES

Seg = list[Any]  # tag, then elements: str, or list of components


class Unwritable(Exception):
    """A record the message cannot carry validly: (message, value), and the line it is about."""

    def __init__(self, message: str, value: str, line_no: str | None = None) -> None:
        super().__init__(message, value)
        self.line_no = line_no


@dataclasses.dataclass(frozen=True)
class Context:
    """What a builder needs besides the record: the directory, the partners, the time of writing."""

    directory: str = "D96A"
    sender: str = ""
    sender_qualifier: str = "14"
    receiver: str = ""
    receiver_qualifier: str = "14"
    now: str = ""  # ISO date and time of writing: the document date when the record has none
    association: str = "EAN008"  # UNH's association code; EAN... is an EANCOM subset

    @property
    def eancom(self) -> bool:
        """Whether the messages follow EANCOM (GS1), which names every line's item by GTIN."""
        return self.association.startswith("EAN")

    @property
    def gtin_type(self) -> str:
        """LIN's code for a GTIN (7143): EN in EANCOM 97 (D.96A), SRV in EANCOM 2002 (D.01B)."""
        return "SRV" if self.directory == "D01B" else "EN"


#: A party's canonical scheme -> NAD code list agency (3055), as the reader maps them back.
SCHEME_AGENCIES = {scheme: code for code, scheme in AGENCY_SCHEMES.items()}
#: UNB partner identification code qualifier (0007) -> NAD code list agency (3055).
AGENCIES = {"14": "9", "1": "16"}


def _nad(qualifier: str, party: str, id_qualifier: str) -> list[Seg]:
    return [["NAD", qualifier, [party, "", AGENCIES.get(id_qualifier, "ZZZ")]]] if party else []


def edi_date(iso: str | None) -> tuple[str, str] | None:
    """(value, format) for DTM: 102 for a date, 203 with hours and minutes."""
    if not iso:
        return None
    digits = iso.replace("-", "").replace(":", "").replace("T", "")[:12]
    return (digits[:8], "102") if len(digits) < 12 else (digits, "203")


def _dtm(qualifier: str, iso: str | None) -> list[Seg]:
    value = edi_date(iso)
    return [["DTM", [qualifier, value[0], value[1]]]] if value else []


def _line_items(line: Any, c: Context, gtin_required: bool = False) -> list[Seg]:
    """LIN (the GTIN), PIA (the supplier's and buyer's numbers) and IMD of a line. EANCOM's
    DESADV, RECADV and INVRPT identify the item in LIN by its GTIN: a line without one cannot
    be written there (`gtin_required`), and a plain UN/EDIFACT association writes PIA alone."""
    if gtin_required and c.eancom and not line.gtin:
        raise Unwritable(
            f"EANCOM ({c.association}) names a line's item by its GTIN in LIN; line {line.line_no or '?'} "
            'has none (association = "" writes plain UN/EDIFACT, which names it in PIA)',
            line.sku or line.buyer_sku or "",
            line.line_no,
        )
    segs: list[Seg] = [["LIN", line.line_no or "", "", [line.gtin, c.gtin_type] if line.gtin else ""]]
    ids = [[v, k] for v, k in ((line.sku, "SA"), (line.buyer_sku, "IN")) if v]
    if ids:
        segs.append(["PIA", "5", *ids])
    if line.description:
        segs.append(["IMD", "F", "", ["", "", "", line.description]])
    return segs


def _qty(qualifier: str, value: str | None, uom: str | None = None) -> list[Seg]:
    return [["QTY", [qualifier, value, uom or ""]]] if value not in (None, "") else []


def _batch(line: Any) -> list[Seg]:
    segs: list[Seg] = []
    if line.lot:
        segs.append(["GIN", "BX", line.lot])
    if line.serial:
        segs.append(["GIN", "BN", line.serial])
    return segs + _dtm("361", line.expiry)


def desadv(r: Shipment, c: Context = Context()) -> list[Seg]:
    """DESADV body (BGM..CNT) for a shipment."""
    segs: list[Seg] = [["BGM", "351", r.shipment_id or r.doc_id, FUNCTION_CODES[r.function]]]
    segs += _dtm("137", r.issued_at or c.now) + _dtm("11", r.ship_date)
    if len(r.tracking_numbers) + bool(r.order_number) > 10:  # the reference group repeats 10 times
        raise Unwritable(
            "DESADV carries the order number and at most 9 tracking numbers", str(len(r.tracking_numbers))
        )
    segs += [["RFF", ["ON", r.order_number]]] if r.order_number else []
    segs += [["RFF", ["CN", t]] for t in r.tracking_numbers]
    # EANCOM's DESADV names the buyer, the supplier and the delivery party: the supplier sends
    # it (the interchange sender), the buyer receives it, and the goods go to the record's
    # ship-to (a DESADV or despatch advice read keeps it) or else to the buyer.
    segs += _nad("BY", c.receiver, c.receiver_qualifier) + _nad("SU", c.sender, c.sender_qualifier)
    ship_to = r.extensions.get("ship_to") if isinstance(r.extensions.get("ship_to"), dict) else None
    if ship_to and ship_to.get("id"):
        agency = SCHEME_AGENCIES.get(ship_to.get("scheme") or "", "92")
        segs.append(["NAD", "DP", [ship_to["id"], "", agency]])
    else:
        segs += _nad("DP", c.receiver, c.receiver_qualifier)
    segs += [["NAD", "SF", [r.warehouse, "", "92"]]] if r.warehouse else []
    segs += [["TDT", "20", "", "", "", [r.carrier]]] if r.carrier else []

    def lines_for(sscc: str | None) -> Iterator[Seg]:
        for line in r.lines:
            if line.package_sscc == sscc:
                yield from _line_items(line, c, gtin_required=True)
                yield from _qty("12", line.quantity_shipped or line.quantity, line.uom)
                yield from _qty("21", line.quantity_ordered)
                yield from _batch(line)

    segs.append(["CPS", "1"])
    segs += list(lines_for(None))
    # A line may name a package the shipment does not list (a Peppol despatch gives no package
    # list): it gets a package of its own, so that no line is ever left out.
    listed = [(p.sscc, p.weight) for p in r.packages]
    known = {sscc for sscc, _ in listed}
    extra = dict.fromkeys(x.package_sscc for x in r.lines if x.package_sscc and x.package_sscc not in known)
    for n, (sscc, weight) in enumerate([*listed, *((s, None) for s in extra)], start=2):
        segs += [["CPS", str(n), "1"], ["PAC", "1", "", "201"]]
        segs += [["MEA", "PD", "AAB", ["KGM", weight]]] if weight else []
        segs += [["PCI", "33E"], ["GIN", "BJ", sscc]] if sscc else []
        if sscc is not None:
            segs += list(lines_for(sscc))
    return [*segs, ["CNT", ["2", str(len(r.lines))]]]


def recadv(r: Receipt, c: Context = Context()) -> list[Seg]:
    """RECADV body for a receipt. The name and address group is mandatory: the buyer (the
    interchange sender, who received the goods), the supplier (the receiver) and the warehouse
    as delivery party (EANCOM's NAD BY, SU and DP)."""
    segs: list[Seg] = [["BGM", "632", r.receipt_id or r.doc_id, FUNCTION_CODES[r.function]]]
    segs += _dtm("137", r.issued_at or c.now) + _dtm("50", r.received_at)
    segs += [["RFF", ["ON", r.po_number]]] if r.po_number else []
    segs += [["RFF", ["DQ", r.asn_number]]] if r.asn_number else []
    segs += _nad("BY", c.sender, c.sender_qualifier) + _nad("SU", c.receiver, c.receiver_qualifier)
    segs += [["NAD", "DP", [r.warehouse, "", "92"]]] if r.warehouse else []
    if not any(s[0] == "NAD" for s in segs):
        raise Unwritable("RECADV needs a party: no sender, receiver or warehouse", "")
    segs.append(["CPS", "1"])
    for line in r.lines:
        # The line group: LIN, PIA, IMD, QTY, QVR, DTM, then the GIN group (D.96A SG26, D.01B too).
        segs += _line_items(line, c, gtin_required=True)
        segs += _qty("12", line.quantity_expected, line.uom) + _qty("194", line.quantity_received)
        segs += _qty("195", line.quantity_rejected)
        if line.reject_reason:
            segs.append(
                ["QVR", [f"-{line.quantity_rejected or '0'}", "195"], "", ["", "", "", line.reject_reason]]
            )
        batch = _batch(line)
        segs += [s for s in batch if s[0] == "DTM"] + [s for s in batch if s[0] == "GIN"]
    return [*segs, ["CNT", ["2", str(len(r.lines))]]]


def invrpt(r: InventoryAdjustment, c: Context = Context()) -> list[Seg]:
    """INVRPT body: the parties (NAD GY, GO, WH), then one quantity group per line, a count as
    QTY 145, a delta signed by INV 4501.

    The group is QTY, INV, GIN, LOC in D.96A and INV, QTY, GIN, LOC in D.01B; INVRPT has no
    summary section in either."""
    segs: list[Seg] = [["BGM", "35", r.adjustment_id or r.doc_id, FUNCTION_CODES[r.function]]]
    directory = c.directory
    segs += _dtm("137", r.issued_at or c.now) + _dtm("366", r.adjusted_at)
    # EANCOM makes naming the parties that exchange the report mandatory: the warehouse side
    # sends it as the inventory reporting party (GY) to the goods owner (GO).
    segs += _nad("GY", c.sender, c.sender_qualifier) + _nad("GO", c.receiver, c.receiver_qualifier)
    segs += [["NAD", "WH", [r.warehouse, "", "92"]]] if r.warehouse else []
    for line in r.lines:
        segs += _line_items(line, c, gtin_required=True)
        if line.mode == "count":
            inv: Seg = ["INV", "", "", line.reason_code or ""]
            qty = _qty("145", line.counted_quantity or line.quantity, line.uom)
            if not qty:  # the quantity group needs its QTY; a count of nothing is no count
                raise Unwritable("an inventory count line has no counted quantity", line.line_no or "")
        else:
            change = line.quantity_change or line.quantity or "0"
            inv = ["INV", "1" if change.startswith("-") else "2", "", line.reason_code or ""]
            qty = _qty("156", change.lstrip("-+"), line.uom)
        segs += [inv, *qty] if directory == "D01B" else [*qty, inv]
        segs += [["GIN", "BX", line.lot]] if line.lot else []
        segs += [["LOC", "18", [line.location]]] if line.location else []
    return segs


def orders(r: PurchaseOrder, c: Context = Context()) -> list[Seg]:
    """ORDERS body for a purchase order. EANCOM names the buyer (the interchange sender, who
    orders) and the supplier: the order's own `vendor_id` (a buyer-assigned code) when it has one,
    else the interchange receiver."""
    segs: list[Seg] = [["BGM", "220", r.po_number or r.doc_id, FUNCTION_CODES[r.function]]]
    segs += _dtm("137", r.issued_at or r.order_date or c.now) + _dtm("2", r.expected_date)
    segs += _nad("BY", c.sender, c.sender_qualifier)
    if r.vendor_id:
        segs.append(["NAD", "SU", [r.vendor_id, "", "92"]])
    else:
        segs += _nad("SU", c.receiver, c.receiver_qualifier)
    segs += [["NAD", "DP", [r.warehouse, "", "92"]]] if r.warehouse else []
    segs += [["CUX", ["2", r.currency, "9"]]] if r.currency else []
    for line in r.lines:
        segs += _line_items(line if not line.vendor_sku else _with_sku(line), c)
        segs += _qty("21", line.quantity, line.uom)
        segs += [["PRI", ["AAA", line.unit_price]]] if line.unit_price else []
    return [*segs, ["UNS", "S"], ["CNT", ["2", str(len(r.lines))]]]


def _with_sku(line: Any) -> Any:
    return dataclasses.replace(line, sku=line.vendor_sku)
