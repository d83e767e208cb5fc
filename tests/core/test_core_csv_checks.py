"""The compiled column checks say exactly what the pandas checks they replaced said.

`check_chunk` below is the reader's former code (pandas operations over object columns, dates by
the same parser), kept here as the reference the plain-Python checks are held to.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.findings import Code
from gateway.formats.csv.checks import check_values
from gateway.formats.csv.schema import (
    DECIMAL,
    DEFAULT_DATETIME_FORMATS,
    FALSE,
    INTEGER,
    TRUE,
    Column,
    date_parser,
    layouts,
)  # fmt: skip

COLUMNS = [
    Column("s", required=True, max_length=5),
    Column("p", pattern=r"[A-Z]{2}-\d+"),
    Column("i", type="integer", required=True),
    Column("d", type="decimal", max_length=8),
    Column("day", type="date", formats=("%Y-%m-%d", "%d.%m.%Y")),
    Column("at", type="datetime", formats=DEFAULT_DATETIME_FORMATS),
    Column("b", type="boolean"),
    Column("e", type="enum", values=("delta", "count")),
]

# Values near each type's edges: signs, dots, dates out of pandas' range, zones, case, blanks.
CELLS = st.one_of(
    st.sampled_from([
        "", "0", "+1", "-2", "1.", ".5", "+.5", "1e3", "12345678", "AB-12", "ab-12", "AB-", "delta",
        "Delta", "count", "true", "YES", "n", "0", "2", "2026-11-26", "2026-02-30", "26.11.2026",
        "1677-09-21", "1677-09-22", "2262-04-11", "2262-04-12", "9999-12-31", "0001-01-01",
        "2026-11-26T10:00:00", "2026-11-26T10:00:00+01:00", "2026-11-26T10:00:00Z",
        "2026-11-26 23:59:59", "2026-1-5", "2026-11-26T25:00:00",
    ]),
    st.text(alphabet="0123456789+-.:TZ AB", max_size=12),
)  # fmt: skip


def check_chunk(
    column: Column, values: pd.Series, lines: list[int]
) -> tuple[pd.Series, Iterator[tuple[int, str, Code, str]]]:
    """Check one column of a chunk; return normalised values and (line, value, code, message)."""
    present = values != ""
    problems: list[tuple[pd.Series, Code, str]] = []
    if column.required:
        problems.append((~present, Code.REQUIRED, "a value is required"))
    if column.max_length:
        too_long = present & (values.str.len() > column.max_length)
        problems.append((too_long, Code.TOO_LONG, f"longer than {column.max_length} characters"))
    if column.pattern:
        problems.append((present & ~values.str.fullmatch(column.pattern), Code.PATTERN,
                         "does not match the pattern"))  # fmt: skip
    normalised = values
    if column.type in ("integer", "decimal"):
        regex = INTEGER if column.type == "integer" else DECIMAL
        bad = present & ~values.str.fullmatch(regex)
        kind = "an integer" if regex == INTEGER else "a decimal"
        problems.append((bad, Code.NOT_NUMERIC, f"is not {kind}"))
        normalised = values.str.lstrip("+")
    elif column.type in ("date", "datetime"):
        normalised, bad = _dates(column, values)
        problems.append((present & bad, Code.BAD_DATE, "is not a valid date"))
    elif column.type == "boolean":
        lower = values.str.lower()
        problems.append((present & ~lower.isin(TRUE | FALSE), Code.NOT_BOOLEAN, "is not true or false"))
        normalised = lower.map(lambda v: True if v in TRUE else (False if v in FALSE else None))
    elif column.type == "enum":
        problems.append((present & ~values.isin(column.values), Code.NOT_ALLOWED, "is not an allowed value"))

    def found() -> Iterator[tuple[int, str, Code, str]]:
        for mask, code, message in problems:
            for i in mask.to_numpy().nonzero()[0]:
                yield lines[i], str(values.iat[int(i)]), code, message

    return normalised, found()


def _dates(column: Column, values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each value's ISO text by the first format that reads it ("" for none), and where none did."""
    text = values.map(date_parser(column))
    return text.fillna(""), text.isna()


def pandas_says(column: Column, values: list[str]) -> tuple[list[Any], list[Any]]:
    normalised, problems = check_chunk(column, pd.Series(values, dtype=object), list(range(len(values))))
    return normalised.tolist(), list(problems)


def python_says(column: Column, values: list[str]) -> tuple[list[Any], list[Any]]:
    normalised, problems = check_values(column, values, list(range(len(values))))
    return list(normalised), list(problems)


@settings(max_examples=150, deadline=None)
@given(column=st.sampled_from(COLUMNS), values=st.lists(CELLS, min_size=1, max_size=8))
def test_small_chunks_are_judged_as_pandas_judges_them(column: Column, values: list[str]) -> None:
    assert python_says(column, values) == pandas_says(column, values)


def test_every_shipped_column_agrees_on_typical_and_broken_cells() -> None:
    cells = ["", "A-1", "12", "+3.50", "x", "2026-11-26", "2026-11-26T08:30:00", "yes", "delta", " "]
    checked = 0
    for layout in layouts().values():
        for column in layout.columns:
            assert python_says(column, cells) == pandas_says(column, cells), (layout.name, column.name)
            checked += 1
    assert checked > 50
