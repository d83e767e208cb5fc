"""CSV in: decode, sniff the dialect, recognise the layout, check every cell, assemble documents.

The stdlib tokenizer reads rows because it knows where each row starts (a quoted field may span
lines, and a finding must name the line a person sees in an editor) and it reports ragged rows
instead of padding them. Rows are then checked a chunk at a time (checks.py), so memory stays
flat however long the file is, and consecutive rows with the same key become one document.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from typing import Any, ClassVar, cast

from gateway import options as opt
from gateway.canonical.build import record_from_dict
from gateway.canonical.records import Record
from gateway.canonical.shapes import RecordData
from gateway.errors import InvalidContent, reject
from gateway.findings import Code
from gateway.formats.base import ReadContext
from gateway.formats.csv.checks import check_values
from gateway.formats.csv.schema import Column, Layout, layouts, recognise
from gateway.formats.csv.table import DocumentBuilder, compile_paths
from gateway.formats.encoding import first_error

CHUNK_ROWS = 5000
MAX_LINE = 1 << 20
#: Real layouts have tens of columns; a header of hundreds of thousands is an attack or an accident.
MAX_COLUMNS = 10_000
DELIMITERS = ",;\t|"


class LineTooLong(Exception):
    """A physical line longer than any real CSV row: stop instead of buffering it."""


def _lines(stream: io.TextIOBase, limit: int) -> Iterator[str]:
    number = 0
    while line := stream.readline(limit + 1):
        number += 1
        if len(line) > limit:
            raise LineTooLong
        if "\x00" in line:
            # Detection only sees the first 4 KB; a NUL further on would be copied into outputs.
            raise reject(InvalidContent, Code.BINARY, "a NUL character: binary content in a text file",
                         line=number, column=line.index("\x00") + 1, rule="text formats only")  # fmt: skip
        yield line


def sniff_delimiter(first_line: str) -> str:
    """The candidate delimiter that occurs most often outside quotes in the header line."""
    unquoted = first_line.split('"')[::2]
    counts = {d: sum(part.count(d) for part in unquoted) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _one_character(delimiter: str) -> str | None:
    return None if len(delimiter) == 1 and delimiter not in '"\r\n' else "must be one character, not a quote"


def _known_layout(name: str) -> str | None:
    return None if name in layouts() else f"no CSV layout named {name!r} (have {', '.join(layouts())})"


class CsvReader:
    """Delimited text with a header row, in one of the layouts of `schemas/csv/`."""

    name: ClassVar[str] = "csv"
    order: ClassVar[int] = 100  # the catch-all: asked last
    offload: ClassVar[bool] = False  # its records cost about what they take to read: moving them does not pay
    options: ClassVar[tuple[opt.Option, ...]] = (
        opt.text(
            "csv_delimiter",
            None,
            "the delimiter of every file; default: sniffed from the header",
            rule=_one_character,
        ),
        opt.text(
            "csv_layout",
            None,
            "the layout of every file; default: recognised by the header",
            rule=_known_layout,
        ),
        opt.count("csv_max_line", MAX_LINE, "the longest line accepted, in characters"),
        opt.count("csv_max_columns", MAX_COLUMNS, "the most header columns accepted"),
    )

    @staticmethod
    def sniff(head: bytes) -> bool:
        """Any text is a CSV candidate; detection asks the other formats first."""
        return b"\x00" not in head

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        """Yield one record per document; every bad cell is a finding with line and column."""
        encoding = ctx.decide_encoding()
        options = ctx.file.source.options
        with ctx.file.path.open("rb") as raw:
            raw.seek(encoding.bom)
            text = io.TextIOWrapper(raw, encoding=encoding.name, newline="", errors="strict")
            try:
                yield from self._rows(ctx, text, options)
            except UnicodeDecodeError as exc:
                # Named where it is: the decoder saw only a buffer, so the file is read again.
                bad = first_error(ctx.file.path, encoding.name, encoding.bom)
                at = f" (byte offset {bad[0]}, character {bad[2]} of the line)" if bad else ""
                where: dict[str, Any] = {"line": bad[1]} if bad else {}
                message = f"not valid {encoding.name}: {exc.reason}{at}"
                rule = f"encoding {encoding.name} ({encoding.method})"
                raise reject(InvalidContent, Code.UNDECODABLE, message, rule=rule, **where) from exc
            finally:
                text.detach()

    def _rows(self, ctx: ReadContext, text: io.TextIOWrapper, options: dict[str, Any]) -> Iterator[Record]:
        ctx.stage = "validate"
        lines = _lines(text, int(options.get("csv_max_line", MAX_LINE)))
        try:
            first = next(lines, "")
        except LineTooLong:
            raise reject(InvalidContent, Code.LINE_TOO_LONG, "the header line is too long", line=1,
                         rule=f"csv_max_line {MAX_LINE}") from None  # fmt: skip
        delimiter = options.get("csv_delimiter") or sniff_delimiter(first)

        def all_lines() -> Iterator[str]:
            yield first
            yield from lines

        reader = csv.reader(all_lines(), delimiter=delimiter, quotechar='"', strict=True)
        positional = layouts().get(options.get("csv_layout") or "")
        if positional is not None and not positional.has_header:
            yield from _Assembler(ctx, positional, positional.positions).run(reader)
            return
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise reject(InvalidContent, Code.EMPTY, "the file has no header row", line=1) from None
        except csv.Error as exc:  # a quote left open in the header runs to the end of the file
            raise reject(InvalidContent, Code.MALFORMED_CSV, f"the header row cannot be read: {exc}",
                         line=1) from None  # fmt: skip
        limit = int(options.get("csv_max_columns", MAX_COLUMNS))
        if len(header) > limit:
            raise reject(InvalidContent, Code.TOO_MANY_COLUMNS, f"the header has {len(header)} columns",
                         line=1, rule=f"csv_max_columns {limit}")  # fmt: skip
        layout = self._layout(ctx, header, options)
        if layout is None:
            return
        yield from _Assembler(ctx, layout, header).run(reader)

    @staticmethod
    def _layout(ctx: ReadContext, header: list[str], options: dict[str, Any]) -> Layout | None:
        seen: set[str] = set()
        for name in header:
            if name in seen:
                ctx.add(Code.DUPLICATE_COLUMN, "the column appears twice", line=1, column=name)
            seen.add(name)
        named = options.get("csv_layout")
        if named:
            layout = layouts().get(named)
            if layout is None:
                ctx.add(Code.UNKNOWN_LAYOUT, f"no CSV layout named {named!r}", rule="source csv_layout")
                return None
            closest: Layout | None = layout
        else:
            layout, closest = recognise(header)
        if layout is not None:
            return layout
        if closest is None:
            ctx.add(Code.UNKNOWN_LAYOUT, "no CSV layouts are installed", line=1)
            return None
        missing, unknown = closest.matches(header)
        known = len(header) - len(unknown)
        if not named:
            headerless = [name for name, lay in layouts().items() if not lay.has_header]
            hint = f"; a file without a header row names its layout with csv_layout ({', '.join(headerless)})"
            ctx.add(
                Code.UNKNOWN_LAYOUT,
                f"the header matches no layout; the closest is {closest.name}"
                f" ({known} of {len(header)} columns known)" + (hint if headerless else ""),
                line=1,
            )
        rule = f"layout {closest.name}"
        for name in missing:
            ctx.add(Code.MISSING_COLUMN, "required column is missing", line=1, column=name, rule=rule)
        for name in unknown:
            ctx.add(Code.UNKNOWN_COLUMN, "column is not in the layout", line=1, column=name, rule=rule)
        # Check the known columns too, so one run shows every problem in the file.
        return closest if known else None


def _missing(other: list[str], wanted: str, values: list[str]) -> list[int]:
    """Rows where `other` is `wanted` and `values` is empty."""
    return [n for n, (o, v) in enumerate(zip(other, values, strict=True)) if o == wanted and not v]


class _Assembler:
    """Checks rows a chunk at a time and groups consecutive rows into documents."""

    def __init__(self, ctx: ReadContext, layout: Layout, header: list[str]) -> None:
        self.ctx = ctx
        self.layout = layout
        self.header = header
        self.columns: list[Column | None] = [layout.by_name.get(h) for h in header]
        self.key_at = [header.index(k.lower()) for k in layout.key if k.lower() in header]
        self.steps = compile_paths([(i, c.name, c.to) for i, c in enumerate(self.columns) if c is not None])
        self.key: tuple[str, ...] | None = None
        self.builder: DocumentBuilder | None = None
        self.started: dict[tuple[str, ...], int] = {}

    def run(self, reader: Any) -> Iterator[Record]:
        chunk: list[list[str]] = []
        lines: list[int] = []
        last_line = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except LineTooLong:
                self.ctx.add(Code.LINE_TOO_LONG, "a line is longer than any real row; reading stopped",
                             line=reader.line_num + 1, rule="csv_max_line")  # fmt: skip
                break
            except csv.Error as exc:
                hint = " (a quote opened here is never closed)" if "end of data" in str(exc) else ""
                self.ctx.add(Code.MALFORMED_CSV, f"{exc}{hint}; reading stopped", line=last_line + 1)
                break
            start, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if start == 1 and not self.layout.has_header and self._is_header(row):
                continue  # a header row after all: its names are the layout's, nothing to read
            if len(row) != len(self.header):
                self.ctx.add(
                    Code.RAGGED_ROW, f"has {len(row)} fields, the {self.shape} has {len(self.header)}",
                    line=start, rule=f"every row has the {self.shape}'s columns",
                )  # fmt: skip
                continue
            chunk.append(row)
            lines.append(start)
            if len(chunk) >= CHUNK_ROWS:
                yield from self._chunk(chunk, lines)
                chunk, lines = [], []
        if chunk:
            yield from self._chunk(chunk, lines)
        if self.builder is not None:
            yield from self._finish()

    @property
    def shape(self) -> str:
        """What fixes a row's fields: the file's header, or a headerless layout."""
        return "header" if self.layout.has_header else f"layout {self.layout.name}"

    def _is_header(self, row: list[str]) -> bool:
        named = [(cell, name) for cell, name in zip(row, self.header, strict=False) if name]
        return len(row) == len(self.header) and all(c.strip().lower() == n for c, n in named)

    def _where(self, column: Column) -> dict[str, Any]:
        """A cell's location: the column name, and in a headerless file its field number."""
        return {"column": column.name, **({"position": column.position} if column.position else {})}

    def _chunk(self, rows: list[list[str]], lines: list[int]) -> Iterator[Record]:
        values: list[list[Any]] = []
        bad_rows: set[int] = set()
        stripped = [[row[i].strip() for row in rows] for i in range(len(self.header))]
        for i, column in enumerate(self.columns):
            if column is None:
                values.append([None] * len(rows))
                continue
            normalised, problems = check_values(column, stripped[i], lines)
            if column.required_when and column.required_when[0] in self.header:
                other, wanted = column.required_when
                missing = _missing(stripped[self.header.index(other)], wanted, stripped[i])
                problems = itertools.chain(problems, (
                    (lines[n], "", Code.REQUIRED, f"a value is required when {other} is {wanted}")
                    for n in missing
                ))  # fmt: skip
            for line, value, code, message in problems:
                errors = len(self.ctx.findings)
                self.ctx.add(code, message, value=value, line=line, **self._where(column),
                             rule=f"{self.layout.name}.{column.name}: {column.rule}")  # fmt: skip
                if len(self.ctx.findings) > errors:  # a warning keeps the row and its value
                    bad_rows.add(line)
            values.append(list(normalised))
        by_row = list(zip(*values, strict=True))
        for r, row in enumerate(rows):
            key = tuple(row[i].strip() for i in self.key_at)
            if key != self.key:
                if self.builder is not None:
                    yield from self._finish()
                self._start(key, lines[r])
            if lines[r] in bad_rows or self.ctx.findings:
                continue  # the file will be quarantined; keep checking, stop building
            assert self.builder is not None
            self.builder.add(lines[r], row, by_row[r])

    def _start(self, key: tuple[str, ...], line: int) -> None:
        first = self.started.get(key)
        if first is not None:
            self.ctx.add(
                Code.SPLIT_DOCUMENT, f"rows of this document are not consecutive (first on line {first})",
                line=line, column=self.layout.key[0], value="/".join(key),
                rule="consecutive rows with the same key form one document",
            )  # fmt: skip
        self.started.setdefault(key, line)
        self.key = key
        self.builder = DocumentBuilder(self.layout.item, self.steps, self._contradiction)

    def _contradiction(self, line: int, column: str, value: str, message: str) -> None:
        self.ctx.add(Code.INCONSISTENT_HEADER, message, value=value, line=line, column=column,
                     rule="header fields repeat unchanged on every row of a document")  # fmt: skip

    def _finish(self) -> Iterator[Record]:
        assert self.builder is not None and self.key is not None
        builder, self.builder = self.builder, None
        if self.ctx.findings:
            return
        doc_id = "/".join(self.key)
        self.ctx.key(self.layout.doc_type, doc_id)
        # The layout's `to` paths were checked against the canonical names when it was loaded.
        data = cast("RecordData", {
            "doc_type": self.layout.doc_type,
            "doc_id": doc_id,
            "source": self.ctx.lineage(),
            **builder.document(),
        })  # fmt: skip
        self.ctx.stage = "map"
        try:
            yield record_from_dict(data)
        except (TypeError, ValueError) as exc:
            self.ctx.add(Code.UNMAPPABLE, str(exc), line=self.started[self.key], rule=self.layout.name)
        self.ctx.stage = "validate"
