"""CSV layouts as data: `schemas/csv/*.toml`, and their column checks run a chunk at a time.

A layout names its document type, the key columns whose change starts a new document, and its
columns: `[header]` ones, repeated on every row of a document, and `[line]` ones, one per row.
Each column has a type (`string`, `integer`, `decimal`, `date`, `datetime`, `boolean`, `enum`),
whether a value is required, and optional `max_length`, `pattern`, `formats` (dates, strptime
style), `values` (enum), `required_when` (`"mode=delta"`) and `to`, the canonical path it fills
(default: its own name, under `line.` for line columns; `gateway.formats.csv.table` lists the path
forms). checks.py compiles each column's checks once and runs them over a chunk of rows.

A layout with `header = false` is for files without a header row: its columns are `[[column]]`
entries in field order (or with an explicit 1-based `position`), each with its `to` path, and
`width` may give the number of fields a row has when it is more than the last position. Such a
layout is never recognised from a header; a source names it with `csv_layout`.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway import resources
from gateway.canonical.build import element_type, path_problem
from gateway.canonical.records import RECORD_TYPES

TYPES = ("string", "integer", "decimal", "date", "datetime", "boolean", "enum")
DECIMAL = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
INTEGER = r"[+-]?\d+"
TRUE = frozenset({"true", "yes", "y", "1"})
FALSE = frozenset({"false", "no", "n", "0"})
DEFAULT_DATE_FORMATS = ("%Y-%m-%d",)
DEFAULT_DATETIME_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
)


@dataclass(frozen=True)
class Column:
    """One column of a layout."""

    name: str
    type: str = "string"
    required: bool = False
    in_header: bool = False
    max_length: int | None = None
    pattern: str | None = None
    formats: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    required_when: tuple[str, str] | None = None
    position: int | None = None

    @property
    def rule(self) -> str:
        """How the rule reads in a finding: `decimal, required, max 35`."""
        parts = [self.type]
        if self.required:
            parts.append("required")
        if self.required_when:
            parts.append("required when {}={}".format(*self.required_when))
        if self.max_length:
            parts.append(f"max {self.max_length}")
        if self.pattern:
            parts.append(f"pattern {self.pattern}")
        if self.formats:
            parts.append("format " + " or ".join(self.formats))
        if self.values:
            parts.append("one of " + "|".join(self.values))
        return ", ".join(parts)


@dataclass(frozen=True)
class Layout:
    """A CSV layout: the columns of one document type's file."""

    name: str
    doc_type: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    item: str = "lines"
    recognise: bool = True
    has_header: bool = True
    width: int = 0

    @property
    def positions(self) -> list[str]:
        """A headerless layout's column names by field position ("" where no column is read)."""
        names = [""] * self.width
        for c in self.columns:
            if c.position is not None:
                names[c.position - 1] = c.name.lower()
        return names

    @functools.cached_property
    def by_name(self) -> dict[str, Column]:
        """Columns by their lower-case name."""
        return {c.name.lower(): c for c in self.columns}

    def matches(self, header: list[str]) -> tuple[list[str], list[str]]:
        """(missing required columns, unknown columns) of a normalised header row."""
        names = set(header)
        missing = [c.name for c in self.columns if c.in_header and c.name.lower() not in names]
        unknown = [h for h in header if h not in self.by_name]
        return missing, unknown


def _column(name: str, spec: dict[str, Any], where: str) -> Column:
    kind = spec.get("type", "string")
    if kind not in TYPES:
        raise ValueError(f"{where}.{name}.type: unknown type {kind!r}")
    pattern = spec.get("pattern")
    if pattern:
        re.compile(pattern)
    if kind == "enum" and not spec.get("values"):
        raise ValueError(f"{where}.{name}.values: an enum needs values")
    default_formats = {"date": DEFAULT_DATE_FORMATS, "datetime": DEFAULT_DATETIME_FORMATS}
    required = bool(spec.get("required", False))
    to = spec.get("to", name)
    when = spec.get("required_when")
    return Column(
        name=name,
        type=kind,
        required=required,
        in_header=bool(spec.get("in_header", required)),
        max_length=spec.get("max_length"),
        pattern=pattern,
        formats=tuple(spec.get("formats", default_formats.get(kind, ()))),
        values=tuple(spec.get("values", ())),
        to=tuple(to) if isinstance(to, list) else (to,),
        required_when=(when.split("=", 1)[0], when.split("=", 1)[1]) if when else None,
        position=spec.get("position"),
    )


