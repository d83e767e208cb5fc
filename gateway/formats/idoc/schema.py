"""IDoc segment schemas, read from the data files in `schemas/idoc/`.

A basic type (ORDERS05) lists its segments with parent and occurrences; segment types
(E1EDK01) carry their field layouts, shared by every basic type that uses them; a customer
extension (CIMTYP) names the basic type it extends and adds its own segments and layouts.
The record layouts of the file port (EDI_DC40, EDI_DD40 and the release 3 pair) are data too.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gateway import resources
from gateway.findings import Code

FIELD_TYPES = ("c", "n", "d", "date", "time")
#: Segment definition names (`E2EDK01005`, `Z2XYZ000`) name a version of a segment type.
_DEFINITION = re.compile(r"^([EZY])2(\w+?)(\d{3})?$")


@dataclass(frozen=True)
class FieldDef:
    """One field of a record or segment: where it sits in the data and what it holds."""

    name: str
    offset: int
    length: int
    type: str = "c"

    @property
    def end(self) -> int:
        """The offset just after the field."""
        return self.offset + self.length

    @property
    def rule(self) -> str:
        """How a finding names the field's definition."""
        return f"{self.name} {self.type}{self.length} at {self.offset}"


@dataclass(frozen=True)
class SegmentDef:
    """A segment type's (or a record's) fields, in data order."""

    name: str
    fields: tuple[FieldDef, ...]
    by_name: dict[str, FieldDef] = field(default_factory=dict, compare=False)
    #: Where SAP's published layout ends in a flat file (None: it covers every field). The
    #: fields after it are named as SAP names them, which IDoc-XML needs, but their widths, and
    #: so their places in a flat file, are not published: flat files neither read nor write them.
    documented_end: int | None = None

    @property
    def length(self) -> int:
        """The length of the data up to the end of the last known field."""
        return self.fields[-1].end if self.fields else 0

    @functools.cached_property
    def spans(self) -> tuple[tuple[str, int, int], ...]:
        """(name, start, end) of every field, computed once: slicing is the hot loop."""
        return tuple((f.name, f.offset, f.end) for f in self.fields)

    @functools.cached_property
    def flat_spans(self) -> tuple[tuple[str, int, int], ...]:
        """The spans a flat file may use: those SAP's published layout places."""
        end = self.length if self.documented_end is None else self.documented_end
        return tuple(span for span in self.spans if span[2] <= end)

    def undocumented(self, values: dict[str, str]) -> list[str]:
        """The fields with a value that a flat file cannot place (see `documented_end`)."""
        placed = {name for name, _, _ in self.flat_spans}
        return [f.name for f in self.fields if values.get(f.name) and f.name not in placed]

    def slice(self, data: str) -> dict[str, str]:
        """The fields of fixed-width `data`, right-trimmed; fields past its end are absent."""
        size = len(data)
        return {name: data[start:end].rstrip() for name, start, end in self.spans if start < size}

    def pack(self, values: dict[str, str], width: int | None = None) -> str:
        """Fixed-width data from field values, padded to `width` (default: the layout's); only
        the fields a flat file places (`undocumented` names the others, for the writer to refuse)."""
        out = [" "] * max(width or 0, self.length)
        for name, start, end in self.flat_spans:
            value = values.get(name)
            if value:
                out[start:end] = value[: end - start].ljust(end - start)
        return "".join(out)


@dataclass(frozen=True)
class Node:
    """A segment's place in a basic type: its parent segment and how often it may occur."""

    name: str
    parent: str
    min: int
    max: int


@dataclass(frozen=True)
class BasicType:
    """A basic type, or a basic type with a customer extension."""

    name: str
    nodes: dict[str, Node]
    segments: dict[str, SegmentDef]
    extension: str | None = None

    @property
    def label(self) -> str:
        """`ORDERS05` or `ORDERS05/ZORDERS05EXT` for rules."""
        return f"{self.name}/{self.extension}" if self.extension else self.name

    def children(self, parent: str) -> list[Node]:
        """The segments whose parent is `parent` ('' for the top level), in schema order."""
        return [n for n in self.nodes.values() if n.parent == parent]


def _fields(name: str, rows: list[Any], through: str | None = None) -> SegmentDef:
    """A layout from `[name, length, type]` rows; `through`: the last field SAP's published
    layout places ("" none of them, None all)."""
    offset = 0
    out: list[FieldDef] = []
    for row in rows:
        fname, length = str(row[0]), int(row[1])
        ftype = str(row[2]) if len(row) > 2 else "c"
        if ftype not in FIELD_TYPES:
            raise ValueError(f"schemas/idoc: {name}.{fname}: unknown field type {ftype!r}")
        out.append(FieldDef(fname, offset, length, ftype))
        offset += length
    by_name = {f.name: f for f in out}
    if through is None:
        return SegmentDef(name, tuple(out), by_name)
    if through and through not in by_name:
        raise ValueError(f"schemas/idoc: {name}: flat_documented_through names no field {through!r}")
    return SegmentDef(name, tuple(out), by_name, by_name[through].end if through else 0)


