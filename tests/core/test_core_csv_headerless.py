"""CSV files without a header row: a layout with `header = false` and columns by position."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway import resources
from gateway.config import Config
from gateway.formats.csv.schema import layouts, load_layout
from tests.core.test_core_csv import read, write

#: A WMS export of pick confirmations: order, line, item, quantity, a column nobody reads, a date.
LAYOUT = """\
layout = "site.picks"
doc_type = "shipment"
key = ["shipment_id"]
header = false
width = 6

[[column]]
name = "shipment_id"
required = true

[[column]]
name = "line_no"
to = "line.line_no"

[[column]]
name = "sku"
to = "line.sku"
required = true

[[column]]
name = "quantity"
type = "decimal"
to = "line.quantity"
required = true

[[column]]
name = "ship_date"
position = 6
type = "date"
formats = ["%d.%m.%Y"]
"""


@pytest.fixture(name="cfg")
def _cfg(tmp_path: Path, make_config: Callable[..., Config]) -> Iterator[Config]:
    site = tmp_path / "site"
    (site / "csv").mkdir(parents=True)
    (site / "csv" / "picks.toml").write_text(LAYOUT, encoding="utf-8")
    config = make_config()  # a configuration without schemas_dir sets the shipped ones alone
    resources.use_site_schemas(site)
    yield config
    resources.use_site_schemas(None)


def test_columns_by_position(tmp_path: Path, cfg: Config) -> None:
    rows = ["S-1;1;AB-1;4;x;03.02.2026", "S-1;2;AB-2;1.5;;03.02.2026", "S-2;1;CD-9;10;;04.02.2026"]
    path = write(tmp_path, "\n".join(rows) + "\n")
    records, findings = read(path, cfg, csv_layout="site.picks")
    assert findings == []
    first, second = (r.to_dict() for r in records)
    assert (first["shipment_id"], first["ship_date"]) == ("S-1", "2026-02-03")
    assert [(ln["line_no"], ln["sku"], ln["quantity"]) for ln in first["lines"]] == [
        ("1", "AB-1", "4"), ("2", "AB-2", "1.5"),
    ]  # fmt: skip
    assert (second["shipment_id"], second["lines"][0]["sku"]) == ("S-2", "CD-9")


def test_a_first_row_that_repeats_the_column_names_is_not_data(tmp_path: Path, cfg: Config) -> None:
    path = write(tmp_path, "shipment_id,line_no,sku,quantity,note,ship_date\nS-1,1,AB-1,4,,03.02.2026\n")
    records, findings = read(path, cfg, csv_layout="site.picks")
    assert findings == []
    assert [r.to_dict()["shipment_id"] for r in records] == ["S-1"]


def test_malformed_rows_are_findings_with_line_and_position(tmp_path: Path, cfg: Config) -> None:
    text = (
        "S-1,1,AB-1,4,,03.02.2026\n"  # line 1: fine
        "S-1,2,AB-2,four,,03.02.2026\n"  # line 2: quantity (field 4) is not a number
        "S-1,3,,1,,31.02.2026\n"  # line 3: no sku (field 3), no such date (field 6)
        "S-1,4,AB-4,1\n"  # line 4: four fields of six
        'S-1,5,"AB-5,1,,03.02.2026\n'  # line 5: a quote never closed
    )
    records, findings = read(write(tmp_path, text), cfg, csv_layout="site.picks")
    assert records == []
    got = [(f.code, *(f.location.get(k) for k in ("line", "column", "position"))) for f in findings]
    assert got == [
        ("not_numeric", 2, "quantity", 4),
        ("required", 3, "sku", 3),
        ("bad_date", 3, "ship_date", 6),
        ("ragged_row", 4, None, None),
        ("malformed_csv", 5, None, None),
    ]
    assert findings[0].value == "four"
    assert "layout site.picks has 6" in findings[3].message


def test_without_csv_layout_the_miss_names_the_headerless_layouts(tmp_path: Path, cfg: Config) -> None:
    _, findings = read(write(tmp_path, "S-1,1,AB-1,4,,03.02.2026\n"), cfg)
    assert findings[0].code == "unknown_layout"
    assert "csv_layout (site.picks)" in findings[0].message


def test_a_headerless_layout_is_never_recognised_from_a_header(cfg: Config) -> None:
    picks = layouts()["site.picks"]
    assert (picks.has_header, picks.recognise, picks.width) == (False, False, 6)
    assert picks.positions == ["shipment_id", "line_no", "sku", "quantity", "", "ship_date"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("width = 6", "width = 4"),  # narrower than the last position
        ("position = 6", "position = 2"),  # a field number taken twice
        ('[[column]]\nname = "line_no"', '[[column]]\nname = "sku"'),  # a name taken twice
    ],
)
def test_layout_mistakes_are_refused(tmp_path: Path, change: str, problem: str) -> None:
    assert change in LAYOUT
    path = tmp_path / "bad.toml"
    path.write_text(LAYOUT.replace(change, problem, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.toml"):
        load_layout(path)
