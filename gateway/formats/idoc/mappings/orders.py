"""ORDERS01/ORDERS05 (ORDERS, ORDCHG, ORDRSP) → sales_order or purchase_order.

Which one: the source option `idoc_orders_as` when set; otherwise an order confirmation
(ORDRSP) or an order SAP receives (DIRECT 2) is a sales order, and an order SAP sends with a
purchasing organisation (E1EDK14 QUALF 014) or a purchasing document type is a purchase order.
Material qualifiers follow the side: on a purchase order E1EDP19 001 is our (the buyer's)
material and 002 the vendor's; on a sales order 002 is ours and 001 the customer's.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.canonical.records import Function
from gateway.canonical.shapes import (
    LineData,
    PartyData,
    PurchaseOrderData,
    RecordData,
    SalesOrderData,
    enveloped,
)
from gateway.findings import Code, Report
from gateway.formats.idoc.mappings.common import (
    compact,
    date,
    envelope,
    long_value,
    number,
    qualified,
    require,
    sku_of,
)
from gateway.formats.idoc.model import Idoc, Segment

#: Purchasing document types (EKKO-BSART) of the standard system.
PURCHASE_TYPES = {"NB", "FO", "UB", "EC", "LP", "LPA", "MK", "WK", "ZNB"}
ORDER_AS = ("auto", "sales_order", "purchase_order")


def order_kind(idoc: Idoc, k01: Segment, options: dict[str, Any]) -> str:
    """`sales_order` or `purchase_order` for this ORDERS IDoc."""
    forced = options.get("idoc_orders_as", "auto")
    if forced in ("sales_order", "purchase_order"):
        return str(forced)
    if idoc.message_type == "ORDRSP" or idoc.control.get("DIRECT") == "2":
        return "sales_order"
    orgs = qualified(list(idoc.walk("E1EDK14")), "QUALF", "ORGID")
    if "014" in orgs or k01.get("BSART") in PURCHASE_TYPES:
        return "purchase_order"
    return "sales_order"


def party(seg: Segment | None, role: str) -> PartyData | None:
    """A canonical party from an E1EDKA1/E1EDPA1 segment."""
    if seg is None:
        return None
    found: PartyData = {
        "role": role,
        "id": seg.get("PARTN") or seg.get("LIFNR") or None,
        "scheme": "SAP",
        "name": seg.get("NAME1") or None,
        "address_lines": [x for x in (seg.get("STRAS"), seg.get("STRS2")) if x],
        "city": seg.get("ORT01") or None,
        "region": seg.get("REGIO") or None,
        "postal_code": seg.get("PSTLZ") or None,
        "country": seg.get("LAND1") or None,
    }
    return compact(found)


def _function(idoc: Idoc, k01: Segment) -> Function:
    action = k01.get("ACTION")
    if action == "003":
        return "cancel"
    if idoc.message_type in ("ORDCHG", "ORDRSP") or action in ("002", "004"):
        return "replace"
    return "original"


def map_orders(idoc: Idoc, options: dict[str, Any], report: Report) -> RecordData | None:
    """The canonical order of an ORDERS IDoc."""
    roots = idoc.roots()
    k01 = next((s for s in roots if s.name == "E1EDK01"), None)
    kind = order_kind(idoc, k01, options) if k01 is not None else "sales_order"
    refs = qualified(list(idoc.walk("E1EDK02")), "QUALF", "BELNR")
    number_ = (k01.get("BELNR") if k01 else "") or refs.get("001", "")
    if not number_:
        require(k01, "BELNR", idoc, report, f"mapping idoc/{idoc.basic_type}: E1EDK01.BELNR or E1EDK02 001")
        return None
    dates = qualified(list(idoc.walk("E1EDK03")), "IDDAT", "DATUM")
    partners = {s.get("PARVW"): s for s in reversed([s for s in roots if s.name == "E1EDKA1"])}
    items = [item for item in roots if item.name == "E1EDP01"]
    purchase = kind == "purchase_order"
    prices = [_price(item, idoc, report) for item in items]
    if any(price is None for price in prices):
        return None
    lines = [_line(item, purchase, options, price or {}) for item, price in zip(items, prices, strict=True)]
    warehouse = next((item.get("WERKS") for item in items if item.get("WERKS")), None)
    schedule = [d for item in items for d in _schedule_dates(item)]
    function = _function(idoc, k01) if k01 else "original"
    order_date = date(dates.get("012", "")) or date(dates.get("022", ""))
    currency = k01.get("CURCY") if k01 else None
    if purchase:
        vendor = partners.get("LF")
        order: PurchaseOrderData = {
            "doc_type": "purchase_order",
            "function": function,
            "order_date": order_date,
            "warehouse": warehouse,
            "currency": currency,
            "lines": [{**line, "vendor_sku": ids.get("002")} for line, ids in lines],
            "po_number": number_,
            "vendor_id": (vendor.get("PARTN") or vendor.get("LIFNR")) if vendor else None,
            "expected_date": date(dates.get("002", "")) or (min(schedule) if schedule else None),
        }
        return enveloped(envelope(idoc, number_), compact(order))
    sold_to = partners.get("AG")
    sales: SalesOrderData = {
        "doc_type": "sales_order",
        "function": function,
        "order_date": order_date,
        "warehouse": warehouse,
        "currency": currency,
        "lines": [{**line, "buyer_sku": ids["001"]} if ids.get("001") else line for line, ids in lines],
        "order_number": number_,
        "customer_id": sold_to.get("PARTN") if sold_to else None,
        "customer_po": refs.get("001") if refs.get("001") != number_ else None,
        "requested_ship_date": date(dates.get("002", "")) or (min(schedule) if schedule else None),
        "ship_to": party(partners.get("WE"), "ship_to"),
        "bill_to": party(partners.get("RE"), "bill_to"),
    }
    return enveloped(envelope(idoc, number_), compact(sales))


def _schedule_dates(item: Segment) -> list[str]:
    return [d for s in item.all("E1EDP20") if (d := date(s.get("EDATU")))]


def _decimal(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def _price(item: Segment, idoc: Idoc, report: Report) -> dict[str, str | None] | None:
    """The unit price of one order unit (MENEE) and what SAP sent: VPREI is the price of PEINH
    price units (PMENE), and BPUMZ/BPUMN price units make one order unit. None after a finding
    when the price cannot be brought to one order unit: a guess would misprice the line."""
    sent = number(item.get("VPREI"))
    if sent is None:
        return {}
    basis, numerator, denominator = (_decimal(number(item.get(f)) or "") for f in ("PEINH", "BPUMZ", "BPUMN"))
    price_unit, order_unit = item.get("PMENE"), item.get("MENEE")
    problem = None
    if basis is not None and basis <= 0:
        problem = ("PEINH", "is not a price unit: the price is per this many units")
    elif price_unit and order_unit and price_unit != order_unit and not (numerator and denominator):
        problem = ("BPUMZ", f"no BPUMZ/BPUMN from the price unit {price_unit} to the order unit {order_unit}")
    if problem is not None:
        name, message = problem
        report(Code.INVALID_VALUE, f"{name} {message}", value=item.get(name),
               rule=f"mapping idoc/{idoc.basic_type}: E1EDP01 VPREI per PEINH {price_unit or 'units'}",
               field=name, **{**item.where(), "record": idoc.docnum or "?"})  # fmt: skip
        return None
    factor = (numerator / denominator if numerator and denominator else Decimal(1)) / (basis or 1)
    # Decimal keeps what SAP wrote: 6.75 per 1 PA of 100 PCE is 0.0675, never 0.06749999.
    per_unit = sent if factor == 1 else format((Decimal(sent) * factor).normalize(), "f")
    return {
        "unit_price": per_unit,
        "price_as_sent": sent,
        "price_basis": number(item.get("PEINH")),
        "price_basis_unit": price_unit or None,
        "price_conversion": f"{item.get('BPUMZ')}/{item.get('BPUMN')}" if numerator != denominator else None,
    }


def _line(
    item: Segment, purchase: bool, options: dict[str, Any], price: dict[str, str | None]
) -> tuple[LineData, dict[str, str]]:
    """The line fields both order kinds share, and the item's E1EDP19 ids by qualifier for the
    partner's own item number (the vendor's on a purchase order, the customer's on a sales order)."""
    ids = qualified(item.all("E1EDP19"), "QUALF", "IDTNR")
    texts = qualified(item.all("E1EDP19"), "QUALF", "KTEXT")
    ours = "001" if purchase else "002"
    matnr = long_value(item, "MATNR") or ids.get(ours, "")
    line: LineData = {
        "line_no": item.get("POSEX") or None,
        "sku": sku_of(matnr, options),
        "gtin": ids.get("003"),
        "description": texts.get(ours) or next(iter(texts.values()), None),
        "quantity": number(item.get("MENGE")),
        "uom": item.get("MENEE") or None,
        "unit_price": price.get("unit_price"),
        "location": item.get("LGORT") or None,
        "extensions": compact(
            {
                "sap_matnr": matnr or None,
                **{k: v for k, v in price.items() if k != "unit_price"},
                "net_amount": number(item.get("NETWR")),
                "plant": item.get("WERKS") or None,
                "action": item.get("ACTION") or None,
            }
        ),
    }
    return compact(line), ids
