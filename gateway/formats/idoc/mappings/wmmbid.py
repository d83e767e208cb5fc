"""WMMBID02 goods movements (WMMBXY) → receipt, transfer or inventory_adjustment.

The movement type (BWART) of the items decides: goods receipts (101 …) are receipts, stock
transfers (301/311 …) transfers, everything that changes stock without a partner document
(551 scrapping, 701/702 physical-inventory differences …) an adjustment, signed by direction.
One IDoc carries one kind of movement; a mix is a finding, as is an unknown movement type.
"""

from __future__ import annotations

from typing import Any

from gateway.canonical.shapes import (
    AdjustmentLineData,
    InventoryAdjustmentData,
    LineData,
    ReceiptData,
    ReceiptLineData,
    RecordData,
    TransferData,
    enveloped,
)
from gateway.findings import Code, Report
from gateway.formats.idoc.mappings.common import compact, date, envelope, long_value, number, sku_of
from gateway.formats.idoc.model import Idoc, Segment

#: Movement type → (canonical document, stock direction +1/-1, reason text).
MOVEMENTS: dict[str, tuple[str, int, str]] = {
    "101": ("receipt", 1, "goods receipt for purchase order"),
    "102": ("receipt", -1, "goods receipt reversal"),
    "103": ("receipt", 1, "goods receipt into blocked stock"),
    "105": ("receipt", 1, "release from blocked stock"),
    "301": ("transfer", 1, "plant to plant transfer"),
    "303": ("transfer", 1, "plant to plant transfer, removal"),
    "305": ("transfer", 1, "plant to plant transfer, placement"),
    "311": ("transfer", 1, "storage location transfer"),
    "313": ("transfer", 1, "storage location transfer, removal"),
    "315": ("transfer", 1, "storage location transfer, placement"),
    "201": ("inventory_adjustment", -1, "consumption for cost center"),
    "202": ("inventory_adjustment", 1, "consumption reversal"),
    "501": ("inventory_adjustment", 1, "receipt without purchase order"),
    "502": ("inventory_adjustment", -1, "receipt without purchase order, reversal"),
    "551": ("inventory_adjustment", -1, "scrapping"),
    "552": ("inventory_adjustment", 1, "scrapping reversal"),
    "561": ("inventory_adjustment", 1, "initial stock entry"),
    "562": ("inventory_adjustment", -1, "initial stock entry reversal"),
    "701": ("inventory_adjustment", 1, "physical inventory difference, gain"),
    "702": ("inventory_adjustment", -1, "physical inventory difference, loss"),
    "711": ("inventory_adjustment", -1, "warehouse inventory difference, loss"),
    "712": ("inventory_adjustment", 1, "warehouse inventory difference, gain"),
}


def _signed(quantity: str | None, sign: int, shkzg: str) -> str | None:
    if quantity is None:
        return None
    if shkzg in ("S", "H"):
        sign = 1 if shkzg == "S" else -1
    if sign < 0 and not quantity.startswith("-"):
        return "-" + quantity
    return quantity


def map_wmmbid(idoc: Idoc, options: dict[str, Any], report: Report) -> RecordData | None:
    """The canonical document of a goods movement IDoc."""
    head = next((s for s in idoc.roots() if s.name == "E1MBXYH"), None)
    if head is None:
        return None
    items = head.all("E1MBXYI")
    kinds: dict[str, Segment] = {}
    for item in items:
        bwart = item.get("BWART")
        movement = MOVEMENTS.get(bwart)
        if movement is None:
            report(
                Code.UNKNOWN_MOVEMENT_TYPE,
                f"movement type {bwart or '(empty)'} has no canonical meaning",
                value=bwart,
                rule=f"WMMBID02 BWART: {', '.join(MOVEMENTS)}",
                field="BWART",
                **{**item.where(), "record": idoc.docnum or "?"},
            )
            return None
        kinds.setdefault(movement[0], item)
    if len(kinds) > 1:
        second = list(kinds.values())[1]
        report(
            Code.MIXED_MOVEMENTS,
            f"one IDoc mixes {' and '.join(kinds)} movements",
            value=second.get("BWART"),
            rule="one kind of goods movement per WMMBID02 IDoc",
            field="BWART",
            **{**second.where(), "record": idoc.docnum or "?"},
        )
        return None
    kind = next(iter(kinds), "inventory_adjustment")
    doc_id = head.get("XBLNR") or idoc.docnum
    posted = date(head.get("BUDAT")) or date(head.get("BLDAT"))
    plant = next((i.get("WERKS") for i in items if i.get("WERKS")), None)
    header = envelope(
        idoc, doc_id, bill_of_lading=head.get("FRBNR") or None, transaction=head.get("TCODE") or None
    )
    lines = [(_line(n, i, kind, options), i) for n, i in enumerate(items, start=1)]
    if kind == "receipt":
        receipt: ReceiptData = {
            "doc_type": "receipt",
            "receipt_id": doc_id,
            "po_number": next((i.get("EBELN") for i in items if i.get("EBELN")), None),
            "received_at": posted,
            "warehouse": plant,
            "lines": [_received(line) for line, _ in lines],
        }
        return enveloped(header, compact(receipt))
    if kind == "transfer":
        transfer: TransferData = {
            "doc_type": "transfer",
            "transfer_id": doc_id,
            "from_warehouse": plant,
            "to_warehouse": next((i.get("UMWRK") for i in items if i.get("UMWRK")), None) or plant,
            "status": "completed",
            "completed_at": posted,
            "lines": [
                {**line, "from_location": i.get("LGORT") or None, "to_location": i.get("UMLGO") or None}
                for line, i in lines
            ],
        }
        return enveloped(header, compact(transfer))
    adjustment: InventoryAdjustmentData = {
        "doc_type": "inventory_adjustment",
        "adjustment_id": doc_id,
        "adjusted_at": posted,
        "warehouse": plant,
        "lines": [_adjustment(line, i) for line, i in lines],
    }
    return enveloped(header, compact(adjustment))


def _line(n: int, item: Segment, kind: str, options: dict[str, Any]) -> LineData:
    """The line fields every movement has, the quantity signed by its direction."""
    bwart = item.get("BWART")
    _, sign, _ = MOVEMENTS[bwart]
    matnr = long_value(item, "MATNR")
    return {
        "line_no": item.get("EBELP") if kind == "receipt" and item.get("EBELP") else str(n),
        "sku": sku_of(matnr, options),
        "quantity": _signed(number(item.get("ERFMG")), sign, item.get("SHKZG")),
        "uom": item.get("ERFME") or None,
        "lot": item.get("CHARG") or None,
        "expiry": date(item.get("VFDAT")),
        "location": item.get("LGORT") or None,
        "extensions": compact(
            {
                "sap_matnr": matnr or None,
                "movement_type": bwart,
                "plant": item.get("WERKS") or None,
                "purchase_order": item.get("EBELN") or None,
            }
        ),
    }


def _received(line: LineData) -> ReceiptLineData:
    return {
        **line,
        "quantity_received": line.get("quantity"),
        "quantity_expected": None,
        "quantity_rejected": None,
        "reject_reason": None,
    }


def _adjustment(line: LineData, item: Segment) -> AdjustmentLineData:
    bwart = item.get("BWART")
    return {
        **line,
        "mode": "delta",
        "quantity_change": line.get("quantity"),
        "counted_quantity": None,
        "reason_code": item.get("GRUND") or bwart,
        "reason": MOVEMENTS[bwart][2],
    }
