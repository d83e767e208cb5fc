"""What every delimited outbound target shares: its options, its output files, and its rows.

Sage 100 VI, NetSuite, QuickBooks and canonical CSV differ in columns, not in plumbing: each
writes rows of text cells into one file per layout per input file (or per document), in an
encoding its consumer reads, with an optional header row and an optional empty done-file
(`<name>.ok`) that a polling consumer waits for. Files are cut per input file or per
document (`split`); a batch of several input files (batching.py) reaches the writer as one
input whose `{stem}` is `batch` and whose `{file_id}` is the batch id. A cell
that the encoding cannot carry, or that would break the row (a line break, or a delimiter
where quoting is off), is refused with a located finding rather than replaced, because a `?`
in an item code posts to the wrong item.

People open these files in Excel, which runs a cell starting with `=`, `+`, `-`, `@`, tab or
CR as a formula (CSV injection). `formula_guard` neutralises such a text with a leading `'`
(`quote`, the default), refuses it as a finding (`refuse`), or leaves it (`off`); numbers such as
`-15` or `+2.5` are never touched.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.config import TargetConfig
from gateway.findings import Code
from gateway.options import Option, flag, text
from gateway.targets.base import FileInfo, Opener, Output

SPLITS = ("input", "document")
LINE_ENDINGS = {"crlf": "\r\n", "lf": "\n"}
DELIMITER_NAMES = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
FORMULA_GUARDS = ("quote", "refuse", "off")
FORMULA_START = frozenset("=+-@\t\r")
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Defaults:
    """A target's own defaults for the common options."""

    file_name: str
    delimiter: str = ","
    encoding: str = "utf-8"
    line_ending: str = "crlf"
    header: bool = True
    quoting: bool = True
    line_breaks: bool = False
    formula_guard: str = "quote"


@dataclass(frozen=True)
class DelimitedOptions:
    """The common options, checked; build with `parse` after `check` found no problems."""

    file_name: str
    split: str
    delimiter: str
    encoding: str
    line_ending: str
    header: bool
    done_suffix: str | None
    quoting: bool
    line_breaks: bool = False
    formula_guard: str = "quote"

    @classmethod
    def parse(cls, options: dict[str, Any], defaults: Defaults) -> DelimitedOptions:
        """Read the options over the defaults (values already checked)."""
        done = options.get("done_file", False)
        delimiter = str(options.get("delimiter", defaults.delimiter))
        return cls(
            file_name=str(options.get("file_name", defaults.file_name)),
            split=str(options.get("split", "input")),
            delimiter=DELIMITER_NAMES.get(delimiter, delimiter),
            encoding=codecs.lookup(str(options.get("encoding", defaults.encoding))).name,
            line_ending=LINE_ENDINGS[str(options.get("line_ending", defaults.line_ending))],
            header=bool(options.get("header", defaults.header)),
            done_suffix=(".ok" if done is True else str(done)) if done else None,
            quoting=defaults.quoting,
            line_breaks=defaults.line_breaks,
            formula_guard=str(options.get("formula_guard", defaults.formula_guard)),
        )


def common_options(defaults: Defaults) -> tuple[Option, ...]:
    """The options every delimited target takes, with this target's defaults."""
    return (
        text("file_name", defaults.file_name, "the output file name pattern; must contain {file_id}"),
        text("split", "input", "one file per input file, or per document", *SPLITS),
        text("delimiter", defaults.delimiter, "one character, or tab, comma, semicolon, pipe"),
        text("encoding", defaults.encoding, "the character encoding of the files"),
        text("line_ending", defaults.line_ending, "the line ending", *LINE_ENDINGS),
        flag("header", defaults.header, "write a header row"),
        Option("done_file", (bool, str), False, "after each file, an empty one with this suffix (true: .ok)"),
        Option("value_map", (str, dict), None, "a name in schemas/valuemaps/, a .toml path or a table"),
        text("formula_guard", defaults.formula_guard,
             "text a spreadsheet would run as a formula: quote it with ', refuse it, or leave it",
             *FORMULA_GUARDS),
    )  # fmt: skip


def check_options(config: TargetConfig, defaults: Defaults) -> list[str]:
    """What the types of the common options cannot say."""
    opts = config.options
    problems: list[str] = []
    pattern = opts.get("file_name", defaults.file_name)
    if not isinstance(pattern, str) or "{file_id}" not in pattern:
        problems.append("file_name: must contain {file_id}, so that names are deterministic")
    elif "/" in pattern or "\\" in pattern:
        problems.append("file_name: must be a plain file name, without folders")
    if (
        opts.get("split") == "document"
        and isinstance(pattern, str)
        and not {"{doc_id}", "{seq}"} & set(re.findall(r"\{[a-z_]+\}", pattern))
    ):
        problems.append("file_name: with split = 'document' it must contain {doc_id} or {seq}")
    if isinstance(pattern, str) and "{file_id}" in pattern:
        try:
            pattern.format(file_id="f", stem="s", name="n", layout="l", doc_id="d", seq=1, doc_type="t")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"file_name: not a valid pattern: {exc!r}")
    delimiter = opts.get("delimiter", defaults.delimiter)
    delimiter = DELIMITER_NAMES.get(delimiter, delimiter) if isinstance(delimiter, str) else None
    if delimiter is None or len(delimiter) != 1 or delimiter in '\r\n"':
        problems.append("delimiter: must be one character (or tab, comma, semicolon, pipe), not a quote")
    encoding = opts.get("encoding", defaults.encoding)
    try:
        codecs.lookup(str(encoding))
    except LookupError:
        problems.append(f"encoding: unknown encoding {encoding!r}")
    done = opts.get("done_file", False)
    if isinstance(done, str) and not (done.startswith(".") and len(done) > 1):
        problems.append("done_file: expected true, false or a suffix such as '.ok'")
    return problems


