"""Each EDIFACT deviation real senders make, at each strictness level; and what stays an error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_edifact import records, validate

from gateway.config import Config
from gateway.errors import Finding

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "strictness"
SAP = "edifact/sap-samples__ORDERS_D96A_EAN008_inbound.edi"

#: One ORDERS message between a UNB and UNZ of the test's making.
BODY = [
    "UNH+{n}+ORDERS:D:96A:UN:EAN008'",
    "BGM+220+PO-{n}+9'",
    "DTM+137:20261126:102'",
    "NAD+BY+5412345000013::9'",
    "LIN+1++4000862141404:EN'",
    "QTY+21:12:PCE'",
    "UNS+S'",
    "UNT+8+{n}'",
]


def interchange(messages: int = 1, unb: str = "UNB+UNOA:3+SENDER:ZZ+RECEIVER:ZZ+261126:1200+REF1'") -> str:
    segments = [unb]
    for n in range(1, messages + 1):
        segments += [s.format(n=n) for s in BODY]
    return "".join(segments) + f"UNZ+{messages}+REF1'"


def write(tmp_path: Path, text: str, name: str = "x.edi") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    return path


def wrap(text: str, width: int = 80, newline: str = "\n") -> str:
    return newline.join(text[i : i + width] for i in range(0, len(text), width)) + newline


def codes(findings: list[Finding]) -> list[str]:
    return [str(f.code) for f in findings]


@pytest.mark.parametrize(
    ("name", "warned"),
    [
        ("orders-unoa-lower-case.edi", ["bad_character"] * 3),
        ("orders-syntax3-ccyymmdd.edi", ["long_date"]),
        ("orders-wrapped-80-columns.edi", ["wrapped_lines"]),
    ],
)
def test_each_sample_is_a_warning_unless_strict(
    name: str, warned: list[str], make_config: Callable[..., Config]
) -> None:
    for level in ("standard", "lenient"):
        (order,), report = records(SAMPLES / name, make_config(), strictness=level)
        assert report.valid and codes(report.warnings) == warned
        assert [w["code"] for w in order.source.warnings] == warned
    strict = validate(SAMPLES / name, make_config(), strictness="strict")
    assert codes(strict.findings) == warned and not strict.warnings and strict.records == 0


def test_lower_case_under_unoa_is_kept_as_sent(make_config: Callable[..., Config]) -> None:
    (order,), report = records(SAMPLES / "orders-unoa-lower-case.edi", make_config())
    assert order.sender.id == "amzn-retail" and order.doc_id == "PO-lower-1"
    assert "(lower case)" in report.warnings[0].message
    assert report.warnings[0].location == {"segment": "UNB", "segment_index": 1, "element": 2, "component": 1}


def test_a_partner_strictness_wins_over_its_source(corpus: Path, make_config: Callable[..., Config]) -> None:
    """The partner is the UNB sender, named as routes name partners (a pattern of ids)."""
    path = corpus / SAP
    strict_partner = make_config(partner=[{"id": "TP_*", "strictness": "strict"}])
    assert codes(validate(path, strict_partner).findings) == ["bad_character"]
    lenient_partner = make_config(partner=[{"id": "TP_UNEDIFACT_ID", "strictness": "lenient"}])
    report = validate(path, lenient_partner, strictness="strict")
    assert report.valid and codes(report.warnings) == ["bad_character"]
    other_partner = make_config(partner=[{"id": "SOMEONE_ELSE", "strictness": "lenient"}])
    assert not validate(path, other_partner, strictness="strict").valid


def test_a_wrapped_interchange_reads_as_its_unwrapped_twin(
    corpus: Path, tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """SAP's own sample, written as an 80-column wrapped text (as Bots reads it), with LF and
    with CRLF: the same record as the file as published."""
    text = (corpus / SAP).read_bytes().decode("ascii").replace("\n", "")
    (expected,), _ = records(corpus / SAP, make_config())
    for newline in ("\n", "\r\n"):
        path = write(tmp_path, wrap(text, newline=newline))
        (order,), report = records(path, make_config())
        assert report.valid, [f.render("x") for f in report.findings]
        assert codes(report.warnings) == ["wrapped_lines", "bad_character"]
        # SAP's UNB is 82 characters: the first break falls inside it.
        assert report.warnings[0].location == {"line": 1, "segment_index": 1}
        assert order.to_dict()["lines"] == expected.to_dict()["lines"]
        assert order.doc_id == expected.doc_id == "5YGVX1VT"


def test_wrapping_across_read_blocks(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    """A wrapped interchange far longer than one read block (64 KiB): every message is read and
    the wrapping said once."""
    path = write(tmp_path, wrap(interchange(1200), width=80, newline="\r\n"))
    assert path.stat().st_size > 2 * (1 << 16)
    found, report = records(path, make_config())
    assert report.valid and len(found) == 1200
    assert codes(report.warnings) == ["wrapped_lines"]
    assert [r.doc_id for r in found[:2]] == ["PO-1", "PO-2"]


def test_a_line_break_in_a_value_of_a_file_that_is_not_wrapped(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """One segment a line, and one free text holding a line break, its first part the longest
    line of the file: it is not taken for a wrapping and glued to the next word; the value keeps
    its break and the segment is named."""
    segments = interchange().replace("'", "'\n").splitlines()
    at = next(i for i, s in enumerate(segments) if s.startswith("NAD"))
    name = "ACME RETAIL DISTRIBUTION CENTRE:NORTH WEST REGION DOCK\nGATE 2"  # C080 an..35 each
    segments[at] = f"NAD+DP+5412345000013::9++{name}'"
    assert max(map(len, "\n".join(segments).splitlines())) == len(segments[at].split("\n")[0])
    path = write(tmp_path, "\n".join(segments) + "\n")
    (order,), report = records(path, make_config())
    assert report.valid
    (warning,) = report.warnings
    assert (warning.code, warning.location) == ("wrapped_lines", {"segment_index": at + 1, "line": at + 1})
    assert "kept in its value" in warning.message
    assert order.ship_to.name == name.replace(":", " ")  # C080's name lines, joined
    assert validate(path, make_config(), strictness="strict").findings[0].code == "wrapped_lines"


def test_a_line_break_that_splits_a_number_or_a_tag_stays_an_error(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    segments = interchange().replace("'", "'\n").splitlines()
    at = next(i for i, s in enumerate(segments) if s.startswith("QTY"))
    split_number = [*segments[:at], "QTY+21:1\n2:PCE'", *segments[at + 1 :]]
    report = validate(write(tmp_path, "\n".join(split_number) + "\n"), make_config(), strictness="lenient")
    assert codes(report.findings) == ["not_numeric"] and report.findings[0].value == "1\n2"
    split_tag = [*segments[:at], "Q\nTY+21:12:PCE'", *segments[at + 1 :]]
    report = validate(write(tmp_path, "\n".join(split_tag) + "\n"), make_config(), strictness="lenient")
    assert codes(report.findings) == ["syntax_error"]


@pytest.mark.parametrize(
    ("syntax", "date", "standard", "strict"),
    [
        ("UNOA:3", "20261126", [], ["long_date"]),
        ("UNOA:2", "261126", [], []),
        ("UNOA:4", "20261126", [], []),
        ("UNOA:3", "2026112", ["bad_date"], ["bad_date"]),
    ],
)
def test_unb_dates(
    syntax: str, date: str, standard: list[str], strict: list[str], tmp_path: Path,
    make_config: Callable[..., Config],
) -> None:  # fmt: skip
    unb = f"UNB+{syntax}+SENDER:ZZ+RECEIVER:ZZ+{date}:1200+REF1'"
    path = write(tmp_path, interchange(unb=unb))
    assert codes(validate(path, make_config()).findings) == standard
    assert codes(validate(path, make_config(), strictness="strict").findings) == strict
    assert codes(validate(path, make_config(), strictness="lenient").findings) == standard


def test_counts_and_references_stay_errors_when_lenient(
    corpus: Path, tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    wrong = interchange().replace("UNT+8+1'", "UNT+9+1'").replace("UNZ+1+REF1'", "UNZ+1+REF2'")
    report = validate(write(tmp_path, wrong), make_config(), strictness="lenient")
    assert codes(report.findings) == ["wrong_count", "wrong_reference"]
    # A truncated interchange: without UNZ nothing shows that no message was lost.
    truncated = validate(corpus / "edifact/pydifact__order.edi", make_config(), strictness="lenient")
    assert codes(truncated.findings) == ["missing_unz"]


def test_a_value_too_long_is_kept_whole_when_lenient(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    number = "PO-" + "9" * 40  # BGM 1004 is an..35
    path = write(tmp_path, interchange().replace("BGM+220+PO-1+9'", f"BGM+220+{number}+9'"))
    assert codes(validate(path, make_config()).findings) == ["too_long"]
    (order,), report = records(path, make_config(), strictness="lenient")
    assert report.valid and codes(report.warnings) == ["too_long"]
    assert order.doc_id == number


def test_a_decode_error_names_its_segment_and_byte_offset(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """Even past the first read block: the segment is counted from the file's start."""
    text = interchange(600)
    at = text.index("NAD+BY", 70000)
    data = (text[:at] + "NAD+BY+5412345000013::9++M").encode() + b"\xfc" + text[at + 26 :].encode()
    path = tmp_path / "bad.edi"
    path.write_bytes(data)
    offset = data.index(b"\xfc")
    for level in ("lenient", "standard"):
        report = validate(path, make_config(), strictness=level)
        (finding,) = report.findings
        assert (report.stage, finding.code) == ("decode", "undecodable")
        assert finding.location == {"segment": "NAD", "segment_index": text[:at].count("'") + 1}
        assert f"byte 0xfc at offset {offset}" in finding.message


@pytest.mark.parametrize("syntax", ["UNOA", "UNOC"])
def test_utf8_bytes_under_a_single_byte_syntax(
    syntax: str, tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """Read as UTF-8 (never `MUNCIÃ\\x8b`), with a warning at the UNB; refused when strict."""
    unb = f"UNB+{syntax}:3+SENDER:ZZ+RECEIVER:ZZ+261126:1200+REF1'"
    text = interchange(unb=unb).replace("NAD+BY+5412345000013::9'", "NAD+DP+5412345000013::9++MUNCIË'")
    path = tmp_path / "utf8.edi"
    path.write_bytes(text.encode("utf-8"))
    (order,), report = records(path, make_config())
    assert report.valid and report.encoding == "utf-8"
    assert order.ship_to.name == "MUNCIË"
    first = report.warnings[0]
    assert (first.code, first.value, first.location["segment_index"]) == ("utf8_content", syntax, 1)
    # Under UNOA the Ë is also outside the declared repertoire.
    assert codes(report.warnings[1:]) == (["bad_character"] if syntax == "UNOA" else [])
    assert codes(validate(path, make_config(), strictness="strict").findings)[0] == "utf8_content"
