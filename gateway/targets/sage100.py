"""Sage 100 Visual Integrator imports: delimited files a VI job reads, one layout per job.

Sage 100 has no import API worth the name; its administrators define VI import jobs that read
a delimited file into a table. The layouts in `schemas/sage100/` say which rows each canonical
document becomes and hold Sage's field rules (upper-case codes, lengths, division + customer
number, YYYYMMDD dates, 16.6 quantities), so a document Sage would reject or truncate is
refused here with the field and rule named. `job_definition` renders, from the same data, the
VI job an administrator sets up; `deploy/sage100/` ships those texts.

Formats: `sage100` takes every layout (chosen by document type; a receipt with a PO number is a
Receipt of Goods, one without is an inventory receipt, type 8); `sage100.<layout>` takes one.
"""

from __future__ import annotations

import re
from typing import ClassVar

from gateway.config import TargetConfig
from gateway.options import Option, text
from gateway.targets.delimited import Defaults
from gateway.targets.layout import Layout, Settings
from gateway.targets.tabular import LayoutTarget, header_rows
from gateway.valuemaps import load as load_value_map

DATE_FORMAT = "%Y%m%d"
DIVISION = re.compile(r"^\d{1,2}$")
PATH_WORDS = {"#": "the sequence number 1, 2, 3 ...", "item": "each value of the list"}


class Sage100Target(LayoutTarget):
    """Sage 100 VI delimited files, Windows-1252 and CRLF by default."""

    format: ClassVar[str] = "sage100"
    family: ClassVar[str] = "sage100"
    defaults: ClassVar[Defaults] = Defaults(
        "{layout}.{stem}.{file_id}.csv", encoding="cp1252", line_ending="crlf", header=True
    )
    extra_options: ClassVar[tuple[Option, ...]] = (
        text("ar_division", "01", "the AR division of a customer number that has none"),
    )

    @classmethod
    def make_settings(cls, config: TargetConfig) -> Settings:
        """Sage dates are YYYYMMDD; a bare customer number belongs to `ar_division`."""
        division = str(config.options.get("ar_division", "01")).zfill(2)
        value_map = load_value_map(config.options.get("value_map"))
        return Settings(value_map=value_map, date_format=DATE_FORMAT, division=division)

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """The layout-target checks, and a two-digit AR division."""
        problems = super().check(config)
        division = config.options.get("ar_division", "01")
        if isinstance(division, str) and not DIVISION.match(division):
            problems.append("ar_division: must be one or two digits, such as '01'")
        return problems


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "Use ASCII 9 (tab)", ",": "comma (,)"}.get(delimiter, repr(delimiter))


def job_definition(layout: Layout, delimiter: str = ",", header: bool = True) -> str:
    """The VI import job(s) an administrator defines for `layout`, as Markdown."""
    jobs: list[str] = []
    for record in layout.records:
        if record.job not in jobs:
            jobs.append(record.job)
    lines = [f"# Sage 100 VI import: {layout.title}", ""]
    lines += [
        f"Gateway layout `sage100.{layout.name}` (canonical `{layout.doc_type}`"
        + (f", when `{layout.when}` is present" if layout.when else "")
        + (f", when `{layout.unless}` is absent" if layout.unless else "")
        + f"). Generated from `schemas/sage100/{layout.name}.toml`; do not edit by hand.",
        "",
        "The gateway writes Windows-1252, CRLF, one file per input file named "
        "`{layout}.{stem}.{file_id}.csv` (target options `file_name`, `encoding`, `delimiter`, "
        "`line_ending`, `header`, `done_file` change this; with `done_file = true` an empty "
        "`<name>.ok` appears after each data file). Values are already upper-cased where Sage "
        "requires it, dates are YYYYMMDD and quantities have at most 6 decimals.",
        "",
    ]
    first_columns = sorted({rows[0] for rows in header_rows(layout)})
    for n, job in enumerate(jobs, 1):
        records = [r for r in layout.records if r.job == job]
        lines += [f"## Job {n}: table {job}", "", "**Configuration tab**", ""]
        lines += [
            f"- Table Name: `{job}`",
            "- File Type: Delimited",
            f"- Delimiter: {_delimiter_name(delimiter)}",
            f"- Header Separate From Line Record: {'Yes' if len(records) > 1 else 'No'}",
            "- Import File: the file the gateway published in this target's folder (see README.md)",
            "",
            "**Records tab**",
            "",
            "| record type | column | relation | value |",
            "|---|---|---|---|",
        ]
        if header:
            lines += [f"| K (skip the header row) | 1 | = | `{name}` |" for name in first_columns]
        for record in layout.records:
            if record.type in ("S", ""):
                if record.job == job and not header:
                    lines.append("| S (standard) | (every row) | | |")
                elif record.job == job:
                    lines.append("| S (standard) | (every other row) | | |")
                continue
            kind = record.type if record.job == job else "K (skip: another job's record)"
            if record.job == job and record.type not in ("H", "L"):
                kind = "S (standard)"
            lines.append(f"| {kind} | 1 | = | `{record.type}` |")
        lines += ["", "**Data tab** (operation Replace, from the column shown)", ""]
        for record in records:
            label = f"{record.type} record" if record.type not in ("S", "") else "each row"
            lines += [
                f"{label}, table `{record.table}`:",
                "",
                "| column | field | rules | notes |",
                "|---|---|---|---|",
            ]
            for i, column in enumerate(record.columns, 1):
                if column.name == "RecordType":
                    lines.append(f"| {i} | (record type, not imported) | `{column.value}` | |")
                    continue
                source = (
                    f"constant `{column.value}`"
                    if column.value is not None
                    else ", ".join(PATH_WORDS.get(p, f"`{p}`") for p in column.path)
                )
                rules = column.rule().split(": ", 1)[1].replace("date", "date YYYYMMDD", 1)
                if column.required:
                    rules += ", required"
                if column.map:
                    rules += f", value map `{column.map}`"
                note = "; ".join(x for x in (f"from {source}", column.note) if x)
                lines.append(f"| {i} | {column.name} | {rules} | {note} |")
            lines.append("")
        if any(r.type in ("H", "L") for r in records):
            lines += [
                "Fields the gateway does not send are assigned in VI: the entry or receipt number "
                "with operation Next where the table needs one (`EntryNo`, `ReceiptNo`, `InvoiceNo`).",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"
