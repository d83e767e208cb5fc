"""Canonical CSV out: the layouts of `schemas/csv/`, so that what the CSV reader reads comes back.

Each document becomes one row per line (per ship-to for customers; one row when it has none),
its header fields repeated on every row, exactly as the reader assembles them. The reader's
`to` paths are inverted here: `ship_to.city` is read back from the document, `line.sku` from the
row's line, a list field with several columns (`bill_to_address_1..3`) is spread over them, a
list with one column (`tracking_numbers[]`) is spread down the rows, and a package goes on the
row of the line that names its SSCC. What the layout cannot hold (a fourth address line, more
tracking numbers than rows, a value longer than the reader accepts) is refused, so a file this
target writes is always one the reader accepts and turns into the same documents. `extensions`
and the `source` lineage have no columns and are not written; canonical JSON Lines keeps them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, ClassVar

from gateway import resources
from gateway.canonical.records import Record
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.findings import Code
from gateway.formats.csv.schema import Column, Layout, layouts
from gateway.formats.csv.schema import envelope as envelope_schema
from gateway.options import Option
from gateway.targets.base import FileInfo, Opener, SingleFormat
from gateway.targets.delimited import (
    Defaults,
    DelimitedOptions,
    Outputs,
    cell_problem,
    check_options,
    common_options,
)
from gateway.targets.layout import plain, resolve


@resources.cached
def layout_for(doc_type: str) -> Layout | None:
    """The canonical CSV layout of a document type."""
    return next((lay for lay in layouts().values() if lay.doc_type == doc_type), None)


def ordered_columns(layout: Layout) -> list[Column]:
    """Header columns, then line columns, then the envelope: the order a person reads."""
    envelope = frozenset(envelope_schema())
    head = [c for c in layout.columns if not c.to[0].startswith("line.")]
    body = [c for c in layout.columns if c not in head]
    first = [c for c in head if c.name not in envelope]
    return first + body + [c for c in head if c.name in envelope]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Document:
    """One document's rows, built column by column from the inverted paths."""

    def __init__(self, layout: Layout, doc: dict[str, Any]) -> None:
        self.layout = layout
        self.doc = doc
        self.items: list[dict[str, Any]] = list(doc.get(layout.item) or [])
        self.count = max(1, len(self.items))
        self.findings: list[Finding] = []
        self.slot: dict[str, int] = defaultdict(int)
        self.packages = self._assign_packages()

    def refuse(self, field: str, message: str, value: str | None = None) -> None:
        self.findings.append(
            Finding(
                Code.NOT_REPRESENTABLE,
                message,
                {"record": self.doc["doc_id"], "field": field},
                value,
                f"layout {self.layout.name}",
            )
        )

    def _assign_packages(self) -> list[dict[str, Any]]:
        """The package written on each row: the one whose SSCC the row's line names."""
        packages = [p for p in self.doc.get("packages") or [] if any(v is not None for v in p.values())]
        if not packages:
            return [{}] * self.count
        by_sscc = {p.get("sscc"): p for p in packages if p.get("sscc")}
        rows: list[dict[str, Any]] = []
        loose = [p for p in packages if not p.get("sscc")]
        used: set[str] = set()
        for n in range(self.count):
            item = self.items[n] if n < len(self.items) else {}
            sscc = item.get("package_sscc")
            if sscc:
                used.add(sscc)
                rows.append(by_sscc.get(sscc, {"sscc": sscc}))
            else:
                rows.append(loose.pop(0) if loose else {})
        for sscc in sorted(set(by_sscc) - used):
            self.refuse("packages", "a package with an SSCC no line names has no row to go on", sscc)
        if loose:
            self.refuse("packages", f"{len(loose)} package(s) more than rows to carry them")
        return rows

    def rows(self, columns: list[Column]) -> list[list[str]]:
        """The document's rows, in `columns` order."""
        list_columns: dict[str, list[str]] = defaultdict(list)
        for column in columns:
            for path in column.to:
                if path.endswith("[]"):
                    list_columns[path].append(column.name)
        table = [[self._cell(column, n, list_columns) for column in columns] for n in range(self.count)]
        for path, names in list_columns.items():
            found = resolve(
                self.items[0] if path.startswith("line.") and self.items else self.doc,
                path.removeprefix("line.")[:-2],
            )
            if path.startswith("line."):
                for item in self.items:
                    self._fits(path, names, resolve(item, path[5:-2]))
            else:
                self._fits(path, names, found)
        return table

    def _fits(self, path: str, names: list[str], values: Any) -> None:
        room = len(names) if len(names) > 1 else self.count
        if isinstance(values, list) and len(values) > room:
            self.refuse(
                path, f"{len(values)} values, the layout has room for {room}", ", ".join(map(str, values))
            )

    def _cell(self, column: Column, n: int, list_columns: dict[str, list[str]]) -> str:
        item = self.items[n] if n < len(self.items) else {}
        for path in column.to:
            value = self._value(path, column, n, item, list_columns)
            if value not in (None, ""):
                return _text(value)
        if column.name.lower() in (k.lower() for k in self.layout.key):
            return _text(self.doc.get("doc_id"))
        return ""

    def _value(
        self, path: str, column: Column, n: int, item: dict[str, Any], lists: dict[str, list[str]]
    ) -> Any:
        if path.startswith("line."):
            source, path = item, path[5:]
        else:
            source = self.doc
        if "[]." in path:
            return self.packages[n].get(path.split("[].", 1)[1])
        if path.endswith("[]"):
            values = resolve(source, path[:-2]) or []
            names = lists[("line." if source is item else "") + path]
            index = names.index(column.name) if len(names) > 1 else n
            return values[index] if index < len(values) else None
        return resolve(source, path)


