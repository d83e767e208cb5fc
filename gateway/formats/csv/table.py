"""Assemble documents from flat rows by canonical paths: the mapping for every tabular layout.

A column's `to` path says where its value goes in the document:

| path            | meaning                                                         |
|-----------------|-----------------------------------------------------------------|
| `order_number`  | a header field, the same on every row of the document           |
| `ship_to.city`  | a field of a header object (a party)                            |
| `x.y[]`, `x[]`  | a list; each distinct value is appended once                    |
| `packages[].sscc` | a field of an object in a header list; equal objects kept once |
| `line.sku`      | a field of this row's item (a line, or a ship-to for customers) |

A header field whose value differs between rows of one document is a finding: the rows
contradict each other, and picking one would silently drop the other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

Report = Callable[[int, str, str, str], None]
"""Called as report(line, column, value, message) for a contradiction."""


@functools.cache
def _steps(path: str) -> tuple[tuple[str, ...], str, bool]:
    """A path split once: (parent keys, last key, whether the last key is a list)."""
    *parents, last = path.split(".")
    return tuple(parents), last.removesuffix("[]"), last.endswith("[]")


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at a dotted path; a `[]` segment appends to a list once."""
    parents, last, is_list = _steps(path)
    for part in parents:
        target = target.setdefault(part, {})
    if is_list:
        items = target.setdefault(last, [])
        if value not in items:
            items.append(value)
    else:
        target[last] = value


@functools.cache
def _kind(path: str) -> tuple[str, str]:
    """What a path addresses: a plain field of the line, a nested one, an object in a header list,
    a list, or a header field."""
    if path.startswith("line."):
        field = path[5:]
        return ("line" if "." in field or field.endswith("[]") else "field"), field
    if "[]." in path:
        return "object", path
    if path.endswith("[]"):
        return "list", path
    return "header", path


Step = tuple[int, str, str, str]
"""One compiled mapping step: (value index in the row, column name, kind, path)."""


def compile_paths(columns: list[tuple[int, str, tuple[str, ...]]]) -> list[Step]:
    """Compile (index, column name, `to` paths) once per layout, so rows need no path parsing."""
    return [(index, name, *_kind(path)) for index, name, paths in columns for path in paths]


class DocumentBuilder:
    """Collects the rows of one document and returns its canonical dict."""

    def __init__(self, item: str, steps: list[Step], report: Report) -> None:
        self.item = item
        self.steps = steps
        self.report = report
        self.header: dict[str, Any] = {}
        self.first_seen: dict[str, tuple[int, Any]] = {}
        self.items: list[dict[str, Any]] = []

    def add(self, line: int, raw: list[str], values: tuple[Any, ...]) -> None:
        """Add one row: its raw texts (for findings) and normalised values, by index."""
        item: dict[str, Any] = {}
        objects: dict[str, dict[str, Any]] = {}
        for index, column, kind, path in self.steps:
            value = values[index]
            if value is None or value == "":
                continue
            if kind == "field":  # most columns: a plain field of the row's item
                item[path] = value
            elif kind == "line":
                _set(item, path, value)
            elif kind == "header":
                seen = self.first_seen.get(path)
                if seen is None:
                    self.first_seen[path] = (line, value)
                    _set(self.header, path, value)
                elif seen[1] != value:
                    self.report(
                        line, column, raw[index],
                        f"differs from {seen[1]!r} on line {seen[0]} of the same document",
                    )  # fmt: skip
            elif kind == "object":
                name, field = path.split("[].", 1)
                _set(objects.setdefault(name, {}), field, value)
            else:
                _set(self.header, path, value)
        for name, obj in objects.items():
            _set(self.header, f"{name}[]", obj)
        if item:
            self.items.append(item)

    def document(self) -> dict[str, Any]:
        """The assembled document; items are numbered when the layout gave no line_no."""
        doc = dict(self.header)
        if self.items:
            if self.item == "lines":
                for n, item in enumerate(self.items, 1):
                    item.setdefault("line_no", str(n))
            doc[self.item] = self.items
        return doc
