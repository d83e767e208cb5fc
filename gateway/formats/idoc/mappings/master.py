"""Master data: MATMAS05 → product, DEBMAS07 → customer, COND_A04 → price_list."""

from __future__ import annotations

from typing import Any

from gateway.canonical.records import Function
from gateway.canonical.shapes import (
    CustomerData,
    PartyData,
    PriceListData,
    PriceListLineData,
    ProductData,
    RecordData,
    enveloped,
)
from gateway.findings import Report
from gateway.formats.idoc.mappings.common import compact, date, envelope, number, require, sku_of
from gateway.formats.idoc.model import Idoc, Segment

#: Master data function (MSGFN): 003 delete, 004/005 change, 009 original.
FUNCTIONS: dict[str, Function] = {"003": "cancel", "004": "replace", "005": "replace"}


def _function(seg: Segment) -> Function:
    return FUNCTIONS.get(seg.get("MSGFN"), "original")


def map_matmas(idoc: Idoc, options: dict[str, Any], report: Report) -> RecordData | None:
    """A product from a material master IDoc: base unit, alternative units and GTINs."""
    mara = next((s for s in idoc.roots() if s.name == "E1MARAM"), None)
    matnr = require(mara, "MATNR", idoc, report, f"mapping idoc/{idoc.basic_type}: E1MARAM.MATNR")
    if mara is None or matnr is None:
        return None
    texts = mara.all("E1MAKTM")
    english = next((t for t in texts if t.get("SPRAS_ISO") == "EN" or t.get("SPRAS") == "E"), None)
    description = english or (texts[0] if texts else None)
    units = [
        compact(
            {
                "uom": u.get("MEINH") or None,
                "numerator": number(u.get("UMREZ")),
                "denominator": number(u.get("UMREN")),
                "gtin": u.get("EAN11") or None,
                "gross_weight": number(u.get("BRGEW")),
            }
        )
        for u in mara.all("E1MARMM")
    ]
    gtins = [
        compact(
            {
                "uom": u.get("MEINH") or None,
                "gtin": e.get("EAN11"),
                "type": e.get("EANTP") or None,
                "main": e.get("HPEAN") == "X" or None,
            }
        )
        for u in mara.all("E1MARMM")
        for e in u.all("E1MEANM")
        if e.get("EAN11")
    ]
    base_unit = mara.get("MEINS")
    gtin = (
        mara.get("EAN11")
        or next((u.get("gtin") for u in units if u.get("uom") == base_unit and u.get("gtin")), None)
        or next(
            (e.get("EAN11") for u in mara.all("E1MARMM") for e in u.all("E1MEANM") if e.get("EAN11")), None
        )
    )
    plants = mara.all("E1MARCM")
    product: ProductData = {
        "doc_type": "product",
        "function": _function(mara),
        "sku": sku_of(matnr, options),
        "description": description.get("MAKTX") if description else None,
        "uom": base_unit or None,
        "gtin": gtin,
        "category": mara.get("MATKL") or None,
        "weight": number(mara.get("BRGEW")),
        "weight_uom": mara.get("GEWEI") or None,
        "length": number(mara.get("LAENG")),
        "width": number(mara.get("BREIT")),
        "height": number(mara.get("HOEHE")),
        "dimension_uom": mara.get("MEABM") or None,
        "lot_controlled": True if any(p.get("XCHPF") == "X" for p in plants) else None,
    }
    header = envelope(
        idoc,
        matnr,
        sap_matnr=matnr,
        material_type=mara.get("MTART") or None,
        units=units,
        gtins=gtins,
        plants=[p.get("WERKS") for p in plants if p.get("WERKS")],
    )
    return enveloped(header, compact(product))


