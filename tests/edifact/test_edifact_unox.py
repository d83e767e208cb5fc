"""UNOX: ISO 2022 code extension, decoded before separators are looked for."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers_edifact import ORDER, records, validate

from gateway.config import Config

# 丣 is ESC $ ( D 0 ' ESC ( B in ISO-2022-JP-2: its second byte is the segment terminator.
NAME = "株式会社丣テスト"
UNOX_ORDER = ORDER.replace("UNOC:3", "UNOX:3").replace("Müller?+Co", NAME)


def test_a_unox_interchange_is_decoded_with_its_escapes(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    data = UNOX_ORDER.encode("iso2022_jp_2")
    assert b"\x1b$(D0'" in data, "the name carries a terminator byte inside a character"
    path = tmp_path / "orders.edi"
    path.write_bytes(data)
    (order,), report = records(path, make_config())
    assert report.valid, report.findings
    assert report.encoding == "iso2022_jp_2"
    assert order.ship_to.name == NAME  # type: ignore[attr-defined]
    assert order.lines[0].quantity == "12"  # type: ignore[attr-defined]


def test_bytes_no_character_set_holds_are_a_located_decode_finding(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    # 0x7f 0x7f after ESC $ B is no JIS X 0208 character.
    data = UNOX_ORDER.encode("iso2022_jp_2").replace(b"%F%9", b"\x7f\x7f%9")
    path = tmp_path / "orders.edi"
    path.write_bytes(data)
    report = validate(path, make_config())
    (finding,) = report.findings
    assert finding.code == "undecodable"
    assert "iso2022_jp_2" in (finding.rule or "")
    assert finding.location["segment_index"] >= 1


def test_an_unknown_escape_sequence_is_binary_content(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    data = UNOX_ORDER.encode("iso2022_jp_2").replace(b"\x1b$(D", b"\x1b$(Z")
    path = tmp_path / "orders.edi"
    path.write_bytes(data)
    (finding,) = validate(path, make_config()).findings
    assert finding.code == "binary"
    offset = data.index(b"\x1b$(Z")
    assert f"offset {offset}" in finding.message
