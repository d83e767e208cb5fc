"""Canonical records → IDoc segments: WMMBID02 goods movements, DELVRY07 confirmations, SYSTAT01.

The builders fill segment fields only; the control record and the DOCNUM are the target's.
A record the IDoc cannot carry faithfully (a stock count, a quantity that is not a number, a
value wider than its field) becomes a finding, never a silently cut or guessed value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.canonical.records import (
    InventoryAdjustment,
    Line,
    Receipt,
    Record,
    Shipment,
    Transfer,
)
from gateway.errors import Finding
from gateway.findings import Code
from gateway.formats.idoc import schema as idoc_schema
from gateway.formats.idoc.mappings.wmmbid import MOVEMENTS
from gateway.formats.idoc.model import Idoc, Segment

#: C0 and C1 control characters (tab included: a flat IDoc's fields are fixed-width text).
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

DEFAULT_MOVEMENTS = {
    "receipt": "101",
    "receipt_reversal": "102",
    "transfer_plant": "301",
    "transfer_location": "311",
    "gain": "701",
    "loss": "702",
}


@dataclass
class Movements:
    """The target's movement type and reason mapping."""

    types: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MOVEMENTS))
    by_reason: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


class Builder:
    """Appends segments in document order with their numbers, parents and levels."""

    def __init__(self, basic_type: str, record: Record) -> None:
        schema = idoc_schema.basic_type(basic_type)
        assert schema is not None, basic_type
        self.schema = schema
        self.record = record
        self.idoc = Idoc({"IDOCTYP": basic_type})
        self.findings: list[Finding] = []

    def add(self, name: str, values: dict[str, str | None], parent: Segment | None = None) -> Segment:
        """Append segment `name` under `parent` (None: top level), checking every value."""
        layout = self.schema.segments[name]
        fields: dict[str, str] = {}
        for key, value in values.items():
            if value is None or value == "":
                continue
            problem = idoc_schema.check_value(layout.by_name[key], value)
            if CONTROL.search(value):
                # A line break would split a flat IDoc's record; XML 1.0 cannot hold the rest.
                problem = Code.NOT_REPRESENTABLE, "holds a control character no IDoc can carry"
            if problem is not None:
                self.findings.append(
                    Finding(
                        problem[0],
                        f"{name}.{key} {problem[1]}",
                        {"record": self.record.doc_id, "field": key, "segment": name},
                        value,
                        f"idoc/{self.schema.name} {name}.{layout.by_name[key].rule}",
                    )
                )
                continue
            fields[key] = value
        seg = Segment(
            name,
            len(self.idoc.segments) + 1,
            parent.number if parent else 0,
            parent.level + 1 if parent else 1,
            fields,
        )
        self.idoc.segments.append(seg)
        return seg

    def fail(self, code: Code, message: str, value: str | None = None, **where: Any) -> None:
        """Note a finding about the record."""
        line_no = where.pop("line_no", None)
        if line_no:
            message = f"line {line_no}: {message}"
        loc = {"record": self.record.doc_id, **({"line_no": line_no} if line_no else {}), **where}
        self.findings.append(Finding(code, message, loc, value, f"idoc/{self.schema.name}"))


def sap_date(iso: str | None) -> str | None:
    """ISO 8601 date (or date-time) → YYYYMMDD."""
    if not iso or len(iso) < 10:
        return None
    return iso[:10].replace("-", "")


def quantity(b: Builder, value: str | None, line: Line, name: str) -> Decimal | None:
    """A canonical decimal string as a Decimal; a finding when it is none."""
    if value is None:
        b.fail(Code.MISSING_QUANTITY, f"line has no {name}", field=name, line_no=line.line_no)
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        b.fail(Code.NOT_NUMERIC, f"{name} is not a number", value, field=name, line_no=line.line_no)
        return None
    return number


def sap_number(value: Decimal) -> str:
    """A quantity as SAP writes it: unsigned, plain notation."""
    return format(abs(value), "f")


