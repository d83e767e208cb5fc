"""An EDIFACT item line read by meaning: which item (LIN/PIA numbers by type), which price (PRI
by qualifier and basis), which quantity (QTY by the qualifier the message type defines).

Every value the line carries is kept: what names a canonical field goes there, the rest under the
line's `extensions` with its qualifier. A misread here books stock against the wrong item or at a
hundred times the price, so what cannot be read with certainty is a finding, never a guess.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from gateway.canonical.gtin import gtin_problem
from gateway.canonical.shapes import LineData
from gateway.findings import Code
from gateway.formats.edifact.mappings.common import MappingProblem, date, day, number
from gateway.formats.edifact.syntax import Segment

_Field = Literal["gtin", "sku", "buyer_sku", "lot", "serial"]
#: Item number types (7143) that are a GTIN: EAN, GTIN (SRV, EANCOM's "GS1 article number"), UPC.
GTIN_TYPES = frozenset({"EN", "SRV", "UP"})
#: Item number types that name another canonical field; the first number of a field wins.
FIELDS: dict[str, _Field] = {
    "SA": "sku",  # supplier's article number
    "VN": "sku",  # vendor item number
    "MF": "sku",  # manufacturer's article number
    "IN": "buyer_sku",  # buyer's item number
    "BY": "buyer_sku",  # buyer's item number (EANCOM)
    "BP": "buyer_sku",  # buyer's part number
    "NB": "lot",  # batch number
    "SN": "serial",
}
def is_isbn13(value: str) -> bool:
    """An ISBN-13 (Bookland 978/979) is an EAN-13."""
    return len(value) == 13 and value[:3] in ("978", "979")


class ItemNumbers:
    """The item numbers of one line, gathered from its LIN and PIA segments in order."""

    def __init__(self) -> None:
        self.typed: dict[str, str] = {}
        self.untyped: list[str] = []
        self.fields: dict[_Field, str] = {}

    def add(self, value: str, kind: str, seg: Segment, element: int) -> None:
        """Keep one number (C212 at `element`, 1-based) and map it if its type names a field."""
        if not value:
            return
        if not kind:
            # No type: only a number that proves itself a GTIN is read as one.
            if gtin_problem(value) is None:
                self.fields.setdefault("gtin", value)
            else:
                self.untyped.append(value)
            return
        self.typed.setdefault(kind, value)
        # The book trade writes ISBNs with hyphens (978-3-16-148410-0); its digits are the EAN.
        isbn = value.replace("-", "").replace(" ", "") if kind == "IB" else ""
        if kind in GTIN_TYPES or is_isbn13(isbn):
            gtin = isbn or value
            problem = gtin_problem(gtin)
            if problem:
                message = f"{kind} item number {problem}"
                raise MappingProblem(message, seg, element, 1, value, Code.BAD_CHECK_DIGIT)
            self.fields.setdefault("gtin", gtin)
        elif kind in FIELDS:
            self.fields.setdefault(FIELDS[kind], value)

    def read(self, seg: Segment) -> None:
        """LIN C212 (element 3) or every C212 of a PIA (elements 2 to 6)."""
        if seg.tag == "LIN":
            self.add(seg.get(2, 0), seg.get(2, 1), seg, 3)
        else:
            for e in range(1, 6):
                self.add(seg.get(e, 0), seg.get(e, 1), seg, e + 1)

    def apply(self, line: LineData, lin: Segment) -> None:
        """Put the mapped numbers on `line` and keep every number under its extensions; a line
        that names no item (no gtin, sku or buyer_sku) is a finding at its LIN."""
        for name, value in self.fields.items():
            line.setdefault(name, value)
        if self.typed:
            extend(line, "item_ids", dict(self.typed))
        if self.untyped:
            extend(line, "untyped_item_ids", list(self.untyped))
        if not any(line.get(k) for k in ("gtin", "sku", "buyer_sku")):
            kept = ", ".join([*(f"{v} ({k})" for k, v in self.typed.items()), *self.untyped])
            raise MappingProblem(
                "line names no item: no GTIN, supplier's or buyer's item number"
                + (f" (only {kept})" if kept else ""),
                lin, 3, 1, lin.get(2, 0), Code.MISSING_ITEM,
            )  # fmt: skip


#: Price qualifiers (5125) a unit price is taken from, best first: calculation net, calculation
#: price, calculation gross. Information prices (INF, AAE, AAF...) are only kept.
PRICE_ORDER = ("AAA", "CAL", "AAB")
_GIN_IDS: dict[str, _Field] = {"BX": "lot", "BN": "serial"}


def extend(line: LineData, key: str, value: Any) -> None:
    """Keep `value` under the line's extensions (created only when there is something to keep)."""
    line.setdefault("extensions", {})[key] = value


