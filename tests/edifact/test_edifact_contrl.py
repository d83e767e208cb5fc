"""CONTRL: accepted interchanges get UCI 7; rejected ones point at the failing segment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers_edifact import ORDER, validate

from gateway.config import Config
from gateway.formats.edifact.contrl import acknowledge
from gateway.formats.edifact.syntax import Scanner


def _segments(text: str) -> dict[str, list[object]]:
    return {s.tag: [s.tag, *s.elements] for s in Scanner([text])}


def test_accepted(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    path = tmp_path / "o.edi"
    path.write_bytes(ORDER.encode("latin-1"))
    report = validate(path, make_config())
    text = acknowledge(path, report.findings, "77")
    assert text is not None
    segs = _segments(text)
    assert segs["UNB"][2:4] == [["4012345000009", "14"], ["5412345000013", "14"]]
    assert segs["UNH"] == ["UNH", "1", ["CONTRL", "2", "2", "UN"]]
    assert segs["UCI"] == ["UCI", "REF1", ["5412345000013", "14"], ["4012345000009", "14"], "7"]
    assert segs["UCM"] == ["UCM", "1", ["ORDERS", "D", "96A", "UN", "EAN008"], "7"]
    assert segs["UNT"] == ["UNT", "4", "1"] and segs["UNZ"] == ["UNZ", "1", "77"]


def test_rejected_points_at_segment_and_element(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    path = tmp_path / "o.edi"
    path.write_bytes(ORDER.replace("QTY+21:12", "QTY+21:abc").encode("latin-1"))
    report = validate(path, make_config())
    text = acknowledge(path, report.findings, "78")
    assert text is not None
    segs = _segments(text)
    assert segs["UCI"][-1] == "4"
    assert segs["UCM"] == ["UCM", "1", ["ORDERS", "D", "96A", "UN", "EAN008"], "4", "37"]
    assert segs["UCS"] == ["UCS", "7"]  # QTY is the 7th segment of the message (UNH = 1)
    assert segs["UCD"] == ["UCD", "37", ["1", "2"]]


def test_envelope_error_goes_on_uci(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    path = tmp_path / "o.edi"
    path.write_bytes(ORDER.replace("UNZ+1+REF1", "UNZ+2+REF1").encode("latin-1"))
    report = validate(path, make_config())
    text = acknowledge(path, report.findings, "79")
    assert text is not None
    segs = _segments(text)
    assert segs["UCI"][4:7] == ["4", "29", "UNZ"]
    assert segs["UCM"][3] == "4"


def test_no_interchange() -> None:
    assert acknowledge(Path(__file__), [], "1") is None
