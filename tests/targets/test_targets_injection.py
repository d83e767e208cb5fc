"""CSV injection and colliding document names in delimited targets (the hardening issue)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from tests.targets.test_targets_hostile import OPTIONS
from tests.targets.test_targets_rules import customer, so, write

HUMAN_FACING = ["sage100", "netsuite", "quickbooks_online", "canonical_csv"]
#: Short enough for Sage's 15-character PO number with the leading quote.
FORMULAS = ['=HYPERLINK("")', "+cmd|'/C'!A0", "-2+3", "@SUM(A1)"]
#: What a spreadsheet runs: a cell starting so, unless it is a plain number.
RUNS = re.compile(r"[=+\-@\t\r](?![0-9.eE+-]*$)")


def doc_with(fmt: str, text: str) -> dict[str, Any]:
    """A document whose one free-text field the target writes carries `text`."""
    if fmt == "quickbooks_online":
        return {"doc_type": "product", "doc_id": "P1", "sku": "P1", "description": text}
    return so(customer_po=text)


def written(fmt: str, text: str, **options: Any) -> tuple[list[str], list[str]]:
    findings, memory = write(fmt, [doc_with(fmt, text)], **OPTIONS.get(fmt, {}), **options)
    # Every value in these tests is ASCII, whatever the target's encoding.
    cells = [c for data in memory.data.values() for row in csv.reader(io.StringIO(data.decode("latin-1")))
             for c in row]  # fmt: skip
    return [f.code for f in findings], cells


@pytest.mark.parametrize("fmt", HUMAN_FACING)
@pytest.mark.parametrize("text", FORMULAS)
def test_formula_text_is_quoted_by_default(fmt: str, text: str) -> None:
    codes, cells = written(fmt, text)
    assert codes == []
    assert "'" + text in cells
    assert [c for c in cells if RUNS.match(c)] == []


@pytest.mark.parametrize("fmt", HUMAN_FACING)
def test_refuse_makes_it_a_finding(fmt: str) -> None:
    codes, cells = written(fmt, "=1+2", formula_guard="refuse")
    assert codes == ["formula_injection"]
    assert cells == []


@pytest.mark.parametrize("fmt", HUMAN_FACING)
def test_off_writes_it_verbatim(fmt: str) -> None:
    codes, cells = written(fmt, "=1+2", formula_guard="off")
    assert codes == []
    assert "=1+2" in cells


@pytest.mark.parametrize("number", ["-15", "+2.5", "-0.75", "-1e3"])
def test_numbers_are_untouched(number: str) -> None:
    codes, cells = written("canonical_csv", number)
    assert codes == []
    assert number in cells


def test_the_neutralising_quote_must_fit_the_column() -> None:
    codes, cells = written("sage100", "=" + "9" * 13 + "x")  # 15 characters: the quote makes 16
    assert codes == ["too_long"]
    assert cells == []


def test_colliding_document_names_get_suffixes_not_overwrites() -> None:
    docs = [customer(doc_id=i, customer_id=i, name=f"N{n}") for n, i in enumerate(["C/1", "C_1", "C 1"])]
    findings, memory = write("canonical_csv", docs, split="document", file_name="{doc_id}.{file_id}.csv")
    assert findings == []
    assert sorted(memory.data) == ["C_1.F1.csv", "C_1.F1~2.csv", "C_1.F1~3.csv"]
    ids = sorted(next(csv.DictReader(io.StringIO(d.decode())))["customer_id"] for d in memory.data.values())
    assert ids == ["C 1", "C/1", "C_1"]