def matnr(line: Line, alpha: bool) -> str | None:
    """The SAP material number: as read from SAP when known, else the sku (ALPHA-padded)."""
    kept = line.extensions.get("sap_matnr") if line.extensions else None
    if isinstance(kept, str) and kept:
        return kept
    if line.sku and alpha and line.sku.isdigit():
        return line.sku.zfill(18)
    return line.sku


def goods_movement(record: Record, moves: Movements, alpha: bool) -> Builder:
    """WMMBID02 for a receipt, transfer or inventory adjustment."""
    b = Builder("WMMBID02", record)
    when = getattr(record, "received_at", None) or getattr(record, "completed_at", None)
    when = when or getattr(record, "adjusted_at", None) or record.issued_at
    head = b.add(
        "E1MBXYH",
        {
            "BLDAT": sap_date(record.issued_at) or sap_date(when),
            "BUDAT": sap_date(when),
            "XBLNR": record.doc_id,
            "TCODE": {"receipt": "MB01", "transfer": "MB1B"}.get(record.doc_type, "MB11"),
        },
    )
    lines: list[Any] = list(getattr(record, "lines", []))
    if not lines:
        b.fail(Code.NO_LINES, "a goods movement needs at least one line")
    for line in lines:
        values = _movement_line(b, record, line, moves)
        material = matnr(line, alpha)
        if material is None:
            # E1MBXYI names the material by MATNR alone: a line without one cannot be posted.
            b.fail(Code.NOT_REPRESENTABLE, "WMMBID02 names a material by MATNR only; the line has no sku",
                   line.gtin, field="sku", line_no=line.line_no)  # fmt: skip
        elif values is not None:
            b.add("E1MBXYI", {**values, "MATNR": material, "ERFME": line.uom, "CHARG": line.lot}, head)
    return b


def _movement_line(b: Builder, record: Record, line: Any, moves: Movements) -> dict[str, str | None] | None:
    where = {"line_no": line.line_no}
    if isinstance(record, Receipt):
        qty = quantity(b, line.quantity_received or line.quantity, line, "quantity_received")
        if qty is None:
            return None
        bwart = moves.types["receipt"] if qty >= 0 else moves.types["receipt_reversal"]
        return {
            "BWART": bwart,
            "ERFMG": sap_number(qty),
            "WERKS": record.warehouse,
            "LGORT": line.location,
            "EBELN": record.po_number,
            "EBELP": line.line_no.zfill(5) if record.po_number and line.line_no else None,
            "KZBEW": "B" if record.po_number else None,
        }
    if isinstance(record, Transfer):
        qty = quantity(b, line.quantity, line, "quantity")
        if qty is None:
            return None
        to_plant = record.to_warehouse or record.from_warehouse
        same = to_plant == record.from_warehouse
        return {
            "BWART": moves.types["transfer_location" if same else "transfer_plant"],
            "ERFMG": sap_number(qty),
            "WERKS": record.from_warehouse,
            "LGORT": line.from_location or line.location,
            "UMWRK": to_plant,
            "UMLGO": line.to_location,
        }
    assert isinstance(record, InventoryAdjustment)
    if line.mode == "count":
        b.fail(Code.NOT_REPRESENTABLE, "a stock count has no goods movement; send the difference as a delta",
               line.counted_quantity, field="mode", **where)  # fmt: skip
        return None
    qty = quantity(b, line.quantity_change or line.quantity, line, "quantity_change")
    if qty is None:
        return None
    bwart = moves.by_reason.get(line.reason_code or "") or moves.types["gain" if qty >= 0 else "loss"]
    direction = MOVEMENTS.get(bwart, ("", 0, ""))[1]
    if direction and qty and (qty > 0) != (direction > 0):
        b.fail(Code.MOVEMENT_DIRECTION, f"movement type {bwart} moves stock the other way than {qty}",
               str(qty), field="quantity_change", **where)  # fmt: skip
        return None
    reason = moves.reasons.get(line.reason_code or "")
    if reason is None and line.reason_code and len(line.reason_code) <= 4:
        reason = line.reason_code
    return {
        "BWART": bwart,
        "ERFMG": sap_number(qty),
        "WERKS": record.warehouse,
        "LGORT": line.location,
        "GRUND": reason,
        "SGTXT": (line.reason or "")[:50] or None,
    }


