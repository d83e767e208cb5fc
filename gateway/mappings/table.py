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

from collections.abc import Callable
from typing import Any

Report = Callable[[int, str, str, str], None]
"""Called as report(line, column, value, message) for a contradiction."""


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at a dotted path; a `[]` segment appends to a list once."""
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    if last.endswith("[]"):
        items = target.setdefault(last[:-2], [])
        if value not in items:
            items.append(value)
    else:
        target[last] = value


class DocumentBuilder:
    """Collects the rows of one document and returns its canonical dict."""

    def __init__(self, item: str, report: Report) -> None:
        self.item = item
        self.report = report
        self.header: dict[str, Any] = {}
        self.first_seen: dict[str, tuple[int, Any]] = {}
        self.items: list[dict[str, Any]] = []

    def add(self, line: int, row: dict[str, tuple[tuple[str, ...], str, Any]]) -> None:
        """Add one row: column name → (canonical paths, raw text, normalised value)."""
        item: dict[str, Any] = {}
        objects: dict[str, dict[str, Any]] = {}
        for column, (paths, raw, value) in row.items():
            if value is None or value == "":
                continue
            for path in paths:
                self._put(line, column, path, raw, value, item, objects)
        for name, obj in objects.items():
            _set(self.header, f"{name}[]", obj)
        if item:
            self.items.append(item)

    def _put(
        self,
        line: int,
        column: str,
        path: str,
        raw: str,
        value: Any,
        item: dict[str, Any],
        objects: dict[str, dict[str, Any]],
    ) -> None:
        if path.startswith("line."):
            _set(item, path[5:], value)
        elif "[]." in path:
            name, field = path.split("[].", 1)
            _set(objects.setdefault(name, {}), field, value)
        elif path.endswith("[]"):
            _set(self.header, path, value)
        else:
            seen = self.first_seen.setdefault(path, (line, value))
            if seen[1] != value:
                self.report(
                    line, column, raw,
                    f"differs from {seen[1]!r} on line {seen[0]} of the same document",
                )  # fmt: skip
                return
            _set(self.header, path, value)

    def document(self) -> dict[str, Any]:
        """The assembled document; items are numbered when the layout gave no line_no."""
        doc = dict(self.header)
        if self.items:
            if self.item == "lines":
                for n, item in enumerate(self.items, 1):
                    item.setdefault("line_no", str(n))
            doc[self.item] = self.items
        return doc
