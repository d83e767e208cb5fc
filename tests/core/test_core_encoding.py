"""Encoding decisions: BOM, declared, configured, strict UTF-8, restricted detection."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from gateway.errors import DecodeError
from gateway.formats.encoding import decide, plausibility


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


class TestOrder:
    @pytest.mark.parametrize(
        ("bom", "codec"),
        [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")],
    )
    def test_bom_wins(self, tmp_path: Path, bom: bytes, codec: str) -> None:
        enc = decide(write(tmp_path, bom + "a,b\n".encode(codec)), declared="latin-1", configured="ascii")
        assert (enc.name, enc.bom, enc.method) == (codec, len(bom), "bom")

    def test_declared_before_configured(self, tmp_path: Path) -> None:
        enc = decide(write(tmp_path, b"abc"), declared="ISO-8859-1", configured="cp1252")
        assert (enc.name, enc.method) == ("iso8859-1", "declared")

    def test_configured_before_detection(self, tmp_path: Path) -> None:
        enc = decide(write(tmp_path, "Müller".encode("cp1250")), configured="cp1250")
        assert (enc.name, enc.method) == ("cp1250", "configured")

    def test_strict_utf8(self, tmp_path: Path) -> None:
        enc = decide(write(tmp_path, "Müller, 10 €\n".encode()))
        assert (enc.name, enc.method) == ("utf-8", "utf-8")

    def test_unknown_declared_encoding_is_a_finding(self, tmp_path: Path) -> None:
        with pytest.raises(DecodeError) as caught:
            decide(write(tmp_path, b"abc"), declared="EBCDIC-XYZ")
        assert caught.value.findings[0].code == "unknown_encoding"


class TestDetection:
    @pytest.mark.parametrize(
        ("text", "codec"),
        [
            ("name\nMüller & Söhne, Straße 5, 10 €\n", "cp1252"),
            ("name\nSociété Générale, Café Noël\n", "cp1252"),
            ("name\nZażółć gęślą jaźń\n", "cp1250"),
        ],
    )
    def test_detects_plausible_code_pages(self, tmp_path: Path, text: str, codec: str) -> None:
        path = write(tmp_path, text.encode(codec))
        enc = decide(path)
        assert enc.method == "detected"
        assert enc.confidence is not None and enc.confidence >= 0.6
        assert path.read_bytes().decode(enc.name) == text

    def test_random_bytes_are_refused_with_a_location(self, tmp_path: Path) -> None:
        data = b"sku,name\nW-1,ok\n" + bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 20
        with pytest.raises(DecodeError) as caught:
            decide(write(tmp_path, data))
        finding = caught.value.findings[0]
        assert finding.code == "undetermined_encoding"
        assert finding.location == {"line": 3, "column": 1}

    def test_plausibility_prefers_letters_inside_words(self) -> None:
        assert plausibility("Müller") == 1.0
        assert plausibility("plain ascii") == 1.0
        assert plausibility("a ¤ b ¦ c") == 0.0