def _positional(data: dict[str, Any], where: str) -> tuple[dict[str, Any], int]:
    """The `[[column]]` entries of a headerless layout as named specs with their positions,
    and the row width; positions are 1-based and default to the entry's place in the list."""
    specs: dict[str, Any] = {}
    taken: dict[int, str] = {}
    for n, entry in enumerate(data.get("column", []), start=1):
        spec = dict(entry)
        name = spec.pop("name", None)
        if not name or name in specs:
            raise ValueError(f"{where}.column[{n}]: every column needs a name of its own")
        position = spec.setdefault("position", n)
        if not isinstance(position, int) or position < 1 or position in taken:
            raise ValueError(f"{where}.column[{n}].position: {position!r} is not a free field number")
        taken[position] = name
        specs[name] = spec
    if not specs:
        raise ValueError(f"{where}: a layout with header = false lists its columns as [[column]]")
    width = data.get("width", max(taken))
    if not isinstance(width, int) or width < max(taken):
        raise ValueError(f"{where}.width: {width!r} is less than the last column's position {max(taken)}")
    return specs, width


def load_layout(path: Path, envelope: dict[str, Any] | None = None) -> Layout:
    """Read one layout file; `envelope` columns are added to its header unless it has them."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    where = path.name
    has_header = data.get("header") is not False
    width = 0
    if has_header:
        named = data.get("header")
        data["header"] = {**(envelope or {}), **(named if isinstance(named, dict) else {})}
    else:
        # Positional columns fill the path their `to` names (default: a document field).
        data["header"], width = _positional(data, where)
    record = RECORD_TYPES.get(data["doc_type"])
    if record is None:
        raise ValueError(f"{where}.doc_type: {data['doc_type']!r} is not a canonical document type")
    item_name = data.get("item", "lines")
    # The type of the rows' item (a line, or a ship-to of a customer); None when the document
    # has no list of objects of that name, which only a `line.` path would need.
    item = element_type(record, item_name)
    columns = []
    for table, prefix in (("header", ""), ("line", "line.")):
        for name, spec in data.get(table, {}).items():
            column = _column(name, {"to": f"{prefix}{name}", **spec}, f"{where}.{table}")
            for to in column.to:
                if not to.startswith("line."):
                    problem = path_problem(record, to)
                elif item is None:
                    problem = f"a {data['doc_type']} has no list of objects {item_name!r} (key `item`)"
                else:
                    problem = path_problem(item, to.removeprefix("line."))
                if problem:
                    raise ValueError(f"{where}.{table}.{name}.to: {to!r}: {problem}")
            columns.append(column)
    return Layout(
        name=data.get("layout", path.stem),
        doc_type=data["doc_type"],
        key=tuple(data["key"]),
        columns=tuple(columns),
        item=item_name,
        recognise=has_header and data.get("recognise", True),
        has_header=has_header,
        width=width,
    )


@resources.cached
def envelope() -> dict[str, Any]:
    """The envelope columns every CSV layout may carry (`schemas/csv/_envelope.toml`)."""
    text = resources.path("csv", "_envelope.toml").read_text(encoding="utf-8")
    header: dict[str, Any] = tomllib.loads(text)["header"]
    return header


@resources.cached
def layouts() -> dict[str, Layout]:
    """Every CSV layout of `schemas/csv/` (and the site's), by name."""
    found = (load_layout(p, envelope()) for p in resources.listing("csv", "[!_]*.toml"))
    return {layout.name: layout for layout in found}


def recognise(header: list[str]) -> tuple[Layout | None, Layout | None]:
    """(the layout this header is, or None; the closest layout, to explain a miss)."""
    best: tuple[int, Layout] | None = None
    for layout in layouts().values():
        if not layout.recognise:
            continue
        missing, unknown = layout.matches(header)
        if not missing and not unknown:
            return layout, layout
        # The document key is the strongest hint of what a file was meant to be.
        has_key = all(k.lower() in header for k in layout.key)
        score = len(set(header) & set(layout.by_name)) * 2 - len(missing) - len(unknown) + 4 * has_key
        if best is None or score > best[0]:
            best = (score, layout)
    return None, best[1] if best else None


@functools.cache
def date_parser(column: Column) -> Callable[[str], str | None]:
    """A value's ISO text by the first of the column's formats that reads it, or None.

    Python's own strptime, value by value with a cache (dates repeat)."""
    timed = ("%H", "%M", "%S")
    formats = [(f, column.type == "date" or not any(d in f for d in timed)) for f in column.formats]

    @functools.lru_cache(maxsize=4096)
    def parse(value: str) -> str | None:
        for fmt, date_only in formats:
            try:
                parsed = datetime.strptime(value, fmt)
            except ValueError:
                continue
            return parsed.date().isoformat() if date_only else parsed.isoformat()
        return None

    return parse
