"""Record layouts as data: which rows a canonical document becomes, column by column.

A layout file (`schemas/sage100/`, `schemas/netsuite/`, `schemas/quickbooks_iif/`,
`schemas/quickbooks_online/`) names the document type it takes and its record types in the
order they are written. Each record type is written once per document (`each = "document"`)
or once per element of a list (`each = "lines"`, `"tracking_numbers"`, `"ship_to"`), and
each column says where its value comes from and the rules the consumer enforces:

| key        | meaning                                                                     |
|------------|-----------------------------------------------------------------------------|
| `name`     | the column header (for Sage: the VI field it fills)                          |
| `from`     | a canonical path: `order_number`, `ship_to.city`, `item.sku` (the row's element), |
|            | `#` (its number), `option.customer` (a target option); a list: the first present |
| `value`    | a constant                                                                  |
| `kind`     | text, code (upper-case), date, decimal, zerofill, division, customer_no,    |
|            | join (values joined by `separator`), product (of the paths, rounded to `scale`), |
|            | total (sum of `product` over the `over` list: balancing rows)               |
| `max`      | the longest value the consumer stores                                        |
| `scale`, `digits` | decimals allowed, and digits in all (`14.6`: 8 before the point, 6 after) |
| `width`    | zerofill width                                                               |
| `negate`   | write the number with the opposite sign (IIF credit rows)                    |
| `map`      | a value-map kind: warehouse, uom, carrier, reason_code, ...                  |
| `required` | true, or the rule that explains why the value is needed                     |
| `default`  | used when the canonical value is missing                                     |

A layout may also set `when`/`unless` (a path that must be present/absent for the layout to
take a document) and `limits` (`{ "ship_to.address_lines" = 3 }`: more entries are refused).

A value that breaks a rule is a finding naming the column and the rule: the document is not
written, and nothing is ever truncated or rounded to fit (`product` rounds money to `scale`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from gateway import resources
from gateway.canonical.build import element_type, path_problem
from gateway.canonical.records import RECORD_TYPES
from gateway.findings import Code
from gateway.valuemaps import Unmapped, ValueMap

KINDS = ("text", "code", "date", "decimal", "zerofill", "division", "customer_no", "join", "product", "total")
DIVISION = re.compile(r"^(\d{1,2})-(.+)$")
MAX_EXPONENT = 30


class RuleBroken(Exception):
    """A value the consumer cannot take: (code, message, rule)."""

    def __init__(self, code: Code, message: str, rule: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a record type."""

    name: str
    path: tuple[str, ...] = ()
    value: str | None = None
    kind: str = "text"
    max: int | None = None
    scale: int | None = None
    digits: int | None = None
    width: int | None = None
    map: str | None = None
    required: str | None = None
    default: str | None = None
    separator: str = ","
    negate: bool = False
    over: str = "lines"
    days_option: str | None = None
    note: str = ""

    def rule(self) -> str:
        """The column's rules, as a finding quotes them."""
        parts = [self.kind]
        if self.max:
            parts.append(f"max {self.max}")
        if self.digits is not None or self.scale is not None:
            parts.append(f"{self.digits or ''}.{self.scale or 0}")
        if self.width:
            parts.append(f"zero-filled to {self.width}")
        if self.kind == "code":
            parts.append("upper-case")
        return f"{self.name}: {', '.join(parts)}"


@dataclass(frozen=True)
class RecordSpec:
    """A record type: its tag, what it repeats over, its columns."""

    type: str
    each: str
    columns: tuple[ColumnSpec, ...]
    table: str = ""
    job: str = ""


@dataclass(frozen=True)
class Layout:
    """A target layout: the records one document becomes."""

    name: str
    doc_type: str
    records: tuple[RecordSpec, ...]
    title: str = ""
    when: str | None = None
    unless: str | None = None
    limits: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def takes(self, doc: dict[str, Any]) -> bool:
        """Whether this layout is the one for a document of its type."""
        if doc.get("doc_type") != self.doc_type:
            return False
        if self.when and not resolve(doc, self.when):
            return False
        return not (self.unless and resolve(doc, self.unless))


COLUMN_KEYS = {"name", "from", "value", "kind", "max", "scale", "digits", "width", "map", "required",
               "default", "separator", "negate", "over", "days_option", "note"}  # fmt: skip