def is_formula(value: str) -> bool:
    """Whether a spreadsheet would run `value` as a formula: a formula start that is no number."""
    return value[:1] in FORMULA_START and value != "" and NUMBER.fullmatch(value) is None


def safe_part(text: str) -> str:
    """A document number made safe inside a file name (`SO/1 2` becomes `SO_1_2`)."""
    return UNSAFE_NAME.sub("_", text).strip("._") or "doc"


class RowFile:
    """One output file of rows, opened on its first row."""

    def __init__(self, name: str, out: Output, options: DelimitedOptions) -> None:
        self.name = name
        self.out = out
        self.options = options
        self.fresh = True

    def write_rows(self, rows: Iterable[list[str]]) -> None:
        """Write rows whose cells `cell_problem` accepted."""
        opts = self.options
        if opts.formula_guard == "quote":
            rows = [["'" + c if is_formula(c) else c for c in row] for row in rows]
        if opts.quoting:
            buffer = io.StringIO()
            csv.writer(buffer, delimiter=opts.delimiter, lineterminator=opts.line_ending).writerows(rows)
            text = buffer.getvalue()
        else:
            # Unquoted (IIF): cells go out exactly as they are; `cell_problem` kept framing safe.
            text = "".join(opts.delimiter.join(row) + opts.line_ending for row in rows)
        self.fresh = False
        self.out.write(text.encode(opts.encoding))


def cell_problem(
    value: str, options: DelimitedOptions, max_length: int | None = None
) -> tuple[Code, str, str] | None:
    """(code, message, rule) when a cell cannot be written as it is, else None; `max_length`
    is the column's, which the `'` that neutralises a formula must fit in too."""
    if options.formula_guard == "refuse" and is_formula(value):
        return (
            Code.FORMULA_INJECTION,
            f"starts with {value[0]!r}, which a spreadsheet runs as a formula",
            "formula_guard = 'refuse': text may not start with =, +, -, @, tab or CR",
        )
    if options.formula_guard == "quote" and max_length and len(value) >= max_length and is_formula(value):
        return (
            Code.TOO_LONG,
            f"is {len(value) + 1} characters with the ' that neutralises its formula,"
            f" at most {max_length} fit",
            "formula_guard = 'quote' prefixes text starting with =, +, -, @, tab or CR",
        )
    if ("\r" in value or "\n" in value) and not options.line_breaks:
        return Code.LINE_BREAK, "contains a line break", "one row per line: line breaks are refused"
    if not options.quoting and options.delimiter in value:
        return (
            Code.DELIMITER_IN_VALUE,
            f"contains the delimiter {options.delimiter!r}",
            "unquoted format: values may not contain the delimiter",
        )
    if not options.quoting and value.startswith('"'):
        return (
            Code.LEADING_QUOTE,
            "starts with a double quote, which would be read as quoting",
            "unquoted format: a value may not start with a double quote",
        )
    try:
        value.encode(options.encoding)
    except UnicodeEncodeError as exc:
        bad = value[exc.start : exc.end]
        return (
            Code.UNENCODABLE,
            f"character {bad!r} (U+{ord(bad[0]):04X}) cannot be written in {options.encoding}",
            f"encoding {options.encoding}; characters are never replaced",
        )
    return None


class Outputs:
    """The output files of one writer, keyed by layout (and document when split per document)."""

    def __init__(self, file: FileInfo, open_output: Opener, options: DelimitedOptions) -> None:
        self.file = file
        self.open_output = open_output
        self.options = options
        self.files: dict[tuple[str, int], RowFile] = {}
        self.names: set[str] = set()
        self.seq = 0

    def file_for(self, layout: str, doc_id: str, doc_type: str) -> RowFile:
        """The file a document of `layout` goes to, opened now if it is new."""
        per_doc = self.options.split == "document"
        if per_doc:
            self.seq += 1
        key = (layout, self.seq if per_doc else 0)
        found = self.files.get(key)
        if found is None:
            name = self.file.output_name(
                self.options.file_name,
                layout=safe_part(layout),
                doc_id=safe_part(doc_id),
                seq=self.seq,
                doc_type=doc_type,
            )
            name = self._unique(name)
            found = RowFile(name, self.open_output(name), self.options)
            self.files[key] = found
        return found

    def _unique(self, name: str) -> str:
        """`name`, or `name` with `~2`, `~3`... before its extension when an earlier output of
        this file has it: `SHP/1`, `SHP_1` and `SHP 1` all become `SHP_1` in a file name, and
        one document's output must never overwrite another's. The order of documents in the
        input decides the suffix, so a retry names the outputs the same way."""
        stem, dot, ext = name.rpartition(".")
        stem, dot = (stem, dot) if dot else (name, "")
        candidate, n = name, 1
        while candidate in self.names:
            n += 1
            candidate = f"{stem}~{n}{dot}{ext}"
        self.names.add(candidate)
        return candidate

    def close(self) -> None:
        """Close every data file, then publish the done-files after all of them."""
        for row_file in self.files.values():
            row_file.out.close()
        if self.options.done_suffix:
            # Opened after every data file: the pipeline publishes in opening order.
            for row_file in self.files.values():
                self.open_output(row_file.name + self.options.done_suffix).close()
