"""D01B (EANCOM 2002) against D96A: the lengths, representations and segment tables that differ."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_edifact import records, validate

from gateway.config import Config

UNB = "UNB+UNOC:3+5412345000013:14+4012345000009:14+261126:1200+R{n}'\n"
VERSIONS = {"D96A": "D:96A:UN:EAN008", "D01B": "D:01B:UN:EAN010"}


def _file(tmp_path: Path, kind: str, directory: str, body: list[str]) -> Path:
    segs = [f"UNH+1+{kind}:{VERSIONS[directory]}'", *body]
    text = UNB.format(n=1) + "\n".join(segs) + f"\nUNT+{len(segs) + 1}+1'\nUNZ+1+R1'"
    path = tmp_path / f"{kind}_{directory}.edi"
    path.write_bytes(text.encode("latin-1"))
    return path


def _order(ftx: str = "", rff: str = "ON:PO-7", line: str = "1", total: str = "") -> list[str]:
    body = ["BGM+220+PO-7+9'", "DTM+137:20261126:102'"]
    body += [f"FTX+AAI+++{ftx}'"] if ftx else []
    body += [f"RFF+{rff}'", "NAD+BY+5412345000013::9'", f"LIN+{line}++4000862141404:SRV'", "QTY+21:5'"]
    body.append("UNS+S'")
    return body + ([f"MOA+86:{total}'"] if total else [])


@pytest.mark.parametrize(
    ("order", "code", "rule"),
    [
        ({"ftx": "x" * 71}, "too_long", "FTX 4440 an..70"),  # an..512 in D01B
        ({"rff": "ON:" + "7" * 36}, "too_long", "RFF 1154 an..35"),  # an..70
        ({"total": "1" * 19}, "too_long", "MOA 5004 n..18"),  # n..35
        ({"line": "10A"}, "not_numeric", "LIN 1082 n..6"),  # an..6
    ],
)
def test_value_within_d01b_but_not_d96a(
    tmp_path: Path, make_config: Callable[..., Config], order: dict[str, str], code: str, rule: str
) -> None:
    d96a = validate(_file(tmp_path, "ORDERS", "D96A", _order(**order)), make_config()).findings
    assert [(f.code, f.rule) for f in d96a] == [(code, f"schema edifact/ORDERS_D96A, {rule}")]
    (order_doc,), report = records(_file(tmp_path, "ORDERS", "D01B", _order(**order)), make_config())
    assert report.valid, report.findings
    assert order_doc.lines[0].gtin == "4000862141404"  # type: ignore[attr-defined]


def test_d01b_limits_still_hold(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    (finding,) = validate(_file(tmp_path, "ORDERS", "D01B", _order(ftx="x" * 513)), make_config()).findings
    assert (finding.code, finding.rule) == ("too_long", "schema edifact/ORDERS_D01B, FTX 4440 an..512")


def test_header_item_descriptions_repeat_in_d01b(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    body = _order()
    body[2:2] = ["IMD+F++:::Fresh'", "IMD+F++:::Frozen'"]  # IMD is C 1 in D96A ORDERS, C 999 in D01B
    (finding,) = validate(_file(tmp_path, "ORDERS", "D96A", body), make_config()).findings
    assert (finding.code, finding.location["segment"]) == ("too_many_repetitions", "IMD")
    assert validate(_file(tmp_path, "ORDERS", "D01B", body), make_config()).valid


PRICAT = ["BGM+9+PL-2027+9'", "DTM+137:20261126:102'", "NAD+BY+5412345000013::9'", "CUX+2:EUR:8'",
          "PGI+11'", "LIN+1++4000862141404:SRV'", "PIA+5+W-1:SA'", "IMD+F++:::Widget'",
          "PRI+AAA:2.50::::PCE'"]  # fmt: skip


def test_pricat_lines_sit_in_the_product_group(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    (price_list, product), report = records(_file(tmp_path, "PRICAT", "D01B", PRICAT), make_config())
    assert report.valid, report.findings
    assert price_list.lines[0].unit_price == "2.50" and product.sku == "W-1"  # type: ignore[attr-defined]
    # D.01B nests the line group (SG36) in the product group (SG17): no LIN without a PGI before it.
    without = [s for s in PRICAT if not s.startswith("PGI")]
    (finding,) = validate(_file(tmp_path, "PRICAT", "D01B", without), make_config()).findings
    assert (finding.code, finding.location["segment"]) == ("unexpected_segment", "LIN")
    # D.96A nests its line group (SG33) in the product group (SG16) too: the same holds there.
    assert validate(_file(tmp_path, "PRICAT", "D96A", PRICAT), make_config()).valid
    (finding,) = validate(_file(tmp_path, "PRICAT", "D96A", without), make_config()).findings
    assert (finding.code, finding.location["segment"]) == ("unexpected_segment", "LIN")


INVRPT = ["BGM+35+ADJ-1001+9'", "DTM+137:202611261030:203'", "NAD+WH+5412345000037::9'",
          "LIN+1++4000862141404:SRV'", "INV+1++3'", "QTY+156:15:PCE'", "LOC+18+A-01-01'",
          "LIN+2++4000862141411:SRV'", "INV++1+4'", "QTY+145:40:PCE'"]  # fmt: skip


def test_invrpt_quantities_belong_to_an_inv_group(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    (adjustment,), report = records(_file(tmp_path, "INVRPT", "D01B", INVRPT), make_config())
    assert report.valid, report.findings
    first, second = adjustment.lines  # type: ignore[attr-defined]
    assert (first.quantity_change, first.reason, first.location) == ("-15", "scrapped", "A-01-01")
    assert (second.mode, second.counted_quantity) == ("count", "40")
    # D.01B INVRPT has no summary section and no line-level QTY.
    for body, segment in (([*INVRPT, "UNS+S'"], "UNS"), ([*INVRPT[:4], "QTY+145:3'"], "QTY")):
        (finding,) = validate(_file(tmp_path, "INVRPT", "D01B", body), make_config()).findings
        assert (finding.code, finding.location["segment"]) == ("unexpected_segment", segment)


def test_desadv_packing_hierarchy(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    body = ["BGM+351+DES-1+9'", "DTM+11:20261126:102'", "RFF+ON:PO-1001'", "NAD+SF+5412345000020::9'",
            "CPS+1'", "CPS+HU-000000000000000000000000000001+1'", "PAC+1++201'", "PCI+33E'",
            "GIN+BJ+354123450000000014'", "LIN+1++4000862141404:SRV'", "QTY+12:10:PCE'", "PCI+36E'",
            "DTM+361:20271231:102'", "GIN+BX+LOT-42'", "CNT+2:1'"]  # fmt: skip
    (shipment,), report = records(_file(tmp_path, "DESADV", "D01B", body), make_config())
    assert report.valid, report.findings  # CPS an..35 (an..12 in D96A), batch GIN in the line's PCI group
    line = shipment.lines[0]  # type: ignore[attr-defined]
    assert (line.package_sscc, line.lot, line.expiry) == ("354123450000000014", "LOT-42", "2027-12-31")
    d96a = validate(_file(tmp_path, "DESADV", "D96A", body), make_config()).findings
    assert ("too_long", "schema edifact/DESADV_D96A, CPS 7164 an..12") in [(f.code, f.rule) for f in d96a]
