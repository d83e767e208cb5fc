"""A target made of data layouts: pick the layout for each document, render it, write its rows.

Sage 100, NetSuite and QuickBooks Online targets are this class with their own layout family,
defaults and extra options; their formats differ only in the layout files. A target takes every
layout of its family, chosen per document by type (and `when`/`unless`), or one layout when its
format names it (`sage100.shipment`); a document no enabled layout takes is a finding.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from gateway.canonical.records import Record
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.findings import Code
from gateway.options import Option
from gateway.targets.base import FileInfo, Opener
from gateway.targets.delimited import (
    Defaults,
    DelimitedOptions,
    Outputs,
    cell_problem,
    check_options,
    common_options,
)
from gateway.targets.layout import (
    Layout,
    RuleBroken,
    Settings,
    cell,
    elements,
    layouts,
    plain,
    resolve,
    scoped,
)
from gateway.valuemaps import ValueMapError
from gateway.valuemaps import load as load_value_map

LAYOUT_OPTIONS = (
    Option("layouts", (list,), None, "the layouts written, by name; default: every layout of the family"),
    Option("lengths", (dict,), None, "column = maximum length, where the consumer stores wider columns"),
)


def _where(doc_id: str, column: str, item: Any, index: int, each: str) -> dict[str, Any]:
    if each == "document":
        return {"record": doc_id, "field": column}
    line_no = item.get("line_no") if isinstance(item, dict) else None
    return {"record": doc_id, "field": f"{column}, {each.removesuffix('s')} {line_no or index}"}


def render(
    layout: Layout, doc: dict[str, Any], settings: Settings, options: DelimitedOptions | None = None
) -> tuple[list[list[str]], list[Finding]]:
    """The rows of one document in `layout`, or the findings that keep it from being written.

    With `options`, a cell the file's encoding or framing cannot carry is a finding too.
    """
    rows: list[list[str]] = []
    findings: list[Finding] = []
    doc_id = str(doc.get("doc_id"))
    for path, most in layout.limits.items():
        found = resolve(doc, path)
        if isinstance(found, list) and len(found) > most:
            findings.append(
                Finding(
                    Code.TOO_MANY,
                    f"has {len(found)} entries, the layout holds {most}",
                    {"record": doc_id, "field": path},
                    None,
                    f"{layout.name}: at most {most} {path}",
                )
            )
    for record in layout.records:
        for index, item in enumerate(elements(doc, record.each), 1):
            row: list[str] = []
            for spec in record.columns:
                per_item = any(p == "#" or p.split(".")[0] == "item" for p in spec.path)
                where = _where(doc_id, spec.name, item, index, record.each if per_item else "document")
                try:
                    text = cell(spec, doc, item, index, settings)
                except RuleBroken as exc:
                    value = _raw(spec.path, doc, item, index, settings)
                    findings.append(
                        Finding(exc.code, exc.message, where, value, f"{layout.name}: {exc.rule}")
                    )
                    continue
                problem = cell_problem(text, options, spec.max) if options is not None else None
                if problem is not None:
                    findings.append(
                        Finding(problem[0], problem[1], where, text, f"{spec.name}: {problem[2]}")
                    )
                row.append(text)
            rows.append(row)
    if not rows:
        findings.append(
            Finding(
                Code.EMPTY_DOCUMENT,
                "has no lines, and this layout writes one row per line",
                {"record": doc_id},
                None,
                f"{layout.name}: one row per line",
            )
        )
    return rows, _once(findings)


def _once(findings: list[Finding]) -> list[Finding]:
    """A document field repeated on every line row is reported once, not once per row."""
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for finding in findings:
        key = (finding.code, str(finding.location), str(finding.value))
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _raw(
    paths: tuple[str, ...], doc: dict[str, Any], item: Any, index: int, settings: Settings
) -> str | None:
    for path in paths:
        value = scoped(doc, item, index, settings, path)
        if value not in (None, ""):
            return str(value)
    return None


def header_rows(layout: Layout) -> list[list[str]]:
    """One header row per record type (a VI job skips them by their first column)."""
    seen: list[list[str]] = []
    for record in layout.records:
        names = [c.name for c in record.columns]
        if names not in seen:
            seen.append(names)
    return seen


class LayoutWriter:
    """Writes each document in its layout, one file per layout (or per document)."""

    def __init__(self, target: LayoutTarget, file: FileInfo, open_output: Opener) -> None:
        self.target = target
        self.outputs = Outputs(file, open_output, target.delimited)
        self.seen: set[tuple[str, str]] = set()

    def write(self, record: Record) -> list[Finding]:
        """Render the record; write it only when every cell is representable."""
        doc = plain(record)
        layout = next((lay for lay in self.target.enabled if lay.takes(doc)), None)
        if layout is None:
            names = ", ".join(lay.name for lay in self.target.enabled)
            return [
                Finding(
                    Code.NO_LAYOUT,
                    f"target {self.target.config.name!r} has no layout for a {record.doc_type}",
                    {"record": record.doc_id},
                    record.doc_type,
                    f"{self.target.config.format} layouts: {names}",
                )
            ]
        rows, findings = render(layout, doc, self.target.settings, self.target.delimited)
        if self.target.unique_documents and (layout.name, record.doc_id) in self.seen:
            findings.append(
                Finding(
                    Code.DUPLICATE_DOCUMENT,
                    "appears twice in one input file; the consumer would merge them",
                    {"record": record.doc_id},
                    record.doc_id,
                    f"{layout.name}: one document per external id and file",
                )
            )
        if findings:
            return findings
        out = self.outputs.file_for(layout.name, record.doc_id, record.doc_type)
        if out.fresh and self.target.delimited.header:
            rows = [*header_rows(layout), *rows]
        out.write_rows(rows)
        self.seen.add((layout.name, record.doc_id))
        return []

    def close(self) -> None:
        """Close the data files, then the done-files."""
        self.outputs.close()


class LayoutTarget:
    """Base of the layout-driven targets; subclasses set the family, defaults and options."""

    format: ClassVar[str] = ""
    family: ClassVar[str] = ""
    defaults: ClassVar[Defaults] = Defaults("{layout}.{stem}.{file_id}.csv")
    #: The family's own options, beyond the common delimited ones and `layouts`/`lengths`.
    extra_options: ClassVar[tuple[Option, ...]] = ()
    options: ClassVar[tuple[Option, ...]] = ()
    unique_documents: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.options = (*common_options(cls.defaults), *LAYOUT_OPTIONS, *cls.extra_options)

    def __init__(self, config: TargetConfig) -> None:
        self.config = config
        self.delimited = DelimitedOptions.parse(config.options, self.defaults)
        self.enabled = self.enabled_layouts(config)
        self.settings = self.make_settings(config)

    @classmethod
    def enabled_layouts(cls, config: TargetConfig) -> list[Layout]:
        """All layouts of the family, or the one the format names after a dot, with the
        `lengths` the site's consumer stores (a newer release's wider names, say)."""
        family = layouts(cls.family)
        _, _, named = config.format.partition(".")
        wanted = config.options.get("layouts", [named] if named else list(family))
        lengths = config.options.get("lengths", {})
        return [with_lengths(family[name], lengths) for name in wanted if name in family]

    @classmethod
    def make_settings(cls, config: TargetConfig) -> Settings:
        """Settings from the options (override to add a family's own)."""
        return Settings(value_map=load_value_map(config.options.get("value_map")))

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """Problems with the options: the common ones, layouts, value map and the family's own."""
        problems = check_options(config, cls.defaults)
        family = layouts(cls.family)
        _, _, named = config.format.partition(".")
        wanted = config.options.get("layouts", [named] if named else list(family))
        if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
            problems.append("layouts: expected a list of layout names")
        else:
            problems += [
                f"layouts: no {cls.family} layout named {w!r} (known: {', '.join(family)})"
                for w in wanted
                if w not in family
            ]
        problems += _length_problems(config.options.get("lengths", {}), list(family.values()))
        try:
            load_value_map(config.options.get("value_map"))
        except ValueMapError as exc:
            problems.append(str(exc))
        return problems

    def writer(self, file: FileInfo, open_output: Opener) -> LayoutWriter:
        """A writer for the records of one input file."""
        return LayoutWriter(self, file, open_output)

    @classmethod
    def variants(cls) -> tuple[str, ...]:
        """One format per layout of the family: `sage100.shipment` takes that layout only."""
        return tuple(layouts(cls.family))


def with_lengths(layout: Layout, lengths: dict[str, int]) -> Layout:
    """The layout with the maximum length of the named columns replaced."""
    if not lengths:
        return layout
    records = tuple(
        replace(record, columns=tuple(
            replace(column, max=lengths[column.name]) if column.name in lengths and column.max else column
            for column in record.columns
        ))
        for record in layout.records
    )  # fmt: skip
    return replace(layout, records=records)


def _length_problems(lengths: dict[str, Any], family: list[Layout]) -> list[str]:
    limited = {c.name for lay in family for rec in lay.records for c in rec.columns if c.max}
    problems = []
    for name, length in lengths.items():
        if name not in limited:
            problems.append(f"lengths.{name}: no column of that name has a length")
        elif not isinstance(length, int) or isinstance(length, bool) or not 0 < length <= 4096:
            problems.append(f"lengths.{name}: expected a whole number from 1 to 4096")
    return problems
