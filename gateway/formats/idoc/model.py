"""One IDoc as read from a flat file or IDoc-XML, and its check against the segment schema.

Both syntaxes produce the same `Idoc`: the control record's fields, and the data segments in
file order, each with its number, its parent's number and its level. Checking the structure
(known segments, parents, occurrences) and the field values is shared, so a flat file and its
XML twin give the same findings, located by line (flat) or XPath (XML).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gateway.findings import Code, Report
from gateway.formats.idoc import schema as idoc_schema
from gateway.formats.idoc.schema import BasicType


@dataclass
class Segment:
    """One data segment: its type name, place in the hierarchy and field values."""

    name: str
    number: int
    parent: int
    level: int
    fields: dict[str, str] = field(default_factory=dict)
    segnam: str = ""
    raw: str | None = None
    line: int | None = None
    xpath: str | None = None
    children: list[Segment] = field(default_factory=list)

    def get(self, name: str) -> str:
        """A field's value, '' when absent."""
        return self.fields.get(name, "")

    def child(self, name: str) -> Segment | None:
        """The first child segment of type `name`."""
        return next((c for c in self.children if c.name == name), None)

    def all(self, name: str) -> list[Segment]:
        """Every child segment of type `name`."""
        return [c for c in self.children if c.name == name]

    def where(self) -> dict[str, Any]:
        """The location keys naming this segment."""
        loc: dict[str, Any] = {"segment": self.segnam or self.name, "segment_index": self.number}
        if self.line is not None:
            loc["line"] = self.line
        if self.xpath is not None:
            loc["xpath"] = self.xpath
        return loc


@dataclass
class Idoc:
    """A control record and its data segments."""

    control: dict[str, str]
    segments: list[Segment] = field(default_factory=list)
    line: int | None = None
    xpath: str | None = None
    syntax: str = "flat"
    release: str = "4"
    root: str = ""

    @property
    def docnum(self) -> str:
        """The IDoc number as written (leading zeros kept)."""
        return self.control.get("DOCNUM", "").strip()

    @property
    def basic_type(self) -> str:
        """IDOCTYP, e.g. ORDERS05."""
        return self.control.get("IDOCTYP", "").strip()

    @property
    def extension(self) -> str:
        """CIMTYP, the customer extension, '' when none."""
        return self.control.get("CIMTYP", "").strip()

    @property
    def message_type(self) -> str:
        """MESTYP, e.g. ORDERS, ORDRSP, WHSCON."""
        return self.control.get("MESTYP", "").strip()

    @property
    def sender(self) -> str:
        """The sending partner number (SNDPRN)."""
        return self.control.get("SNDPRN", "").strip()

    @property
    def from_sap(self) -> bool:
        """Whether an SAP system sent it: SAP names its ports `SAP<SID>` (SNDPOR)."""
        return self.control.get("SNDPOR", "").strip().startswith("SAP")

    def where(self) -> dict[str, Any]:
        """The location keys naming the control record."""
        loc: dict[str, Any] = {"record": self.docnum or "?", "segment": "EDI_DC40"}
        if self.line is not None:
            loc["line"] = self.line
        if self.xpath is not None:
            loc["xpath"] = self.xpath
        return loc

    def roots(self) -> list[Segment]:
        """The top-level segments, with `children` filled from the parent numbers."""
        by_number = {s.number: s for s in self.segments}
        for s in self.segments:
            s.children = []
        tops: list[Segment] = []
        for s in self.segments:
            parent = by_number.get(s.parent) if s.parent else None
            (parent.children if parent is not None and parent is not s else tops).append(s)
        return tops

    def walk(self, name: str) -> Iterator[Segment]:
        """Every segment of type `name`, in file order."""
        return (s for s in self.segments if s.name == name)

    def first(self, name: str) -> Segment | None:
        """The first segment of type `name`."""
        return next(self.walk(name), None)