def delivery(record: Shipment, alpha: bool) -> Builder:
    """DELVRY07 confirming a shipment: picked and goods issue posted, with handling units."""
    b = Builder("DELVRY07", record)
    weight = sum((Decimal(p.weight or "0") for p in record.packages if _is_number(p.weight)), Decimal(0))
    # A tracking number no package carries (a shipment without handling units) goes into the
    # delivery's bill of lading; DELVRY has room for one such number, never silently for none.
    carried = {p.tracking_number for p in record.packages if p.tracking_number}
    loose = [t for t in dict.fromkeys(record.tracking_numbers) if t not in carried]
    if len(loose) > 1:
        b.fail(Code.UNWRITABLE, f"{len(loose)} tracking numbers belong to no package; a DELVRY carries"
               " one outside its handling units (E1EDL20 BOLNR)", ", ".join(loose))  # fmt: skip
    head = b.add(
        "E1EDL20",
        {
            "VBELN": record.shipment_id or record.doc_id,
            "BOLNR": loose[0] if loose else None,
            "VSTEL": record.warehouse,
            "VSBED": record.service_level,
            "BTGEW": format(weight, "f") if weight else None,
            "ANZPK": f"{len(record.packages):05d}" if record.packages else None,
        },
    )
    for qualifier in ("PIC", "PGI"):
        b.add("E1EDL18", {"QUALF": qualifier}, head)
    if record.carrier:
        b.add("E1ADRM1", {"PARTNER_Q": "SP", "PARTNER_ID": record.carrier}, head)
    if record.ship_date:
        b.add("E1EDT13", {"QUALF": "006", "ISDD": sap_date(record.ship_date)}, head)
    for line in record.lines:
        qty = quantity(b, line.quantity_shipped or line.quantity, line, "quantity_shipped")
        if qty is None:
            continue
        ordered = line.quantity_ordered
        b.add(
            "E1EDL24",
            {
                "POSNR": (line.line_no or "").zfill(6) or None,
                "MATNR": matnr(line, alpha),
                "ARKTX": line.description,
                "WERKS": record.warehouse,
                "LGORT": line.location,
                "CHARG": line.lot,
                "KDMAT": line.buyer_sku,
                "LFIMG": sap_number(qty),
                "VRKME": line.uom,
                "EAN11": line.gtin,
                "VFDAT": sap_date(line.expiry),
                "VGBEL": record.order_number,
                "ORMNG": ordered if _is_number(ordered) else None,
            },
            head,
        )
    for package in record.packages:
        hu = b.add("E1EDL37", {"EXIDV": package.sscc, "BRGEW": package.weight,
                               "EXIDV2": package.tracking_number}, head)  # fmt: skip
        for line in record.lines:
            if package.sscc and line.package_sscc == package.sscc:
                b.add("E1EDL44", {"VELIN": "1", "VBELN": record.shipment_id,
                                  "POSNR": (line.line_no or "").zfill(6) or None,
                                  "VEMNG": line.quantity_shipped or line.quantity,
                                  "VEMEH": line.uom, "MATNR": matnr(line, alpha),
                                  "CHARG": line.lot}, hu)  # fmt: skip
    return b


def _is_number(value: str | None) -> bool:
    return bool(value) and idoc_schema.sap_decimal(value or "") is not None


def status(records: list[tuple[str, str]], client: str, code: str, text: str, now: str) -> Idoc:
    """SYSTAT01: one E1STATS per inbound IDoc (its DOCNUM) acknowledged with status `code`."""
    idoc = Idoc({"IDOCTYP": "SYSTAT01"})
    for n, (docnum, doc_id) in enumerate(records, start=1):
        fields = {
            "TABNAM": "EDI_DS",
            "MANDT": client,
            "DOCNUM": docnum,
            "LOGDAT": now[:8],
            "LOGTIM": now[8:14],
            "STATUS": code,
            "STATXT": f"{text} {doc_id}"[:70],
            "STAPA1": doc_id[:20],
        }
        idoc.segments.append(Segment("E1STATS", n, 0, 1, {k: v for k, v in fields.items() if v}))
    return idoc
