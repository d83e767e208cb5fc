"""DELVRY03/DELVRY07 (DESADV, SHPORD/SHPCON, WHSORD/WHSCON) → shipment.

Handling units (E1EDL37, SSCC in EXIDV) become packages; their contents (E1EDL44) tell which
package each delivery item went in. A batch split (sub-items with HIPOS) is carried by its
sub-items, each with its batch, and the main item, whose quantity they split, is left out.
A batch's characteristics (E1EDL15) stay with its line: LOBM_VFDAT (shelf life expiry) is the
line's `expiry` when E1EDL24 has no VFDAT, LOBM_HSDAT its production date; every characteristic
is kept under the line's `extensions.batch_characteristics`.
"""

from __future__ import annotations

import re
from datetime import date as Date
from typing import Any

from gateway.canonical.shapes import PackageData, RecordData, ShipmentData, ShipmentLineData, enveloped
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


def map_delvry(idoc: Idoc, options: dict[str, Any], report: Report) -> RecordData | None:
    """The canonical shipment of a delivery IDoc."""
    head = next((s for s in idoc.roots() if s.name == "E1EDL20"), None)
    vbeln = require(head, "VBELN", idoc, report, f"mapping idoc/{idoc.basic_type}: E1EDL20.VBELN")
    if head is None or vbeln is None:
        return None
    items = head.all("E1EDL24")
    split = {i.get("HIPOS") for i in items if i.get("HIPOS").strip("0")}
    hu_of: dict[str, str] = {}
    packages: list[PackageData] = []
    for hu in head.all("E1EDL37"):
        package: PackageData = {
            "sscc": hu.get("EXIDV") or None,
            "tracking_number": hu.get("EXIDV2") or None,
            "weight": number(hu.get("BRGEW")),
        }
        packages.append(compact(package))
        for content in hu.all("E1EDL44"):
            if content.get("POSNR"):
                hu_of.setdefault(content.get("POSNR"), hu.get("EXIDV"))
    batches = {i.get("POSNR"): _batch(i, idoc, report) for i in items}
    if any(b is None for b in batches.values()):
        return None
    lines = [
        _line(i, hu_of, options, batches[i.get("POSNR")] or {}) for i in items if i.get("POSNR") not in split
    ]
    orders = [ref.get("BELNR") for i in items for ref in i.all("E1EDL43") if ref.get("QUALF") == "C"] + [
        i.get("VGBEL") for i in items if i.get("VGBEL")
    ]
    parties = {p.get("PARTNER_Q"): p for p in reversed(head.all("E1ADRM1"))}
    carrier = parties.get("SP")
    controls = {c.get("QUALF") for c in head.all("E1EDL18")}
    shipment: ShipmentData = {
        "doc_type": "shipment",
        "function": "cancel" if "DEL" in controls else "replace" if "CHG" in controls else "original",
        "shipment_id": vbeln,
        "order_number": next((o for o in orders if o), None),
        "ship_date": _ship_date(head),
        "carrier": carrier.get("PARTNER_ID") if carrier else None,
        "service_level": head.get("VSBED") or None,
        "tracking_numbers": _tracking(packages, head.get("BOLNR")),
        "packages": packages,
        "warehouse": next((i.get("WERKS") for i in items if i.get("WERKS")), None)
        or head.get("VSTEL")
        or None,
        "lines": lines,
    }
    header = envelope(
        idoc,
        vbeln,
        shipping_point=head.get("VSTEL") or None,
        bill_of_lading=head.get("BOLNR") or None,
        # Who bears the freight and where it passes: the only charge terms DELVRY carries
        # (SAP's DELVRY03 schema has no charge amounts on E1EDL20 or E1EDL24).
        incoterms=head.get("INCO1") or None,
        incoterms_place=head.get("INCO2") or None,
        gross_weight=number(head.get("BTGEW")),
        weight_uom=head.get("GEWEI") or None,
        controls=sorted(c for c in controls if c),
    )
    return enveloped(header, compact(shipment))


def _tracking(packages: list[PackageData], bill_of_lading: str | None) -> list[str]:
    """The handling units' tracking numbers, and the delivery's bill of lading (E1EDL20 BOLNR)
    where it is not one of them (a delivery without handling units)."""
    numbers = [t for p in packages if (t := p.get("tracking_number"))]
    if bill_of_lading and bill_of_lading not in numbers:
        numbers.append(bill_of_lading)
    return numbers