def _column(raw: dict[str, Any], where: str) -> ColumnSpec:
    unknown = sorted(set(raw) - COLUMN_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown column key(s) {', '.join(unknown)}")
    kind = raw.get("kind", "text")
    if kind not in KINDS:
        raise ValueError(f"{where}.kind: unknown kind {kind!r}")
    source = raw.get("from", ())
    required = raw.get("required")
    return ColumnSpec(
        name=raw["name"],
        path=tuple(source) if isinstance(source, list) else ((source,) if source else ()),
        value=raw.get("value"),
        kind=kind,
        max=raw.get("max"),
        scale=raw.get("scale"),
        digits=raw.get("digits"),
        width=raw.get("width"),
        map=raw.get("map"),
        required=("required" if required is True else required) or None,
        default=raw.get("default"),
        separator=raw.get("separator", ","),
        negate=bool(raw.get("negate", False)),
        over=raw.get("over", "lines"),
        days_option=raw.get("days_option"),
        note=raw.get("note", ""),
    )


def _unknown_paths(data: dict[str, Any], records: tuple[RecordSpec, ...]) -> list[str]:
    """Every canonical path of a layout that names no canonical field, with its key."""
    record = RECORD_TYPES.get(data["doc_type"])
    if record is None:
        return [f"doc_type: {data['doc_type']!r} is not a canonical document type"]
    paths = [(key, data[key]) for key in ("when", "unless") if data.get(key)]
    paths += [(f"limits.{key}", key) for key in data.get("limits", {})]
    found = [f"{key}: {problem}" for key, p in paths if (problem := path_problem(record, p))]
    return found + [
        f"record[{i}].{column.name}.from: {p!r}: {problem}"
        for i, rec in enumerate(records)
        for column in rec.columns
        for p in column.path
        if (problem := _source_problem(record, column.over if column.kind == "total" else rec.each, p))
    ]


def _source_problem(record: type[Any], each: str, path: str) -> str | None:
    """Why a column's `from` path names nothing (`item.` is an element of `each`), or None."""
    head, _, rest = path.partition(".")
    if head in ("#", "option"):
        return None
    if head != "item":
        return path_problem(record, path)
    if each == "document":
        return "`item` is an element of `each`, and this record is written once per document"
    item, problem = element_type(record, each), path_problem(record, each)
    if problem or not rest:
        return problem
    return path_problem(item, rest) if item is not None else f"the elements of {each} are values"


def load_layout(path: Path) -> Layout:
    """Read one layout file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    records = tuple(
        RecordSpec(
            type=rec.get("type", ""),
            each=rec.get("each", "document"),
            table=rec.get("table", ""),
            job=rec.get("job", data.get("table", "")),
            columns=tuple(_column(c, f"{path.name}.record[{i}].{c.get('name')}") for c in rec["columns"]),
        )
        for i, rec in enumerate(data["record"])
    )
    known = {"layout", "doc_type", "record", "title", "when", "unless", "limits"}
    problems = _unknown_paths(data, records)
    if problems:
        raise ValueError(f"{path.name}: " + "; ".join(problems))
    return Layout(
        name=data.get("layout", path.stem),
        doc_type=data["doc_type"],
        records=records,
        title=data.get("title", ""),
        when=data.get("when"),
        unless=data.get("unless"),
        limits=dict(data.get("limits", {})),
        extra={k: v for k, v in data.items() if k not in known},
    )


@resources.cached
def layouts(family: str) -> dict[str, Layout]:
    """Every layout of one target family (`schemas/<family>/*.toml`, and the site's), by name."""
    found = (load_layout(p) for p in resources.listing(family, "[!_]*.toml"))
    return {layout.name: layout for layout in found}


def plain(value: Any) -> Any:
    """A record as nested dicts and lists, like `Record.to_dict` but without its deep copies."""
    if hasattr(value, "__dataclass_fields__"):
        out = {k: plain(v) for k, v in vars(value).items()}
        doc_type = getattr(type(value), "doc_type", None)
        return {"doc_type": doc_type, **out} if isinstance(doc_type, str) else out
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def resolve(data: Any, path: str) -> Any:
    """The value at a dotted path; list elements by index (`address_lines.0`)."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit():
            data = data[int(part)] if int(part) < len(data) else None
        else:
            return None
    return data


@dataclass
class Settings:
    """What columns need from the target's options."""

    value_map: ValueMap = field(default_factory=ValueMap)
    date_format: str = "%Y-%m-%d"
    division: str = "01"
    options: dict[str, Any] = field(default_factory=dict)


def _decimal(text: str, spec: ColumnSpec) -> Decimal:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise RuleBroken(Code.NOT_NUMERIC, "is not a decimal number", spec.rule()) from None
    if not number.is_finite():
        raise RuleBroken(Code.NOT_NUMERIC, "is not a finite number", spec.rule())
    # Written out in full, 1E+999999 is a megabyte of zeros: no consumer takes such a number.
    if number and not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
        raise RuleBroken(Code.TOO_LARGE, f"is beyond the {MAX_EXPONENT} digits any target takes", spec.rule())
    return number


def _check_precision(number: Decimal, spec: ColumnSpec) -> None:
    exponent = number.normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    if spec.scale is not None and decimals > spec.scale:
        raise RuleBroken(
            Code.TOO_PRECISE, f"has {decimals} decimals, at most {spec.scale} are kept", spec.rule()
        )
    integer_digits = number.adjusted() + 1 if abs(number) >= 1 else 0
    if spec.digits is not None and integer_digits > spec.digits - (spec.scale or 0):
        raise RuleBroken(Code.TOO_LARGE, f"does not fit {spec.digits}.{spec.scale or 0} digits", spec.rule())


def _format(raw: Any, spec: ColumnSpec, settings: Settings) -> str:
    """Apply the column's kind and rules to a present value."""
    if isinstance(raw, bool):
        text = "Y" if raw else "N"
    else:
        text = str(raw).strip()
    if spec.kind in ("code", "division", "customer_no"):
        text = text.upper()
    if spec.kind in ("division", "customer_no"):
        found = DIVISION.match(text)
        division, number = (found.group(1), found.group(2)) if found else (settings.division, text)
        text = division.zfill(2) if spec.kind == "division" else number
    elif spec.kind == "date":
        try:
            day = dt.date.fromisoformat(text[:10])
        except ValueError:
            raise RuleBroken(Code.BAD_DATE, "is not an ISO date", spec.rule()) from None
        if spec.days_option:
            day += dt.timedelta(days=int(settings.options.get(spec.days_option, 0)))
        text = day.strftime(settings.date_format)
    elif spec.kind == "decimal":
        number = _decimal(text, spec)
        _check_precision(number, spec)
        number = -number if spec.negate else number
        text = format(number.normalize(), "f") if number else "0"
    elif spec.kind == "zerofill":
        if not text.isdigit():
            raise RuleBroken(Code.NOT_NUMERIC, "must be digits only", spec.rule())
        text = text.zfill(spec.width or 0)
        if spec.width and len(text) > spec.width:
            raise RuleBroken(Code.TOO_LONG, f"longer than {spec.width} digits", spec.rule())
    if spec.max is not None and len(text) > spec.max:
        raise RuleBroken(Code.TOO_LONG, f"is {len(text)} characters, at most {spec.max} fit", spec.rule())
    return text


def product(values: list[Any], spec: ColumnSpec) -> Decimal:
    """The product of the values, rounded half-up to `scale` (money to cents)."""
    total = Decimal(1)
    for value in values:
        total *= _decimal(str(value), spec)
    scale = spec.scale if spec.scale is not None else 2
    return total.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def _amount(spec: ColumnSpec, doc: dict[str, Any], items: list[Any], settings: Settings) -> str:
    """A `product` for one row, or a `total` of row products over a list (balancing rows)."""
    total = Decimal(0)
    for n, item in enumerate(items, 1):
        values = [scoped(doc, item, n, settings, p) for p in spec.path]
        if any(v in (None, "") for v in values):
            if spec.required:
                raise RuleBroken(Code.REQUIRED, "a value is required", f"{spec.name}: {spec.required}")
            return ""
        try:
            total += product(values, spec)
        except InvalidOperation:
            raise RuleBroken(Code.TOO_LARGE, "is too large to compute", spec.rule()) from None
    return format(-total if spec.negate else total, "f")


def scoped(doc: dict[str, Any], item: Any, index: int, settings: Settings, path: str) -> Any:
    """A column path's value: `item.` the row's element, `#` its number, `option.` an option."""
    head, _, rest = path.partition(".")
    if head == "item":
        return resolve(item, rest) if rest else item
    if head == "#":
        return str(index)
    if head == "option":
        return resolve(settings.options, rest)
    return resolve(doc, path)


def cell(spec: ColumnSpec, doc: dict[str, Any], item: Any, index: int, settings: Settings) -> str:
    """The text of one column for one row; `RuleBroken` when the value cannot be written."""
    if spec.value is not None:
        return spec.value
    if spec.kind == "product":
        return _amount(spec, doc, [item], settings)
    if spec.kind == "total":
        return _amount(spec, doc, elements(doc, spec.over), settings)
    values = [scoped(doc, item, index, settings, p) for p in spec.path]
    if spec.kind == "join":
        flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
        raw: Any = spec.separator.join(str(v).strip() for v in flat if v not in (None, "")) or None
    else:
        raw = next((v for v in values if v not in (None, "", [])), None)
    if raw is None:
        raw = spec.default
    if raw is None:
        if spec.required:
            raise RuleBroken(Code.REQUIRED, "a value is required", f"{spec.name}: {spec.required}")
        return ""
    if spec.map:
        try:
            raw = settings.value_map.apply(spec.map, str(raw))
        except Unmapped as exc:
            raise RuleBroken(Code.UNMAPPED_VALUE, str(exc), f"{spec.name}: value map {exc.source}") from None
    return _format(raw, spec, settings)


def elements(doc: dict[str, Any], each: str) -> list[Any]:
    """What a record type repeats over: the document itself, or a list in it."""
    if each == "document":
        return [None]
    found = resolve(doc, each)
    return list(found) if isinstance(found, list) else []
