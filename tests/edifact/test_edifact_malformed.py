"""Malformed, truncated, wrongly encoded and hostile interchanges give located findings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from helpers_edifact import ORDER, records, validate

from gateway.config import Config

REPO = Path(__file__).resolve().parents[2]


def _file(tmp_path: Path, text: str | bytes, name: str = "orders.edi") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1") if isinstance(text, str) else text)
    return path


def test_good_order_maps(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    (order,), report = records(_file(tmp_path, ORDER), make_config())
    assert report.valid, report.findings
    assert order.ship_to.name == "Müller+Co"  # type: ignore[attr-defined]
    assert order.lines[0].quantity == "12" and order.lines[0].uom == "PCE"  # type: ignore[attr-defined]


def test_non_numeric_quantity_is_located(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    report = validate(_file(tmp_path, ORDER.replace("QTY+21:12:PCE", "QTY+21:abc:PCE")), make_config())
    assert [f.render("orders.edi") for f in report.findings] == [
        "orders.edi: segment 9 (QTY), element 1.2: 'abc': is not numeric"
        " (schema edifact/ORDERS_D96A, QTY 6060 n..15)"
    ]


def test_wrong_counts_and_references(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = ORDER.replace("UNT+10+1'", "UNT+8+2'").replace("UNZ+1+REF1'", "UNZ+3+REF9'")
    codes = [(f.code, f.location["segment"]) for f in validate(_file(tmp_path, text), make_config()).findings]
    assert codes == [("wrong_count", "UNT"), ("wrong_reference", "UNT"), ("wrong_count", "UNZ"),
                     ("wrong_reference", "UNZ")]  # fmt: skip


def test_release_before_a_line_break_deep_in_a_large_file(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """Found where it stands, also among segments the scanner hands on as raw text."""
    from benchmarks.edifact import interchange

    text = interchange(300_000)
    at = text.index("M?'Donald", 200_000)
    index = text.count("'", 0, at) - text.count("?'", 0, at)  # segments before this one
    text = text[:at] + "M?\nDonald" + text[at + len("M?'Donald") :]
    (fault,) = validate(_file(tmp_path, text), make_config()).findings
    assert fault.code == "syntax_error" and fault.message == "a release character before a line break"
    assert fault.location == {"segment_index": index + 1}


def test_truncated_file(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = ORDER[: ORDER.index("UNS")]
    findings = validate(_file(tmp_path, text), make_config()).findings
    assert {f.code for f in findings} >= {"missing_unt", "missing_unz"}
    text = ORDER[: ORDER.index("PRI") + 6]
    (fault,) = validate(_file(tmp_path, text), make_config()).findings
    assert fault.code == "syntax_error" and fault.location == {"segment_index": 10}


def test_lower_case_in_unoa(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = ORDER.replace("UNOC", "UNOA").replace("Müller?+Co", "").replace("PO-1001", "po-1001")
    path = _file(tmp_path, text)
    (finding,) = validate(path, make_config(), strictness="strict").findings
    assert finding.code == "bad_character" and "lower case" in finding.message
    assert finding.location == {"segment": "BGM", "segment_index": 4, "element": 2}
    standard = validate(path, make_config())
    assert standard.valid and standard.warnings == [dataclasses.replace(finding, severity="warning")]


def test_non_ascii_byte_in_unoa(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = ORDER.replace("UNOC", "UNOA").encode("latin-1")
    report = validate(_file(tmp_path, text), make_config())
    assert report.stage == "decode" and report.findings[0].code == "undecodable"
    # Named by its segment (NAD, the seventh) and byte offset.
    assert report.findings[0].location == {"segment": "NAD", "segment_index": 7}
    offset = text.index("ü".encode("latin-1"))
    assert f"byte 0xfc at offset {offset}" in report.findings[0].message


def test_ten_megabytes_without_terminator(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    path = tmp_path / "huge.edi"
    with path.open("w") as fh:
        fh.write("UNB+UNOA:3+S+R+260101:1200+1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++")
        for _ in range(10):
            fh.write("A" * (1 << 20))
    (finding,) = validate(path, make_config()).findings
    assert finding.code == "syntax_error" and "no segment terminator" in finding.message
    assert finding.location == {"segment_index": 3}


def test_garbage_and_empty_segments(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    for text in ("UNB+UNOA:3+S+R+260101:1200+1''UNZ+0+1'", "UNB+UNOA:3'unh+1'", "UNA:+"):
        findings = validate(_file(tmp_path, text), make_config()).findings
        assert findings and all(f.code != "internal_error" for f in findings)


def test_two_interchanges_with_groups_and_bom(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    second = ORDER.replace("REF1", "REF2").replace("PO-1001", "PO-1002").replace("UNA:+.? '\n", "")
    docs, report = records(_file(tmp_path, b"\xef\xbb\xbf" + (ORDER + second).encode()), make_config())
    assert report.valid, report.findings
    assert [d.doc_id for d in docs] == ["PO-1001", "PO-1002"]
    docs, report = records(REPO / "samples/inbound/edifact/invrpt_group.edi", make_config())
    assert report.valid
    lines = docs[0].lines  # type: ignore[attr-defined]
    assert (lines[0].mode, lines[0].quantity_change, lines[0].reason) == ("delta", "-15", "scrapped")
    assert (lines[1].mode, lines[1].counted_quantity) == ("count", "40")


def test_samples_map(make_config: Callable[..., Config]) -> None:
    (shipment,), report = records(REPO / "samples/inbound/edifact/desadv_d96a.edi", make_config())
    assert report.valid
    assert shipment.packages[0].sscc == "354123450000000014"  # type: ignore[attr-defined]
    line = shipment.lines[0]  # type: ignore[attr-defined]
    assert (line.package_sscc, line.lot, line.expiry, line.quantity_shipped) == (
        "354123450000000014",
        "LOT-42",
        "2027-12-31",
        "10",
    )
    (receipt,), report = records(REPO / "samples/inbound/edifact/recadv_d01b_bom.edi", make_config())
    assert report.valid and report.encoding == "utf-8"
    r = receipt.lines[0]  # type: ignore[attr-defined]
    assert (r.quantity_received, r.quantity_rejected, r.reject_reason) == ("8", "2", "DAMAGED")