def price_per_unit(seg: Segment) -> str:
    """The PRI price (C509 5118) for one unit: divided by the unit price basis (5284) if any.

    Decimal keeps what the partner wrote: 24.1 per 100 is 0.241, never 0.24100000000000002."""
    value, basis = number(seg.get(0, 1)), number(seg.get(0, 4))
    if not basis:
        return value
    try:
        units = Decimal(basis)
        per = Decimal(value) / units if units > 0 else None
    except InvalidOperation:
        per = None
    if per is None:
        raise MappingProblem(
            "is not a unit price basis: the price is per this many units", seg, 1, 5, seg.get(0, 4)
        )
    return format(per, "f")


def _price(line: LineData, prices: dict[str, Segment]) -> None:
    """Take the unit price by qualifier; keep the basis, the qualifier and every other price."""
    per_unit = {q: price_per_unit(seg) for q, seg in prices.items()}
    chosen = next((q for q in PRICE_ORDER if q in prices), None)
    if chosen:
        line["unit_price"] = per_unit[chosen]
        extend(line, "price_qualifier", chosen)
        seg = prices[chosen]
        if seg.get(0, 4):
            extend(line, "price_basis", number(seg.get(0, 4)))
        if seg.get(0, 5):
            extend(line, "price_basis_unit", seg.get(0, 5))
    others = {q: v for q, v in per_unit.items() if q != chosen}
    if others:
        extend(line, "prices", others)


def item(segs: list[Segment]) -> tuple[LineData, dict[str, str]]:
    """Line fields every message shares (numbers, item ids, description, price, batch, expiry),
    and the line's quantities by QTY qualifier (6063) for the message's own mapping to place."""
    lin = segs[0]
    out: LineData = {"line_no": lin.get(0) or None}
    numbers = ItemNumbers()
    numbers.read(lin)
    quantities: dict[str, str] = {}
    prices: dict[str, Segment] = {}
    for seg in segs[1:]:
        tag = seg.tag
        if tag == "PIA":
            numbers.read(seg)
        elif tag == "IMD" and seg.get(2, 3):
            out.setdefault("description", " ".join(v for v in (seg.get(2, 3), seg.get(2, 4)) if v))
        elif tag == "QTY":
            quantities.setdefault(seg.get(0, 0), number(seg.get(0, 1)))
            if seg.get(0, 2):
                out.setdefault("uom", seg.get(0, 2))
        elif tag == "PRI" and seg.get(0, 1):
            prices.setdefault(seg.get(0, 0), seg)
        elif tag == "GIN":
            key = _GIN_IDS.get(seg.get(0))
            if key and seg.get(1, 0):
                out.setdefault(key, seg.get(1, 0))
        elif tag == "DTM" and seg.get(0, 0) == "361":
            out.setdefault("expiry", day(date(seg)))
        elif tag == "LOC" and seg.get(1, 0):
            out.setdefault("location", seg.get(1, 0))
    numbers.apply(out, lin)
    if prices:
        _price(out, prices)
    return out, quantities


def quantity(line: LineData, lin: Segment, quantities: dict[str, str], wanted: tuple[str, ...],
             also: tuple[str, ...] = ()) -> str:  # fmt: skip
    """The line's quantity: the first of the `wanted` qualifiers its message type defines for it.
    Qualifiers neither wanted nor placed by the caller (`also`) are kept under
    `extensions.quantities`; a line without any wanted one is a finding at its LIN."""
    others = {q: v for q, v in quantities.items() if q not in wanted and q not in also}
    if others:
        extend(line, "quantities", others)
    found = next((quantities[q] for q in wanted if quantities.get(q)), None)
    if found is None:
        raise no_quantity(lin, quantities, wanted)
    return found


def no_quantity(lin: Segment, quantities: dict[str, str], wanted: tuple[str, ...]) -> MappingProblem:
    """The finding for a line (at its LIN) without any of the `wanted` quantities."""
    named = " or ".join(f"QTY+{q}" for q in wanted)
    kept = ", ".join(f"QTY+{q}" for q in quantities)
    return MappingProblem(
        f"line has no {named}" + (f" (only {kept}, which is not that quantity)" if kept else ""),
        lin, 1, 1, lin.get(0), Code.MISSING_QUANTITY,
    )  # fmt: skip