def check(idoc: Idoc, schema: BasicType, report: Report) -> None:
    """Check segments, hierarchy, occurrences and field values against `schema`."""
    record = idoc.docnum or "?"
    rule_base = schema.label
    by_number = {s.number: s for s in idoc.segments}
    counts: Counter[tuple[int, str]] = Counter()
    unmapped: set[str] = set()
    for seg in idoc.segments:
        node = schema.nodes.get(seg.name)
        parent = by_number.get(seg.parent) if seg.parent else None
        parent_name = parent.name if parent is not None else ""
        if node is None:
            if idoc.extension and idoc_schema.is_customer_segment(seg.name):
                continue  # an extension segment without its own layout: kept undecoded
            if idoc_schema.is_standard_segment(seg.name):
                # A standard SAP segment this table does not list (SAP adds them with each
                # release): nothing maps it, so it is kept undecoded rather than refusing a
                # genuine IDoc; the record carries it under extensions.idoc_segments. Said
                # once per segment type and IDoc.
                if seg.name not in unmapped:
                    unmapped.add(seg.name)
                    report(
                        Code.UNMAPPED_SEGMENT,
                        f"standard segment {seg.name} is not in the table of {rule_base};"
                        " kept undecoded under extensions.idoc_segments",
                        value=seg.segnam or seg.name,
                        rule=f"schema idoc/{rule_base}",
                        record=record,
                        **seg.where(),
                    )
                continue
            report(
                Code.UNKNOWN_SEGMENT,
                f"segment {seg.name} is not part of {rule_base}",
                value=seg.segnam or seg.name,
                rule=f"schema idoc/{rule_base}",
                record=record,
                **seg.where(),
            )
            continue
        if node.parent != parent_name:
            where = f"under {parent_name}" if parent_name else "at the top level"
            wanted = f"under {node.parent}" if node.parent else "at the top level"
            report(
                Code.ORPHANED_SEGMENT,
                f"{seg.name} belongs {wanted}, found {where}",
                rule=f"schema idoc/{rule_base}: {seg.name} parent {node.parent or '(IDoc)'}",
                record=record,
                **seg.where(),
            )
        counts[(seg.parent if parent is not None else 0, seg.name)] += 1
        if counts[(seg.parent if parent is not None else 0, seg.name)] == node.max + 1:
            report(
                Code.TOO_MANY_SEGMENTS,
                f"{seg.name} occurs more than {node.max} times",
                rule=f"schema idoc/{rule_base}: {seg.name} max {node.max}",
                record=record,
                **seg.where(),
            )
        _check_fields(seg, schema, record, report)
    _check_minimum(idoc, schema, counts, record, report)


def _check_fields(seg: Segment, schema: BasicType, record: str, report: Report) -> None:
    layout = schema.segments.get(seg.name)
    if layout is None:
        return
    for name, value in seg.fields.items():
        f = layout.by_name.get(name)
        if f is None:
            continue  # later releases append fields; the layout names those it reads
        problem = idoc_schema.check_value(f, value, width=seg.xpath is None)
        if problem is not None:
            code, message = problem
            report(
                code,
                message,
                value=value,
                rule=f"idoc/{schema.label} {seg.name}.{f.rule}",
                record=record,
                field=name,
                **seg.where(),
            )


def _check_minimum(
    idoc: Idoc, schema: BasicType, counts: Counter[tuple[int, str]], record: str, report: Report
) -> None:
    parents: list[tuple[int, str, Segment | None]] = [(0, "", None)]
    parents += [(s.number, s.name, s) for s in idoc.segments if s.name in schema.nodes]
    for number, name, seg in parents:
        for node in schema.children(name):
            if node.min and counts[(number, node.name)] < node.min:
                where = seg.where() if seg is not None else idoc.where()
                inside = f"under {name}" if name else "in the IDoc"
                report(
                    Code.MISSING_SEGMENT,
                    f"{node.name} is required {inside}",
                    rule=f"schema idoc/{schema.label}: {node.name} min {node.min}",
                    **{**where, "record": record},
                )
