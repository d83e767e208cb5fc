"""PRICAT → one price_list and one product per item line."""

from __future__ import annotations

from typing import Any

from gateway.canonical.shapes import PriceListData, PriceListLineData, ProductData, RecordData, enveloped
from gateway.formats.edifact.envelope import Message
from gateway.formats.edifact.mappings.common import LineProblems, day, envelope_fields, header, lines, number
from gateway.formats.edifact.mappings.items import item

# The line group sits in the product group (D.96A SG33 in SG16, D.01B SG36 in SG17).
LINE_END = frozenset({"PGI", "UNS", "UNT", "CNT"})


def map_pricat(message: Message, options: dict[str, Any]) -> list[RecordData]:
    """A price_list with a line per priced item, then a product per item."""
    h = header(message, frozenset({"LIN", "PGI"}))
    base = envelope_fields(message, h)
    prices: list[PriceListLineData] = []
    products: list[RecordData] = []
    # A product group (PGI) ends the line before it: its own PRI, TAX, ALC... are not the line's.
    problems = LineProblems()
    for segs in lines(message.segments, stop=LINE_END):
        with problems:
            line, _ = item(segs)
            sku = line.get("sku") or line.get("gtin")
            for seg in segs:
                if seg.tag == "PRI" and seg.get(0, 1):
                    prices.append(
                        {
                            "line_no": line.get("line_no"),
                            "sku": sku,
                            "gtin": line.get("gtin"),
                            "unit_price": number(seg.get(0, 1)),
                            "per_quantity": seg.get(0, 4) or None,
                            "uom": seg.get(0, 5) or line.get("uom"),
                            "description": line.get("description"),
                            # Net, gross and information prices of one item stay apart.
                            "extensions": {"price_qualifier": seg.get(0, 0)},
                        }
                    )
                elif seg.tag == "RNG" and prices and seg.get(1, 1):
                    prices[-1]["min_quantity"] = number(seg.get(1, 1))
            if sku:
                product: ProductData = {
                    "doc_type": "product",
                    "doc_id": sku,
                    "sku": sku,
                    "gtin": line.get("gtin"),
                    "description": line.get("description"),
                    "uom": line.get("uom"),
                }
                products.append(enveloped(base, product))
    problems.raise_any()
    price_list: PriceListData = {
        **base,
        "doc_type": "price_list",
        "doc_id": h.number,
        "price_list_id": h.number,
        "currency": h.currency,
        "valid_from": day(h.dates.get("157") or h.dates.get("194")),
        "valid_to": day(h.dates.get("36") or h.dates.get("206")),
        "customer_id": h.party_id("BY"),
        "lines": prices,
    }
    return [price_list, *products]
