"""Message mappings beyond the samples: PRICAT, ORDRSP, D01B, groups, syntax 4, several UNAs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers_edifact import ORDER, records, validate

from gateway.config import Config

UNB = "UNB+UNOC:3+5412345000013:14+4012345000009:14+261126:1200+R{n}'\n"


def _write(tmp_path: Path, text: str, name: str = "m.edi") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    return path


def _message(body: list[str], kind: str = "ORDERS:D:96A:UN:EAN008", ref: str = "1") -> str:
    segs = [f"UNH+{ref}+{kind}'", *body]
    return "\n".join(segs) + f"\nUNT+{len(segs) + 1}+{ref}'\n"


def test_pricat_gives_price_list_and_products(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    body = ["BGM+9+PL-2027+9'", "DTM+137:20261126:102'", "DTM+157:20270101:102'", "NAD+BY+5412345000013::9'",
            "CUX+2:EUR:8'", "PGI+11'", "LIN+1++4000862141404:EN'", "PIA+5+W-1:SA'", "IMD+F++:::Widget'",
            "PRI+AAA:2.50::::PCE'", "RNG+4+PCE:10'", "LIN+2++4000862141411:EN'", "PRI+AAB:3'"]  # fmt: skip
    text = UNB.format(n=1) + _message(body, "PRICAT:D:96A:UN:EAN008") + "UNZ+1+R1'"
    docs, report = records(_write(tmp_path, text), make_config())
    assert report.valid, report.findings
    price_list, first, second = docs
    assert price_list.doc_type == "price_list" and price_list.currency == "EUR"  # type: ignore[attr-defined]
    assert price_list.valid_from == "2027-01-01"  # type: ignore[attr-defined]
    line = price_list.lines[0]  # type: ignore[attr-defined]
    assert (line.sku, line.unit_price, line.uom, line.min_quantity) == ("W-1", "2.50", "PCE", "10")
    assert [p.extensions["price_qualifier"] for p in price_list.lines] == ["AAA", "AAB"]  # type: ignore[attr-defined]
    assert (first.doc_type, first.doc_id, first.description) == ("product", "W-1", "Widget")  # type: ignore[attr-defined]
    assert second.gtin == "4000862141411"  # type: ignore[attr-defined]


def test_ordrsp_replaces_the_order(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    body = ["BGM+231+RSP-1+4'", "DTM+137:20261126:102'", "RFF+ON:PO-1001'", "NAD+BY+5412345000013::9'",
            "LIN+1+5+4000862141404:EN'", "QTY+21:10'", "UNS+S'"]  # fmt: skip
    text = UNB.format(n=2) + _message(body, "ORDRSP:D:96A:UN:EAN005") + "UNZ+1+R2'"
    (order,), report = records(_write(tmp_path, text), make_config())
    assert report.valid, report.findings
    assert (order.doc_type, order.function, order.order_number) == ("sales_order", "replace", "PO-1001")  # type: ignore[attr-defined]


def test_d01b_orders(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    body = ["BGM+220+PO-7:1:A+9'", "DTM+137:20261126:102'", "NAD+BY+5412345000013::9'",
            "LIN+1++4000862141404:SRV'", "QTY+21:5'", "UNS+S'"]  # fmt: skip
    text = UNB.format(n=3) + _message(body, "ORDERS:D:01B:UN:EAN010") + "UNZ+1+R3'"
    (order,), report = records(_write(tmp_path, text), make_config(), edifact_orders_as="purchase_order")
    assert report.valid, report.findings
    assert order.doc_type == "purchase_order" and order.po_number == "PO-7"  # type: ignore[attr-defined]
    assert order.lines[0].gtin == "4000862141404"  # type: ignore[attr-defined]


def test_group_counts(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    message = ORDER[ORDER.index("UNH") : ORDER.index("UNZ")]
    text = (UNB.format(n=4) + "UNG+ORDERS+S:14+R:14+261126:1200+G9+UN+D:96A'\n" + message + "UNE+2+G8'\n"
            + "UNZ+1+R4'")  # fmt: skip
    findings = validate(_write(tmp_path, text), make_config()).findings
    assert [(f.code, f.location["segment"], f.rule) for f in findings] == [
        ("wrong_count", "UNE", "UNE 0060"),
        ("wrong_reference", "UNE", "UNE 0048 = UNG 0048"),
    ]


def test_syntax_4_repetitions_are_validated(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = ORDER.replace("UNOC:3", "UNOC:4").replace("261126:1200", "20261126:1200")
    text = text.replace("UNA:+.? '", "UNA:+.?*'").replace(
        "NAD+BY+5412345000013::9'", "NAD+BY+5412345000013::9*X::9'"
    )
    report = validate(_write(tmp_path, text), make_config())
    assert report.valid, report.findings
    bad = text.replace("*X::9'", "*X::ABCD'")
    (finding,) = validate(_write(tmp_path, bad), make_config()).findings
    assert finding.code == "too_long" and finding.value == "ABCD"
    assert finding.location == {"segment": "NAD", "segment_index": 6, "element": 2, "component": 3}


def test_two_unas_with_different_separators(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    second = ORDER.replace("REF1", "REF2").replace("PO-1001", "PO-1002")
    second = (
        second.replace("UNA:+.? '", "UNA#|.! ~").replace("'\n", "~\n").replace("+", "|").replace(":", "#")
    )
    second = second.replace("?|", "!|")
    docs, report = records(_write(tmp_path, ORDER + second), make_config())
    assert report.valid, report.findings
    assert [d.doc_id for d in docs] == ["PO-1001", "PO-1002"]
    assert docs[1].ship_to.name == "Müller|Co"  # type: ignore[attr-defined]


def test_bad_date_in_mapping_is_located(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = ORDER.replace("DTM+137:20261126:102", "DTM+137:20261341:102")
    (finding,) = validate(_write(tmp_path, text), make_config()).findings
    assert finding.code == "unmappable" and finding.value == "20261341"
    assert finding.location == {"segment": "DTM", "segment_index": 5, "element": 1, "component": 2}