def _check(column: Column, text: str) -> str | None:
    if column.max_length and len(text) > column.max_length:
        return f"longer than {column.max_length} characters"
    if column.pattern and not re.fullmatch(column.pattern, text):
        return "does not match the pattern"
    if column.values and text not in column.values:
        return "is not an allowed value"
    return None


class CanonicalCsvWriter:
    """Writes each document in its canonical CSV layout, one file per document type."""

    def __init__(self, options: DelimitedOptions, file: FileInfo, open_output: Opener) -> None:
        self.options = options
        self.outputs = Outputs(file, open_output, options)

    def write(self, record: Record) -> list[Finding]:
        """Render the record; write it only when the reader would read it back the same."""
        layout = layout_for(record.doc_type)
        if layout is None:
            return [
                Finding(
                    Code.NO_LAYOUT,
                    f"no canonical CSV layout for a {record.doc_type}",
                    {"record": record.doc_id},
                )
            ]
        columns = ordered_columns(layout)
        document = _Document(layout, plain(record))
        rows = document.rows(columns)
        findings = document.findings
        for n, row in enumerate(rows):
            for column, text in zip(columns, row, strict=True):
                where = {
                    "record": record.doc_id,
                    "field": column.name if n == 0 else f"{column.name}, row {n + 1}",
                }
                if not text:
                    if column.required:  # the layout's own reader would refuse the row
                        rule = f"{layout.name}.{column.name}: {column.rule}"
                        findings.append(
                            Finding(Code.REQUIRED, "the layout requires a value here", where, rule=rule)
                        )
                    continue
                problem = _check(column, text)
                if problem is not None:
                    findings.append(
                        Finding(
                            Code.NOT_REPRESENTABLE,
                            problem,
                            where,
                            text,
                            f"{layout.name}.{column.name}: {column.rule}",
                        )
                    )
                encoded = cell_problem(text, self.options, column.max_length)
                if encoded is not None:
                    findings.append(Finding(encoded[0], encoded[1], where, text, encoded[2]))
        if findings:
            return findings
        out = self.outputs.file_for(layout.doc_type, record.doc_id, record.doc_type)
        if out.fresh and self.options.header:
            rows = [[c.name for c in columns], *rows]
        out.write_rows(rows)
        return []

    def close(self) -> None:
        """Close the data files, then the done-files."""
        self.outputs.close()


class CanonicalCsvTarget(SingleFormat):
    """The canonical CSV layouts as an outbound format (UTF-8, LF, header row)."""

    format: ClassVar[str] = "canonical_csv"
    defaults: ClassVar[Defaults] = Defaults(
        "{layout}.{stem}.{file_id}.csv", line_ending="lf", line_breaks=True
    )

    options: ClassVar[tuple[Option, ...]] = common_options(defaults)

    def __init__(self, config: TargetConfig) -> None:
        self.delimited = DelimitedOptions.parse(config.options, self.defaults)

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """Only the common delimited options; canonical values are never mapped."""
        problems = check_options(config, cls.defaults)
        if "value_map" in config.options:
            problems.append("value_map: canonical CSV keeps canonical values; map them in the ERP targets")
        return problems

    def writer(self, file: FileInfo, open_output: Opener) -> CanonicalCsvWriter:
        """A writer for the records of one input file."""
        return CanonicalCsvWriter(self.delimited, file, open_output)
