"""Encoding decisions: BOM, declared, configured, strict UTF-8, restricted detection."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from gateway.errors import DecodeError
from gateway.formats.encoding import decide, plausibility
from tests.conftest import SAMPLES, run_cli


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


class TestUtf8Content:
    """Valid multi-byte UTF-8 is UTF-8, whatever single-byte charset is declared or configured."""

    @pytest.mark.parametrize(
        ("declared", "configured"), [(None, "cp1252"), ("ISO-8859-1", None), ("ascii", None)]
    )
    def test_utf8_bytes_beat_a_single_byte_label(
        self, tmp_path: Path, declared: str | None, configured: str | None
    ) -> None:
        enc = decide(write(tmp_path, "name\nCafé Noël\n".encode()), declared=declared, configured=configured)
        assert enc.name == "utf-8"
        assert enc.overrode == codecs.lookup(declared or configured or "").name
        assert "utf-8 content" in enc.method

    def test_a_real_cp1252_file_keeps_its_configured_code_page(self, tmp_path: Path) -> None:
        enc = decide(write(tmp_path, "name\nCafé Noël\n".encode("cp1252")), configured="cp1252")
        assert (enc.name, enc.method, enc.overrode) == ("cp1252", "configured", None)

    def test_pure_ascii_keeps_the_label(self, tmp_path: Path) -> None:
        enc = decide(write(tmp_path, b"name\nCafe\n"), configured="cp1252")
        assert (enc.name, enc.overrode) == ("cp1252", None)

    def test_a_multi_byte_label_is_not_overridden(self, tmp_path: Path) -> None:
        # Shift-JIS bytes can be valid UTF-8 by chance; only single-byte labels are second-guessed.
        enc = decide(write(tmp_path, "name\nCafé\n".encode()), configured="shift_jis")
        assert (enc.name, enc.method) == ("shift_jis", "configured")

    def test_utf8_with_a_stray_byte_is_not_utf8_content(self, tmp_path: Path) -> None:
        enc = decide(write(tmp_path, "Café ".encode() + "Noël".encode("cp1252")), configured="cp1252")
        assert (enc.name, enc.method) == ("cp1252", "configured")


class TestUtf8ContentEndToEnd:
    """The mojibake cases of the real-world fidelity issue, through `gateway convert`."""

    def test_unoc_interchange_holding_utf8_is_read_as_utf8(self, tmp_path: Path) -> None:
        edi = (SAMPLES / "inbound" / "edifact" / "desadv_d96a.edi").read_text(encoding="ascii")
        edi = edi.replace("RFF+ON:PO-1001'", "RFF+ON:MUNCIË-1001'")
        path = tmp_path / "desadv-utf8.edi"
        path.write_bytes(edi.encode())
        done = run_cli("convert", path, "--root", tmp_path / "root")
        assert done.returncode == 0, done.stderr
        record = json.loads(done.stdout.splitlines()[0])
        assert record["source"]["encoding"] == "utf-8"
        assert record["order_number"] == "MUNCIË-1001"

    def test_cp1252_source_receiving_utf8_csv(self, tmp_path: Path) -> None:
        config = tmp_path / "gateway.toml"
        config.write_text('[[source]]\nname = "erp"\npath = "inbound"\nencoding = "cp1252"\n')
        path = tmp_path / "customers.csv"
        path.write_bytes("customer_id,name\nC-1,Café Noël\n".encode())
        done = run_cli("convert", path, "--config", config, "--root", tmp_path / "root", "--source", "erp")
        assert done.returncode == 0, done.stderr
        record = json.loads(done.stdout.splitlines()[0])
        assert record["name"] == "Café Noël"
        assert record["source"]["encoding"] == "utf-8"

    def test_xml_declaring_latin1_but_holding_utf8(self, tmp_path: Path) -> None:
        xml = (SAMPLES / "inbound" / "xml" / "cxml_order_request.xml").read_text(encoding="utf-8")
        xml = xml.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace("PO-2026-118", "PO-NOËL-118")
        path = tmp_path / "order.xml"
        path.write_bytes(xml.encode())
        done = run_cli("convert", path, "--root", tmp_path / "root")
        assert done.returncode == 0, done.stderr
        record = json.loads(done.stdout.splitlines()[0])
        assert record["order_number"] == "PO-NOËL-118"
        assert record["source"]["encoding"] == "utf-8"
