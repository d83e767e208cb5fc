"""What a line means, as an EDI analyst reads it: the price per one unit and by which qualifier,
the quantity by the qualifier the message type defines, every item number with its type, GTIN
check digits, and the order an ORDRSP answers. Qualifiers are D.96A's (5125, 5284, 6063, 7143)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers_edifact import records

from gateway.config import Config

HEADER = {
    "ORDERS": ["BGM+220+PO-1+9'", "DTM+137:20261126:102'", "NAD+BY+5412345000013::9'"],
    "ORDRSP": ["BGM+231+RSP-1+4'", "DTM+137:20261126:102'", "NAD+BY+5412345000013::9'"],
    "DESADV": ["BGM+351+DES-1+9'", "DTM+137:20261126:102'", "RFF+ON:PO-1'", "CPS+1'"],
    "RECADV": [
        "BGM+632+REC-1+9'",
        "DTM+137:20261126:102'",
        "RFF+ON:PO-1'",
        "NAD+DP+5412345000037::9'",
        "CPS+1'",
    ],
    "INVRPT": ["BGM+35+ADJ-1+9'", "DTM+137:20261126:102'", "NAD+WH+5412345000037::9'"],
}
# D.96A INVRPT has no summary section; DESADV and RECADV count their lines without UNS.
TAIL: dict[str, list[str]] = {"INVRPT": [], "DESADV": ["CNT+2:1'"], "RECADV": ["CNT+2:1'"]}


def _read(
    tmp_path: Path,
    make_config: Callable[..., Config],
    kind: str,
    lines: list[str],
    head: list[str] | None = None,
) -> tuple[Any, Any]:
    """The records and report of one D.96A message of type `kind` with these detail segments."""
    body = [
        "UNH+1+" + kind + ":D:96A:UN:EAN008'",
        *(head or HEADER[kind]),
        *lines,
        *TAIL.get(kind, ["UNS+S'"]),
    ]
    text = "\n".join(
        ["UNB+UNOC:3+5412345000013:14+4012345000009:14+261126:1200+R1'", *body, f"UNT+{len(body) + 1}+1'",
         "UNZ+1+R1'"]
    )  # fmt: skip
    path = tmp_path / f"{kind.lower()}.edi"
    path.write_bytes(text.encode("latin-1"))
    return records(path, make_config())


def _line(tmp_path: Path, make_config: Callable[..., Config], kind: str, lines: list[str]) -> dict[str, Any]:
    """The only line of a message that must map without findings."""
    docs, report = _read(tmp_path, make_config, kind, lines)
    assert report.findings == []
    (line,) = docs[0].to_dict()["lines"]
    return line  # type: ignore[no-any-return]


def _finding(
    tmp_path: Path, make_config: Callable[..., Config], kind: str, lines: list[str]
) -> tuple[Any, ...]:
    """The only finding of a message that must not map: code, segment, element, component, value."""
    docs, report = _read(tmp_path, make_config, kind, lines)
    assert docs == []
    (f,) = report.findings
    return f.code, f.location["segment"], f.location.get("element"), f.location.get("component"), f.value


EAN = "LIN+1++4000862141404:EN'"


# Price: C509 is 5125 qualifier, 5118 price, 5375 type, 5387 type qualifier, 5284 basis, 6411 unit.


def test_a_price_per_hundred_is_a_hundredth_per_unit(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    line = _line(tmp_path, make_config, "ORDERS", [EAN, "QTY+21:300'", "PRI+AAA:24.1:::100'"])
    assert line["unit_price"] == "0.241"
    assert line["extensions"] == {
        "item_ids": {"EN": "4000862141404"}, "price_qualifier": "AAA", "price_basis": "100"
    }  # fmt: skip


def test_a_price_per_zero_units_is_refused(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    for basis in ("0", "-100"):
        finding = _finding(tmp_path, make_config, "ORDERS", [EAN, "QTY+21:3'", f"PRI+AAA:24.1:::{basis}'"])
        assert finding == ("unmappable", "PRI", 1, 5, basis)


def test_net_price_is_taken_before_gross_and_both_are_kept(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    line = _line(
        tmp_path, make_config, "ORDERS", [EAN, "QTY+21:10'", "PRI+AAB:30:::10:PCE'", "PRI+AAA:2.75'"]
    )
    assert line["unit_price"] == "2.75"
    assert line["extensions"]["price_qualifier"] == "AAA"
    assert line["extensions"]["prices"] == {"AAB": "3"}  # 30 per 10 pieces


def test_a_gross_only_price_says_it_is_gross(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    line = _line(tmp_path, make_config, "ORDERS", [EAN, "QTY+21:10'", "PRI+AAB:30:::10:PCE'"])
    assert line["unit_price"] == "3"
    ext = line["extensions"]
    assert (ext["price_qualifier"], ext["price_basis"], ext["price_basis_unit"]) == ("AAB", "10", "PCE")


def test_an_information_price_is_never_the_unit_price(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    # AAE: information price, excluding allowances or charges, including taxes (a shelf price).
    line = _line(tmp_path, make_config, "ORDERS", [EAN, "QTY+21:10'", "PRI+AAE:4.99'"])
    assert line["unit_price"] is None and line["extensions"]["prices"] == {"AAE": "4.99"}


# Quantities (6063): 21 ordered, 12 despatch, 48 received, 194 received and accepted, 145 stock.


def test_units_per_pack_are_not_the_ordered_quantity(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    line = _line(tmp_path, make_config, "ORDERS", [EAN, "QTY+59:6'", "QTY+21:12'", "QTY+192:1'"])
    assert line["quantity"] == "12"
    assert line["extensions"]["quantities"] == {"59": "6", "192": "1"}


@pytest.mark.parametrize(
    ("kind", "lines"),
    [
        ("ORDERS", [EAN, "QTY+59:6'"]),  # units per pack only
        ("ORDRSP", [EAN, "QTY+113:6'"]),  # quantity to be delivered is not the ordered one
        ("DESADV", [EAN, "QTY+21:12'"]),  # ordered, but nothing says what was despatched
        ("RECADV", [EAN, "QTY+47:10'"]),  # invoiced is not received
        ("INVRPT", [EAN, "QTY+59:6'"]),  # no stock figure, no movement
    ],
)
def test_a_line_without_its_message_types_quantity_is_refused(
    tmp_path: Path, make_config: Callable[..., Config], kind: str, lines: list[str]
) -> None:
    code, segment, element, _, value = _finding(tmp_path, make_config, kind, lines)
    assert (code, segment, element, value) == ("missing_quantity", "LIN", 1, "1")


def test_desadv_despatched_and_ordered(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    line = _line(tmp_path, make_config, "DESADV", [EAN, "QTY+21:12'", "QTY+12:10'", "QTY+192:1'"])
    assert (line["quantity"], line["quantity_shipped"], line["quantity_ordered"]) == ("10", "10", "12")
    assert line["extensions"]["quantities"] == {"192": "1"}


def test_recadv_received_and_rejected(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = [EAN, "QTY+12:10'", "QTY+48:9'", "QTY+196:1'", "QTY+47:10'"]
    line = _line(tmp_path, make_config, "RECADV", lines)
    assert (line["quantity_received"], line["quantity_expected"]) == ("9", "10")
    assert line["quantity_rejected"] == "1"  # 196: received, not accepted, to be destroyed
    assert line["extensions"]["quantities"] == {"47": "10"}


def test_invrpt_takes_a_movement_only_under_its_inv(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    # D.96A's group is QTY then its INV: units per pack in a group of their own only inform.
    line = _line(tmp_path, make_config, "INVRPT", [EAN, "QTY+59:6'", "QTY+156:15:PCE'", "INV+1++3'"])
    assert (line["line_no"], line["mode"], line["quantity_change"]) == ("1", "delta", "-15")
    assert line["uom"] == "PCE"
    assert line["extensions"]["quantities"] == {"59": "6"}
    # A movement without an INV has no direction: it is no stock change.
    code, segment, *_ = _finding(tmp_path, make_config, "INVRPT", [EAN, "QTY+156:15:PCE'"])
    assert (code, segment) == ("missing_quantity", "LIN")


# Item numbers (7143) in LIN C212 and PIA (4347 function, then C212 up to five times).


def test_isbn_and_buyers_item_number_in_pia(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lines = ["LIN+1'", "PIA+5+9781234567897:IB'", "PIA+1+ART-77:BY'", "QTY+21:2'"]
    line = _line(tmp_path, make_config, "ORDERS", lines)
    assert (line["gtin"], line["buyer_sku"], line["sku"]) == ("9781234567897", "ART-77", None)
    assert line["extensions"]["item_ids"] == {"IB": "9781234567897", "BY": "ART-77"}


def test_a_hyphenated_isbn_13_is_the_books_ean(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    line = _line(tmp_path, make_config, "ORDERS", ["LIN+1'", "PIA+5+978-3-16-148410-0:IB'", "QTY+21:1'"])
    assert line["gtin"] == "9783161484100"
    assert line["extensions"]["item_ids"] == {"IB": "978-3-16-148410-0"}


def test_every_item_number_is_kept_with_its_type(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    # An ISBN-10 is no GTIN: kept, but the supplier's number (the first of SA/VN/MF) is the sku.
    lines = ["LIN+1'", "PIA+5+0306406152:IB+V-9:VN+S-1:SA'", "PIA+1+M-3:MF+B-4:BP+I-5:IN'", "QTY+21:2'"]
    line = _line(tmp_path, make_config, "ORDERS", lines)
    assert (line["gtin"], line["sku"], line["buyer_sku"]) == (None, "V-9", "B-4")
    assert line["extensions"]["item_ids"] == {
        "IB": "0306406152", "VN": "V-9", "SA": "S-1", "MF": "M-3", "BP": "B-4", "IN": "I-5"
    }  # fmt: skip


def test_an_untyped_number_is_a_gtin_only_if_it_proves_one(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    line = _line(tmp_path, make_config, "ORDERS", ["LIN+1'", "PIA+5+9781234567897'", "QTY+21:1'"])
    assert line["gtin"] == "9781234567897"
    lines = ["LIN+1'", "PIA+5+4000862141405'", "PIA+1+S-1:SA'", "QTY+21:1'"]
    line = _line(tmp_path, make_config, "ORDERS", lines)
    assert (line["gtin"], line["sku"]) == (None, "S-1")
    assert line["extensions"]["untyped_item_ids"] == ["4000862141405"]


@pytest.mark.parametrize(
    ("item", "where"),
    [
        (["LIN+1++8712345678901:EN'"], ("LIN", 3, 1, "8712345678901")),  # the check digit is 6
        (["LIN+1++GTIN1233456:EN'"], ("LIN", 3, 1, "GTIN1233456")),
        (["LIN+1++03600029145:UP'"], ("LIN", 3, 1, "03600029145")),  # a UPC-A has 12 digits
        ([EAN, "PIA+1+S-1:SA+9781234567890:IB'"], ("PIA", 3, 1, "9781234567890")),  # ISBN ends 7
    ],
)
def test_a_gtin_with_a_wrong_check_digit_is_refused(
    tmp_path: Path, make_config: Callable[..., Config], item: list[str], where: tuple[Any, ...]
) -> None:
    code, *location = _finding(tmp_path, make_config, "ORDERS", [*item, "QTY+21:1'"])
    assert (code, *location) == ("bad_check_digit", *where)


def test_a_line_that_names_no_item_is_refused(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    docs, report = _read(tmp_path, make_config, "ORDERS", ["LIN+1'", "PIA+5+ABC-1'", "QTY+21:1'"])
    (f,) = report.findings
    assert docs == [] and (f.code, f.location["segment"]) == ("missing_item", "LIN")
    assert "only ABC-1" in f.message


# ORDRSP: BGM is the response's own number; the order it answers is RFF+ON.


def test_ordrsp_order_number_comes_from_rff_on(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    head = [*HEADER["ORDRSP"][:2], "RFF+ON:PO-1001'", HEADER["ORDRSP"][2]]
    (rsp,), _ = _read(tmp_path, make_config, "ORDRSP", [EAN, "QTY+21:10'"], head)
    assert (rsp.doc_id, rsp.order_number, rsp.customer_po) == ("RSP-1", "PO-1001", "PO-1001")
    (rsp,), report = _read(tmp_path, make_config, "ORDRSP", [EAN, "QTY+21:10'"])
    assert report.findings == []
    assert (rsp.doc_id, rsp.order_number, rsp.customer_po) == ("RSP-1", None, None)


def test_every_line_that_cannot_be_read_is_reported_at_once(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    lines = ["LIN+1++8712345678901:EN'", "QTY+21:1'", EAN.replace("+1+", "+2+"), "QTY+59:6'",
             "LIN+3++4000862141411:EN'", "QTY+21:4'"]  # fmt: skip
    docs, report = _read(tmp_path, make_config, "ORDERS", lines)
    assert docs == []
    assert [(f.code, f.location["segment"], f.location["segment_index"]) for f in report.findings] == [
        ("bad_check_digit", "LIN", 6),
        ("missing_quantity", "LIN", 8),
    ]
