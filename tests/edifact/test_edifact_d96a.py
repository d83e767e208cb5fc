"""D96A and D97A as the UN directories define them: the segment and table corrections, pinned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_edifact import records, validate

from gateway.config import Config

UNB = "UNB+UNOC:3+5412345000013:14+4012345000009:14+261126:1200+R1'\n"
VERSIONS = {"D96A": "D:96A:UN:EAN008", "D97A": "D:97A:UN:EAN008", "D01B": "D:01B:UN:EAN010"}


def _file(tmp_path: Path, kind: str, directory: str, body: list[str]) -> Path:
    segs = [f"UNH+1+{kind}:{VERSIONS[directory]}'", *body]
    text = UNB + "\n".join(segs) + f"\nUNT+{len(segs) + 1}+1'\nUNZ+1+R1'"
    path = tmp_path / f"{kind}_{directory}.edi"
    path.write_bytes(text.encode("latin-1"))
    return path


def _found(path: Path, config: Config) -> list[tuple[str, str | None]]:
    """(code, rule) of every schema finding (INVOIC has no mapping: that finding is left out)."""
    return [(f.code, f.rule) for f in validate(path, config).findings if f.code != "no_mapping"]


# The ORDERS header in D.96A order; a case adds segments after the one named.
HEADER = ["BGM+220+PO-7+9'", "DTM+137:20261126:102'", "NAD+BY+5412345000013::9'"]
LINE = ["LIN+1++4000862141404:EN'", "QTY+21:5'", "UNS+S'"]


@pytest.mark.parametrize(
    ("after", "extra", "rule"),
    [
        # PIA C212/7140 is conditional in D.96A (a code list reference alone is a valid PIA).
        ("LIN", ["PIA+5+:SA'"], None),
        # IMD element 2 is the simple element 7081 in D.96A (C272 came later); C273/7009 is an..17.
        ("DTM", ["IMD+F+8:ZZZ'"], ("unexpected_component", "IMD 7081 an..3")),
        ("DTM", ["IMD+F++ABCDEFGHIJ'"], None),
        # FTX C107/4441 is an..3 in D.96A (an..17 from D.97A on).
        ("DTM", ["FTX+AAI++ABCD'"], ("too_long", "FTX 4441 an..3")),
        # FII C078/3194 is an..35 (not an..17).
        ("NAD", ["FII+RB+123456789012345678901'"], None),
        # DOC C503/1366 is an..35 (not an..70).
        ("NAD", ["DOC+220+PO-1::" + "S" * 36 + "'"], ("too_long", "DOC 1366 an..35")),
        # TAX C243 has seven components (5273, 1131, 3055 after 5278).
        ("NAD", ["TAX+7+VAT+++:::19:S'"], None),
        # PAT C110/4277 and PAC C402/7064 (the first) are mandatory in their composites.
        ("NAD", ["PAT+1+:::Net 30'"], ("missing_component", "PAT 4277 an..17")),
        ("NAD", ["PAC+1+++35'"], ("missing_component", "PAC 7064 an..35")),
        # HAN C218/7419 is an..4 (not an..3).
        ("NAD", ["EQD+CN'", "HAN++ABCD'"], None),
    ],
)
def test_d96a_segment_definitions(
    tmp_path: Path,
    make_config: Callable[..., Config],
    after: str,
    extra: list[str],
    rule: tuple[str, str] | None,
) -> None:
    body = [*HEADER, *LINE]
    at = next(i for i, s in enumerate(body) if s.startswith(after)) + 1
    body[at:at] = extra
    found = _found(_file(tmp_path, "ORDERS", "D96A", body), make_config())
    assert found == ([] if rule is None else [(rule[0], f"schema edifact/ORDERS_D96A, {rule[1]}")])


def test_ordrsp_has_its_own_table(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    # ORDRSP D.96A has the adjustment groups SG2 (AJT-FTX) and SG29 (AJT-FTX in the line); ORDERS has none.
    body = ["BGM+231+RSP-1+12'", "DTM+137:20261126:102'", "RFF+ON:PO-1001'", "AJT+AE'",
            "FTX+AAO+++Out of stock'", "NAD+BY+5412345000013::9'", "LIN+1+7+4000862141404:EN'",
            "QTY+21:0'", "AJT+AE+1'", "UNS+S'"]  # fmt: skip
    (order,), report = records(_file(tmp_path, "ORDRSP", "D96A", body), make_config())
    assert report.valid, report.findings  # 1225 12 (not processed) is an EANCOM 97 ORDRSP function
    assert order.order_number == "PO-1001"  # type: ignore[attr-defined]
    orders = [line.replace("231", "220", 1) for line in body]
    (finding,) = validate(_file(tmp_path, "ORDERS", "D96A", orders), make_config()).findings
    assert (finding.code, finding.location["segment"]) == ("unexpected_segment", "AJT")


RECADV = ["BGM+632+REC-1+9'", "DTM+137:20261126:102'", "RFF+DQ:DES-1'", "NAD+DP+5412345000099::9'",
          "CPS+1'", "PAC+2++201'", "QVR+-1:21'", "PCI+33E'", "GIN+BJ+354123450000000014'",
          "LIN+1++4000862141404:EN'", "QTY+194:8'", "QVR+-2:195++:::DAMAGED'", "DTM+361:20271231:102'",
          "RFF+ON:PO-1001'", "PCI+36E'", "QTY+194:8'", "GIN+BX+LOT-42'", "CNT+2:1'"]  # fmt: skip


def test_recadv_follows_eancom_97(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    # SG17 PAC-QVR-SG18 PCI-SG20 GIN; SG22 LIN-QTY-QVR-DTM-SG28 RFF-SG29 PCI-QTY-SG31 GIN.
    (receipt,), report = records(_file(tmp_path, "RECADV", "D96A", RECADV), make_config())
    assert report.valid, report.findings
    line = receipt.lines[0]  # type: ignore[attr-defined]
    assert (line.quantity_received, line.quantity_rejected, line.reject_reason) == ("8", "2", "DAMAGED")
    assert (line.lot, line.expiry) == ("LOT-42", "2027-12-31")
    # The name and address group SG4 is mandatory in D.96A RECADV.
    without = [s for s in RECADV if not s.startswith("NAD")]
    (finding,) = validate(_file(tmp_path, "RECADV", "D96A", without), make_config()).findings
    assert (finding.code, finding.message) == (
        "missing_segment",
        "mandatory group SG4 (NAD) is missing before this segment",
    )


INVOICE = ["BGM+380+INV-1+43'", "DTM+137:20261126:102'", "NAD+SU+5412345000013::9'",
           "LIN+1++4000862141404:EN'", "QTY+47:5'", "MOA+203:12.5'", "UNS+S'", "MOA+77:12.5'"]  # fmt: skip


def test_invoic_summary_amounts_are_mandatory(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    assert _found(_file(tmp_path, "INVOIC", "D96A", INVOICE), make_config()) == []  # 1225 43 is D.96A
    # The summary amounts group SG48 is mandatory.
    found = validate(_file(tmp_path, "INVOIC", "D96A", INVOICE[:-1]), make_config()).findings
    assert [f.message for f in found if f.code == "missing_segment"] == [
        "mandatory group SG48 (MOA) is missing before this segment"
    ]


def test_pricat_product_group_prices_stay_out_of_the_lines(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    # D.96A PRICAT: SG16 PGI (with its own SG18 PRI) holds the line group SG33; no summary section.
    body = ["BGM+9+PL-1+9'", "DTM+137:20261126:102'", "PGI+11'", "LIN+1++4000862141404:EN'",
            "PRI+AAA:2.50'", "PGI+12'", "PRI+AAA:99'", "LIN+2++4000862141411:EN'", "PRI+AAA:3'"]  # fmt: skip
    (price_list, *_), report = records(_file(tmp_path, "PRICAT", "D96A", body), make_config())
    assert report.valid, report.findings
    prices = [(p.gtin, p.unit_price) for p in price_list.lines]  # type: ignore[attr-defined]
    assert prices == [("4000862141404", "2.50"), ("4000862141411", "3")]
    (finding,) = validate(_file(tmp_path, "PRICAT", "D96A", [*body, "UNS+S'"]), make_config()).findings
    assert (finding.code, finding.location["segment"]) == ("unexpected_segment", "UNS")


def test_inv_has_five_components_and_quantity_leads_the_group(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    # D.96A INVRPT SG11 is QTY, INV, GIN, LOC...; INV C522 is 4403, 4401, 1131, 3055, 4400.
    body = ["BGM+35+ADJ-1+9'", "DTM+137:20261126:102'", "NAD+WH+5412345000037::9'",
            "LIN+1++4000862141404:EN'", "QTY+156:15:PCE'", "INV+1++3++1:AA::9:Forklift damage'",
            "LOC+18+A-01-01'", "QTY+145:40:PCE'", "INV++1+4'",
            "LIN+2++4000862141411:EN'", "QTY+145:7'"]  # fmt: skip
    (adjustment,), report = records(_file(tmp_path, "INVRPT", "D96A", body), make_config())
    assert report.valid, report.findings
    first, second, third = adjustment.lines  # type: ignore[attr-defined]
    assert (first.line_no, first.quantity_change, first.reason, first.location) == (
        "1.1",
        "-15",
        "scrapped",
        "A-01-01",
    )
    assert (second.line_no, second.mode, second.counted_quantity, second.reason) == (
        "1.2",
        "count",
        "40",
        "difference",
    )
    assert (third.line_no, third.counted_quantity) == ("2", "7")
    # INV before its QTY is D.01B's order, and D.96A INVRPT has no summary section.
    for moved, segment in ((["INV+1++3'", "QTY+156:15'"], "INV"), (["QTY+156:15'", "UNS+S'"], "UNS")):
        (finding,) = validate(_file(tmp_path, "INVRPT", "D96A", [*body[:4], *moved]), make_config()).findings
        assert (finding.code, finding.location["segment"]) == ("unexpected_segment", segment)


def test_invoic_d97a_has_its_own_table(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    # D.97A: BGM carries C106 (1004:1056:1060), and the line may end with a GIS group (SG48).
    d97a = ["BGM+380+INV-1:2+43'", *INVOICE[1:6], "GIS+37'", *INVOICE[6:]]
    assert _found(_file(tmp_path, "INVOIC", "D97A", d97a), make_config()) == []
    found = _found(_file(tmp_path, "INVOIC", "D96A", d97a), make_config())
    assert found == [
        ("unexpected_segment", "schema edifact/INVOIC_D96A"),
        ("unexpected_component", "schema edifact/INVOIC_D96A, BGM 1004 an..35"),
    ]
    # Its summary amounts group is SG49 (SG48 is the line's GIS group).
    found = validate(_file(tmp_path, "INVOIC", "D97A", INVOICE[:-1]), make_config()).findings
    assert [f.message for f in found if f.code == "missing_segment"] == [
        "mandatory group SG49 (MOA) is missing before this segment"
    ]