def _load_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


@resources.cached
def records() -> dict[str, SegmentDef]:
    """The file port's record layouts: EDI_DC40, EDI_DD40, EDI_DC, EDI_DD."""
    data = _load_toml(resources.path("idoc", "_records.toml"))
    return {name: _fields(name, table["fields"]) for name, table in data.items()}


@resources.cached
def segment_types() -> dict[str, SegmentDef]:
    """Every standard segment type's layout, by type name: the shipped ones, each replaced by a
    site's layout of the same segment (one confirmed with transaction WE60, say)."""
    found: dict[str, SegmentDef] = {}
    for path in resources.layers("idoc", "_segments.toml"):
        for name, table in _load_toml(path).items():
            found[name] = _fields(name, table["fields"], table.get("flat_documented_through"))
    return found


@resources.cached
def _definitions() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in resources.listing("idoc", "*.toml"):
        if path.name.startswith("_"):
            continue
        data = _load_toml(path)
        key = str(data.get("extension") or data.get("basic_type") or path.stem)
        found[key] = data
    return found


def _nodes(rows: list[Any]) -> dict[str, Node]:
    return {str(r[0]): Node(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows}


@resources.cached
def basic_type(name: str, extension: str = "") -> BasicType | None:
    """The schema of basic type `name` with extension `extension`; None when not shipped.

    An extension without its own schema file still reads as its basic type: the IDoc's
    extension segments are then kept undecoded, as SAP's file port keeps them in SDATA.
    """
    base = _definitions().get(name)
    if base is None or "basic_type" not in base:
        return None
    nodes = _nodes(base.get("segments", []))
    segments = dict(segment_types())
    ext = _definitions().get(extension) if extension else None
    if ext is not None and ext.get("extends") == name:
        nodes.update(_nodes(ext.get("segments", [])))
        for seg, table in ext.get("segment", {}).items():
            segments[seg] = _fields(seg, table["fields"])
    used = {n: segments[n] for n in nodes if n in segments}
    return BasicType(name, nodes, used, extension or None)


def shipped() -> list[str]:
    """The basic types with a schema file."""
    return sorted(k for k, v in _definitions().items() if "basic_type" in v)


@functools.lru_cache(maxsize=4096)
def type_name(segnam: str) -> str:
    """The segment type a file's SEGNAM names: `E2EDK01005` → `E1EDK01`, else as given."""
    name = segnam.strip()
    match = _DEFINITION.match(name)
    if match:
        return f"{match.group(1)}1{match.group(2)}"
    return name


_STANDARD = re.compile(r"E[123][A-Z0-9_]{2,27}")


def is_standard_segment(name: str) -> bool:
    """A segment type (E1...) or definition (E2...NNN, E3...) name of SAP's own namespace."""
    return _STANDARD.fullmatch(name) is not None


def is_customer_segment(name: str) -> bool:
    """Segments in the customer (Z*, Y*) or a partner (/NS/...) namespace."""
    return name[:1] in {"Z", "Y", "/"}


def check_value(f: FieldDef, value: str, *, width: bool = True) -> tuple[Code, str] | None:
    """Why `value` does not fit field `f` as (code, message), or None when it does.

    `width=False` skips the length check: IDoc-XML is not bound to the flat widths, and SAP's
    own S/4 output exceeds some of them (a 10-character E1EDKA1.PSTLZ in the corpus).
    """
    if width and len(value) > f.length:
        return Code.TOO_LONG, f"is longer than {f.length} characters"
    if not value:
        return None
    if f.type == "n" and not value.isdigit():
        return Code.NOT_NUMERIC, "is not a number of digits (NUMC)"
    if f.type == "d" and sap_decimal(value) is None:
        return Code.NOT_NUMERIC, "is not a decimal number"
    if f.type == "date" and value != "00000000" and not _valid_date(value):
        return Code.BAD_DATE, "is not a date YYYYMMDD"
    if f.type == "time" and not (len(value) == 6 and value.isdigit() and value[:2] <= "24"):
        return Code.BAD_TIME, "is not a time HHMMSS"
    return None


def _valid_date(value: str) -> bool:
    if len(value) != 8 or not value.isdigit():
        return False
    month, day = int(value[4:6]), int(value[6:8])
    return 1 <= month <= 12 and 1 <= day <= 31


def sap_decimal(value: str) -> str | None:
    """A SAP number as a canonical decimal string: `' 12.500-'` → `'-12.500'`; None if not one."""
    text = value.strip()
    if not text:
        return None
    if text.endswith("-"):
        text = "-" + text[:-1].strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return str(number) if "E" not in str(number) else format(number, "f")


def sap_date(value: str | None) -> str | None:
    """YYYYMMDD as ISO 8601; SAP's empty date (00000000) and blanks as None."""
    if not value or value.strip("0 ") == "" or not _valid_date(value):
        return None
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}"