def map_debmas(idoc: Idoc, options: dict[str, Any], report: Report) -> RecordData | None:
    """A customer from a customer master IDoc, with ship-to partners of its sales areas."""
    kna1 = next((s for s in idoc.roots() if s.name == "E1KNA1M"), None)
    kunnr = require(kna1, "KUNNR", idoc, report, f"mapping idoc/{idoc.basic_type}: E1KNA1M.KUNNR")
    if kna1 is None or kunnr is None:
        return None
    areas = kna1.all("E1KNVVM")
    ship_to: list[PartyData] = []
    for area in areas:
        for p in area.all("E1KNVPM"):
            code = p.get("KUNN2")
            if p.get("PARVW") in ("WE", "SH") and code and all(s.get("code") != code for s in ship_to):
                ship_to.append({"role": "ship_to", "id": code, "scheme": "SAP", "code": code})
    terms = next((a.get("ZTERM") for a in areas if a.get("ZTERM")), None) or next(
        (b.get("ZTERM") for b in kna1.all("E1KNB1M") if b.get("ZTERM")), None
    )
    bill_to: PartyData = {
        "role": "bill_to",
        "id": kunnr,
        "scheme": "SAP",
        "name": kna1.get("NAME1") or None,
        "address_lines": [x for x in (kna1.get("STRAS"),) if x],
        "city": kna1.get("ORT01") or None,
        "region": kna1.get("REGIO") or None,
        "postal_code": kna1.get("PSTLZ") or None,
        "country": kna1.get("LAND1") or None,
    }
    customer: CustomerData = {
        "doc_type": "customer",
        "function": _function(kna1),
        "customer_id": kunnr,
        "name": kna1.get("NAME1") or None,
        "bill_to": compact(bill_to),
        "ship_to": ship_to,
        "terms": terms,
        "tax_id": kna1.get("STCEG") or kna1.get("STCD1") or None,
    }
    sales_areas = ["/".join(x for x in (a.get("VKORG"), a.get("VTWEG"), a.get("SPART")) if x) for a in areas]
    return enveloped(envelope(idoc, kunnr, sales_areas=sales_areas), compact(customer))


def map_cond(idoc: Idoc, options: dict[str, Any], report: Report) -> RecordData | None:
    """A price list from condition records: one line per price and per scale level."""
    keys = [s for s in idoc.roots() if s.name == "E1KOMG"]
    if not keys:
        return None
    first = keys[0]
    lines: list[PriceListLineData] = []
    validity: list[tuple[str | None, str | None]] = []
    currency = None
    for key in keys:
        matnr = key.get("MATNR")
        if not matnr:
            require(key, "MATNR", idoc, report, f"mapping idoc/{idoc.basic_type}: E1KOMG.MATNR")
            return None
        for head in key.all("E1KONH"):
            validity.append((date(head.get("DATAB")), date(head.get("DATBI"))))
            for price in head.all("E1KONP"):
                currency = currency or price.get("KONWA") or None
                base: PriceListLineData = {
                    "line_no": str(len(lines) + 1),
                    "sku": sku_of(matnr, options),
                    "unit_price": number(price.get("KBETR")),
                    "per_quantity": number(price.get("KPEIN")),
                    "uom": price.get("KMEIN") or None,
                    "extensions": {
                        "sap_matnr": matnr,
                        "condition_type": price.get("KSCHL") or key.get("KSCHL"),
                    },
                }
                lines.append(compact(base))
                for scale in price.all("E1KONM"):
                    level: PriceListLineData = {
                        **base,
                        "line_no": str(len(lines) + 1),
                        "unit_price": number(scale.get("KBETR")),
                        "min_quantity": number(scale.get("KSTBM")),
                    }
                    lines.append(compact(level))
    list_id = "/".join(x for x in (first.get("KSCHL"), first.get("VKORG"), first.get("KUNNR")) if x)
    list_id = list_id or idoc.docnum
    price_list: PriceListData = {
        "doc_type": "price_list",
        "price_list_id": list_id,
        "currency": currency or first.get("WAERK") or None,
        "valid_from": min((v[0] for v in validity if v[0]), default=None),
        "valid_to": max((v[1] for v in validity if v[1]), default=None),
        "customer_id": first.get("KUNNR") or None,
        "lines": lines,
    }
    header = envelope(
        idoc, list_id, condition_type=first.get("KSCHL") or None, application=first.get("KAPPL") or None
    )
    return enveloped(header, compact(price_list))
