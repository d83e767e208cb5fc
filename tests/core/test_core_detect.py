"""Format detection from content, with file-name rules as an override."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from gateway.errors import UnknownFormat
from gateway.formats.detect import detect


def path_with(tmp_path: Path, data: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


class TestDetect:
    def test_csv(self, tmp_path: Path) -> None:
        assert detect(path_with(tmp_path, b"sku,qty\nA,1\n"), "f.csv") == "csv"

    def test_csv_behind_a_utf16_bom(self, tmp_path: Path) -> None:
        data = codecs.BOM_UTF16_LE + "sku,qty\nA,1\n".encode("utf-16-le")
        assert detect(path_with(tmp_path, data), "f.csv") == "csv"

    @pytest.mark.parametrize(("data", "code"), [(b"", "empty"), (b"  \r\n\t\n", "empty")])
    def test_empty(self, tmp_path: Path, data: bytes, code: str) -> None:
        with pytest.raises(UnknownFormat) as caught:
            detect(path_with(tmp_path, data), "f.csv")
        assert caught.value.findings[0].code == code

    def test_binary_named_csv(self, tmp_path: Path) -> None:
        data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
        with pytest.raises(UnknownFormat) as caught:
            detect(path_with(tmp_path, data), "f.csv")
        finding = caught.value.findings[0]
        assert finding.code == "binary"
        assert "0x00 at offset 8" in finding.message

    def test_name_rule_overrides_content(self, tmp_path: Path) -> None:
        path = path_with(tmp_path, b"\x00\x01", "x.dat")
        assert detect(path, "x.dat", (("*.dat", "csv"),)) == "csv"


class TestForeignFormats:
    """Formats the gateway does not read are named, never matched to the closest CSV layout."""

    VDA = b"51101" + b"0" * 123 + b"\r\n" + b"51201" + b" " * 123 + b"\r\n"

    @pytest.mark.parametrize(
        ("data", "named"),
        [
            (b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261126*1200*U*00401"
             b"*000000001*0*P*>~GS*PO*SENDER*RECEIVER*20261126*1200*1*X*004010~", "ANSI ASC X12"),
            (b"ISA|00|          |00|          |ZZ|SENDER~", "ANSI ASC X12"),
            (b"STX=ANA:1+5000000000000:SENDER+5010000000000:BUYER+261126:120000+REF1'", "TRADACOMS"),
            (VDA, "VDA"),
            (b'{"orders": [{"id": 1}]}', "JSON"),
            (b'[\n  {"sku": "A"}\n]', "JSON"),
        ],
    )
    def test_named_as_unknown_format(self, tmp_path: Path, data: bytes, named: str) -> None:
        with pytest.raises(UnknownFormat) as caught:
            detect(path_with(tmp_path, data, "f.txt"), "f.txt")
        finding = caught.value.findings[0]
        assert finding.code == "unknown_format"
        assert named in finding.message and "does not read" in finding.message
        assert "layout" not in finding.message

    @pytest.mark.parametrize("data", [b"ISAAC,NEWTON\n1,2\n", b"[sku],qty\nA,1\n", b"STX,1\n"])
    def test_csv_that_merely_starts_alike_is_still_csv(self, tmp_path: Path, data: bytes) -> None:
        assert detect(path_with(tmp_path, data), "f.csv") == "csv"
