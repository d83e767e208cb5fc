"""What every EDIFACT message mapping shares: dates by DTM format, parties by NAD, item lines.

Mappings read a validated `Message` and return typed dicts (`gateway.canonical.shapes`) with
canonical names; the reader adds the lineage (`source`) and builds the records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from gateway.canonical.records import Function
from gateway.canonical.shapes import EnvelopeData, PartyData
from gateway.findings import Code, Report
from gateway.formats.edifact.envelope import Message
from gateway.formats.edifact.syntax import Segment

#: UNB partner identification code qualifiers (0007) and NAD code list agencies (3055).
PARTNER_SCHEMES = {"14": "GLN", "1": "DUNS", "31B": "SAN", "ZZ": "ZZ", "ZZZ": "ZZ"}
AGENCY_SCHEMES = {"9": "GLN", "16": "DUNS", "91": "seller", "92": "buyer", "ZZZ": "ZZ"}
FUNCTIONS: dict[str, Function] = {
    "9": "original",
    "5": "replace",
    "4": "replace",
    "1": "cancel",
    "3": "cancel",
}
FUNCTION_CODES = {"original": "9", "replace": "5", "cancel": "1"}
ROLES = {
    "BY": "buyer",
    "SU": "supplier",
    "DP": "ship_to",
    "ST": "ship_to",
    "IV": "bill_to",
    "BT": "bill_to",
    "SF": "ship_from",
    "CA": "carrier",
    "UC": "consignee",
    "WH": "warehouse",
}


class MappingProblem(Exception):
    """A value the canonical form cannot take; carries the segment it came from."""

    def __init__(
        self,
        message: str,
        segment: Segment,
        element: int,
        component: int,
        value: str,
        code: Code = Code.UNMAPPABLE,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.segment = segment
        self.element = element
        self.component = component
        self.value = value


class LineProblems(Exception):
    """The problems of every line of a message, so that one reading reports them all: each line
    is read `with` it (a line's problem is kept and the next line read), then `raise_any()`."""

    def __init__(self) -> None:
        super().__init__("lines that cannot be mapped")
        self.problems: list[MappingProblem] = []

    def __enter__(self) -> LineProblems:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if isinstance(exc, MappingProblem):
            self.problems.append(exc)
            return True
        return False

    def raise_any(self) -> None:
        if self.problems:
            raise self


def date(seg: Segment) -> str | None:
    """The DTM value as ISO 8601, by its format code (2379)."""
    value, fmt = seg.get(0, 1), seg.get(0, 2) or "102"
    if not value:
        return None
    if fmt == "718":
        value, fmt = value.split("-", 1)[0], "102"
    shapes = {"102": 8, "203": 12, "204": 14, "101": 6, "201": 10}
    width = shapes.get(fmt)
    if width is None or len(value) != width or not value.isdigit():
        raise MappingProblem(f"is not a date in format {fmt}", seg, 1, 2, value)
    if fmt in ("101", "201"):
        value = "20" + value
    iso = f"{value[:4]}-{value[4:6]}-{value[6:8]}"
    if not ("01" <= value[4:6] <= "12" and "01" <= value[6:8] <= "31"):
        raise MappingProblem(f"is not a calendar date (format {fmt})", seg, 1, 2, seg.get(0, 1))
    if len(value) >= 12:
        iso += f"T{value[8:10]}:{value[10:12]}"
        iso += f":{value[12:14]}" if len(value) == 14 else ""
    return iso


def day(iso: str | None) -> str | None:
    """The date part of an ISO date-time."""
    return iso[:10] if iso else None


def party(seg: Segment) -> PartyData:
    """A canonical party from NAD."""
    names = [v for v in (seg.get(3, i) for i in range(5)) if v]
    return {
        "role": ROLES.get(seg.get(0), seg.get(0)),
        "id": seg.get(1, 0) or None,
        "scheme": AGENCY_SCHEMES.get(seg.get(1, 2), seg.get(1, 2) or None),
        "name": " ".join(names) or None,
        "address_lines": [v for v in (seg.get(4, i) for i in range(4)) if v],
        "city": seg.get(5) or None,
        "region": seg.get(6) or None,
        "postal_code": seg.get(7) or None,
        "country": seg.get(8) or None,
    }


def number(value: str, decimal: str = ".") -> str:
    """A decimal string with `.` as the mark, whichever mark the partner used."""
    return value.replace(",", ".") if value else value


@dataclass
class Header:
    """The header part of a message: dates, references, parties, currency."""

    number: str = ""
    kind: str = ""
    function: Function = "original"
    dates: dict[str, str | None] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    all_refs: list[tuple[str, str]] = field(default_factory=list)
    parties: dict[str, PartyData] = field(default_factory=dict)
    currency: str | None = None
    carrier: str | None = None

    def party_id(self, *roles: str) -> str | None:
        """The id of the first of the NAD parties `roles` (qualifiers) the message names."""
        found = next((self.parties[r] for r in roles if r in self.parties), None)
        return found.get("id") if found else None


def header(message: Message, stop: frozenset[str]) -> Header:
    """Read segments until the first tag in `stop` (the detail section)."""
    h = Header()
    for seg in message.segments[1:]:
        tag = seg.tag
        if tag in stop:
            break
        if tag == "BGM":
            h.kind, h.number = seg.get(0, 0), seg.get(1, 0)
            h.function = FUNCTIONS.get(seg.get(2), "original")
        elif tag == "DTM":
            h.dates.setdefault(seg.get(0, 0), date(seg))
        elif tag == "RFF":
            h.refs.setdefault(seg.get(0, 0), seg.get(0, 1))
            h.all_refs.append((seg.get(0, 0), seg.get(0, 1)))
        elif tag == "NAD":
            h.parties.setdefault(seg.get(0), party(seg))
        elif tag == "CUX":
            h.currency = h.currency or seg.get(0, 1) or None
        elif tag == "TDT":
            h.carrier = h.carrier or seg.get(4, 0) or None
    return h


def lines(
    segments: list[Segment], start: str = "LIN", stop: frozenset[str] = frozenset({"UNS", "UNT", "CNT"})
) -> Iterator[list[Segment]]:
    """Each detail line's segments, from `start` to the next `start` or a `stop` tag."""
    current: list[Segment] | None = None
    for seg in segments:
        if seg.tag == start or seg.tag in stop:
            if current:
                yield current
            current = [seg] if seg.tag == start else None
        elif current is not None:
            current.append(seg)
    if current:
        yield current


def envelope_fields(message: Message, h: Header) -> EnvelopeData:
    """Envelope fields of a canonical record from UNB and the message header."""
    ic = message.interchange
    return {
        "function": h.function,
        "issued_at": h.dates.get("137"),
        "sender": {
            "id": ic.sender or None,
            "scheme": PARTNER_SCHEMES.get(ic.sender_qualifier, ic.sender_qualifier or None),
        },
        "receiver": {
            "id": ic.recipient or None,
            "scheme": PARTNER_SCHEMES.get(ic.recipient_qualifier, ic.recipient_qualifier or None),
        },
    }


def report_problem(report: Report, problem: MappingProblem, rule: str) -> None:
    """Turn a mapping problem into a located finding."""
    report(
        problem.code,
        problem.message,
        value=problem.value,
        rule=rule,
        segment=problem.segment.tag,
        segment_index=problem.segment.index,
        element=problem.element,
        component=problem.component,
    )
