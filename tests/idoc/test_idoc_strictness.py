"""IDoc deviations real senders make, at each strictness level: a blank DOCNUM from a non-SAP
sender, segments the tables do not know, and the SNDPRN's own strictness."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

from helpers_idoc import SAMPLES, codes, read

from gateway.config import Config
from gateway.formats.idoc import schema as idoc_schema
from tests.conftest import run_cli

BLANK = Path(__file__).resolve().parents[2] / "samples" / "strictness" / "orders05-blank-docnum.idoc"
PO = SAMPLES / "orders05-purchase-order.idoc"
DC = idoc_schema.records()["EDI_DC40"]
DD = idoc_schema.records()["EDI_DD40"]


def set_field(line: str, layout: idoc_schema.SegmentDef, name: str, value: str) -> str:
    f = layout.by_name[name]
    return line[: f.offset] + value.ljust(f.length)[: f.length] + line[f.offset + f.length :]


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "x.idoc"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_blank_docnum_from_a_non_sap_sender(make_config: Callable[..., Config]) -> None:
    for level in ("standard", "lenient"):
        (record,), report = read(BLANK, make_config, strictness=level)
        assert report.valid
        assert [(w.code, w.location["field"]) for w in report.warnings] == [("blank_docnum", "DOCNUM")]
        assert "sender port WMSPORT" in report.warnings[0].message
        assert record["source"]["message_ref"] is None
        assert [w["code"] for w in record["source"]["warnings"]] == ["blank_docnum"]
    records, strict = read(BLANK, make_config, strictness="strict")
    assert codes(strict) == ["blank_docnum"] and records == []


def test_a_blank_docnum_from_sap_is_an_error_at_every_level(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    lines = BLANK.read_text(encoding="utf-8").splitlines()
    lines[0] = set_field(lines[0], DC, "SNDPOR", "SAPPRD")
    path = write(tmp_path, lines)
    for level in ("lenient", "standard", "strict"):
        _, report = read(path, make_config, strictness=level)
        assert codes(report) == ["missing_control_field"]


def test_an_unknown_customer_segment_is_a_warning_only_when_lenient(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """Without an extension a Z segment is not the basic type's; lenient keeps it, undecoded,
    under extensions.idoc_segments (as a standard segment the table lacks is kept)."""
    lines = PO.read_text(encoding="utf-8").splitlines()
    lines[2] = set_field(lines[2], DD, "SEGNAM", "Z1WMSX1")
    path = write(tmp_path, lines)
    for level in ("standard", "strict"):
        _, report = read(path, make_config, strictness=level)
        assert codes(report) == ["unknown_segment"]
    (record,), lenient = read(path, make_config, strictness="lenient")
    assert lenient.valid and [w.code for w in lenient.warnings] == ["unknown_segment"]
    (kept,) = record["extensions"]["idoc_segments"]
    assert kept["segment"] == "Z1WMSX1"


def test_the_sndprn_strictness_judges_its_idocs(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    """A `[[partner]]` names the IDoc sender by SNDPRN: SAP's own HLEVELs are refused from a
    strict partner, and accepted from another sender in the same file."""
    lines = PO.read_text(encoding="utf-8").splitlines()
    sap_levels = [set_field(lines[1], DD, "HLEVEL", "01"), *lines[2:]]
    other = set_field(lines[0], DC, "SNDPRN", "OTHERSYS")
    other = set_field(other, DC, "DOCNUM", "0000000000500002")
    second = [set_field(line, DD, "DOCNUM", "0000000000500002") for line in sap_levels]
    path = write(tmp_path, [lines[0], *sap_levels, other, *second])
    config = make_config(partner=[{"id": "PRDCLNT100", "strictness": "strict"}])
    records, report = read(path, lambda: config)
    found = [(f.code, f.location["record"]) for f in report.findings]
    assert found == [("hlevel_mismatch", "0000000000500001")]
    assert [(w.code, w.location["record"]) for w in report.warnings] == [
        ("hlevel_mismatch", "0000000000500002")
    ]
    assert records == []


def test_a_blank_docnum_in_idoc_xml(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    """IDoc-XML says the same: a warning from a non-SAP port, an error from SAP's own."""
    text = (SAMPLES / "orders05-extension-namespaced.xml").read_text(encoding="utf-8")
    text = text.replace("<DOCNUM>0000000000600030</DOCNUM>", "<DOCNUM></DOCNUM>")
    path = tmp_path / "x.xml"
    path.write_text(text.replace("<SNDPOR>SAPPRD</SNDPOR>", "<SNDPOR>MIDDLEWARE</SNDPOR>"), encoding="utf-8")
    (record,), report = read(path, make_config)
    assert report.valid and [w.code for w in report.warnings] == ["blank_docnum"]
    assert report.warnings[0].location["field"] == "DOCNUM"
    assert record["extensions"]["idoc"]["docnum"] == ""
    path.write_text(text, encoding="utf-8")
    _, report = read(path, make_config, strictness="lenient")
    assert codes(report) == ["missing_control_field"]


def test_run_once_keys_an_unnumbered_idoc_by_sender_and_content(root: Path) -> None:
    config = root / "gateway.toml"
    config.write_text('[[source]]\nname = "wms"\nsettle_seconds = 0.05\npoll_seconds = 0.1\n')
    shutil.copy(BLANK, root / "inbound" / BLANK.name)
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    trace = run_cli("--config", config, "--root", root, "trace", BLANK.name).stdout
    sha = hashlib.sha256(BLANK.read_bytes()).hexdigest()
    assert "state accepted" in trace
    assert f"docnum=WMS01:sha256:{sha}:1" in trace
    assert "field DOCNUM: warning: DOCNUM is empty (sender port WMSPORT, not SAP)" in trace
