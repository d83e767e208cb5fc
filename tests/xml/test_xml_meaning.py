"""XML read by meaning: a price is per one unit whatever basis it is given for, and a GTIN is a
GTIN (check digit verified), as in the EDIFACT and IDoc mappings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import check
from gateway.config import Config

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "inbound" / "xml"


def read(path: Path, config: Config) -> tuple[list[dict[str, object]], check.Report]:
    report = check.Report(path)
    return [r.to_dict() for r in check.read(path, config, config.sources[0], report)], report


def variant(tmp_path: Path, sample: str, old: str, new: str) -> Path:
    """A bundled sample with one passage changed (so the rest stays a valid document)."""
    text = (SAMPLES / sample).read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / sample
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("basis", "unit_price", "kept"),
    [("100", "0.025", "100"), ("1", "2.50", None), ("0.5", "5.0", "0.5")],
)
def test_a_ubl_price_for_a_base_quantity_is_read_per_one_unit(
    tmp_path: Path, make_config: Callable[..., Config], basis: str, unit_price: str, kept: str | None
) -> None:
    path = variant(
        tmp_path, "ubl_order.xml", '<cbc:PriceAmount currencyID="EUR">2.50</cbc:PriceAmount>',
        f'<cbc:PriceAmount currencyID="EUR">2.50</cbc:PriceAmount><cbc:BaseQuantity unitCode="EA">{basis}'
        "</cbc:BaseQuantity>",
    )  # fmt: skip
    (order,), report = read(path, make_config())
    assert report.valid, report.findings
    line = order["lines"][0]  # type: ignore[index]
    assert line["unit_price"] == unit_price
    assert line["extensions"].get("price_basis") == kept
    assert order["lines"][1]["unit_price"] == "10"  # type: ignore[index]


def test_a_ubl_price_for_zero_units_is_a_located_finding(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    path = variant(
        tmp_path, "ubl_order.xml", '<cbc:PriceAmount currencyID="EUR">2.50</cbc:PriceAmount>',
        '<cbc:PriceAmount currencyID="EUR">2.50</cbc:PriceAmount><cbc:BaseQuantity>0</cbc:BaseQuantity>',
    )  # fmt: skip
    _, report = read(path, make_config())
    (finding,) = report.findings
    assert finding.code == "invalid_value" and finding.value == "2.50"
    assert "for '0' units" in finding.message
    assert finding.location["xpath"].endswith("cac:Price/cbc:PriceAmount")


def test_a_ubl_gtin_with_a_wrong_check_digit_is_refused_where_it_is(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    path = variant(tmp_path, "ubl_order.xml", ">4006381333931<", ">4006381333932<")
    _, report = read(path, make_config())
    (finding,) = report.findings
    assert (finding.code, finding.value) == ("bad_check_digit", "4006381333932")
    assert finding.message == "has a wrong check digit: 2, the GS1 check digit is 1"
    assert finding.location["line"] == 51
    assert finding.location["xpath"].endswith("cac:StandardItemIdentification/cbc:ID")


def test_a_ten_digit_number_is_not_taken_as_a_gtin(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    path = variant(tmp_path, "ubl_order.xml", ">4006381333931<", ">1122334455<")
    _, report = read(path, make_config())
    assert [(f.code, f.message) for f in report.findings] == [
        ("bad_check_digit", "is not a GTIN: 10 digits, a GTIN has 8, 12, 13 or 14")
    ]


def test_a_cxml_price_basis_quantity_gives_the_price_of_one_unit(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    path = variant(
        tmp_path, "cxml_order_request.xml", "</UnitPrice>",
        '</UnitPrice><PriceBasisQuantity quantity="12" conversionFactor="1"><UnitOfMeasure>EA</UnitOfMeasure>'
        "</PriceBasisQuantity>",
    )  # fmt: skip
    (order,), report = read(path, make_config())
    assert report.valid, report.findings
    line = order["lines"][0]  # type: ignore[index]
    assert (line["unit_price"], line["extensions"]["price_basis"]) == ("0.875", "12")