def _ship_date(head: Segment) -> str | None:
    """Actual goods issue (E1EDT13 006 ISDD), else its planned date, else the delivery date."""
    deadlines = {d.get("QUALF"): d for d in head.all("E1EDT13")}
    gi = deadlines.get("006")
    if gi is not None:
        return date(gi.get("ISDD")) or date(gi.get("NTANF"))
    dates = qualified(head.all("E1EDT13"), "QUALF", "NTANF")
    return date(dates.get("007", ""))


#: How SAP writes a date characteristic's value (ATWRT): the user's date formats (USR01-DATFM
#: 1 to 6) and the internal YYYYMMDD, as (pattern, order of day, month and year groups).
_DATE_FORMATS = (
    (re.compile(r"(\d{2})\.(\d{2})\.(\d{4})"), "dmy"),
    (re.compile(r"(\d{2})[/-](\d{2})[/-](\d{4})"), "mdy"),
    (re.compile(r"(\d{4})[./-]?(\d{2})[./-]?(\d{2})"), "ymd"),
)


def characteristic_date(value: str) -> str | None:
    """A date characteristic's value as ISO 8601; None when it is not a date SAP writes."""
    for pattern, order in _DATE_FORMATS:
        found = pattern.fullmatch(value.strip())
        if found:
            parts = dict(zip(order, map(int, found.groups()), strict=True))
            try:
                return Date(parts["y"], parts["m"], parts["d"]).isoformat()
            except ValueError:
                return None
    return None


def _batch(item: Segment, idoc: Idoc, report: Report) -> dict[str, Any] | None:
    """The batch characteristics of a delivery item, with its expiry and production dates;
    None after a finding when a date characteristic cannot be read."""
    values = {c.get("ATNAM"): c.get("ATWRT") for c in item.all("E1EDL15") if c.get("ATNAM")}
    dates: dict[str, str | None] = {}
    for name in ("LOBM_VFDAT", "LOBM_HSDAT"):
        value = values.get(name, "")
        dates[name] = characteristic_date(value) if value else None
        if value and dates[name] is None:
            seg = next(c for c in item.all("E1EDL15") if c.get("ATNAM") == name)
            report(Code.BAD_DATE, f"batch characteristic {name} is not a date", value=value,
                   rule=f"mapping idoc/{idoc.basic_type}: E1EDL15 ATWRT of a date characteristic",
                   field="ATWRT", **{**seg.where(), "record": idoc.docnum or "?"})  # fmt: skip
            return None
    return {"characteristics": values, "expiry": dates["LOBM_VFDAT"], "production_date": dates["LOBM_HSDAT"]}


def _line(
    item: Segment, hu_of: dict[str, str], options: dict[str, Any], batch: dict[str, Any]
) -> ShipmentLineData:
    matnr = long_value(item, "MATNR")
    shipped = number(item.get("LFIMG"))
    line: ShipmentLineData = {
        "line_no": item.get("POSNR") or None,
        "sku": sku_of(matnr, options),
        "gtin": item.get("EAN11") or None,
        "buyer_sku": item.get("KDMAT") or None,
        "description": item.get("ARKTX") or None,
        "quantity": shipped,
        "uom": item.get("VRKME") or None,
        "lot": item.get("CHARG") or None,
        "expiry": date(item.get("VFDAT")) or batch.get("expiry"),
        "location": item.get("LGORT") or None,
        "quantity_shipped": shipped,
        "quantity_ordered": number(item.get("ORMNG")),
        "package_sscc": hu_of.get(item.get("POSNR")),
        "extensions": compact(
            {
                "sap_matnr": matnr or None,
                "plant": item.get("WERKS") or None,
                "parent_line": item.get("HIPOS") if item.get("HIPOS").strip("0") else None,
                "reference_doc": item.get("VGBEL") or None,
                "reference_line": item.get("VGPOS") or None,
                "production_date": batch.get("production_date"),
                "batch_characteristics": batch.get("characteristics"),
            }
        ),
    }
    return compact(line)
