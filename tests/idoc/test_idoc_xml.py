"""IDoc-XML: detection, safe parsing (no DTD, no entities), namespaced extensions, findings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers_idoc import SAMPLES, codes, read

from gateway.config import Config
from gateway.formats.idoc.xml import IdocXmlReader, sap_name, xml_name

ORDER = """<ORDERS05>
  <IDOC BEGIN="1">
    <EDI_DC40 SEGMENT="1">
      <TABNAM>EDI_DC40</TABNAM><DOCNUM>0000000000000042</DOCNUM><IDOCTYP>ORDERS05</IDOCTYP>
      <MESTYP>ORDERS</MESTYP><DIRECT>2</DIRECT><SNDPRN>SHOP</SNDPRN>
    </EDI_DC40>
    <E1EDK01 SEGMENT="1"><BELNR>SO-42</BELNR></E1EDK01>
    {body}
  </IDOC>
</ORDERS05>
"""
ITEM = '<E1EDP01 SEGMENT="1"><POSEX>000010</POSEX><MENGE>{qty}</MENGE><MENEE>PCE</MENEE>{inner}</E1EDP01>'


def write(tmp_path: Path, text: str, name: str = "order.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def order(qty: str = "3", inner: str = "", body: str | None = None) -> str:
    return ORDER.replace("{body}", body if body is not None else ITEM.format(qty=qty, inner=inner))


def test_sniff() -> None:
    assert IdocXmlReader.sniff(b'<?xml version="1.0"?>\n<ORDERS05>\n<IDOC BEGIN="1">')
    assert IdocXmlReader.sniff(b'<DELVRY07>\n\t<IDOC BEGIN="1">\n\t\t<EDI_DC40 SEGMENT="1">')
    assert not IdocXmlReader.sniff(b'<?xml version="1.0"?><cXML><Request/></cXML>')
    assert not IdocXmlReader.sniff(b"EDI_DC40  100")
    assert not IdocXmlReader.sniff(b"<IDOCUMENT/>")


def test_names() -> None:
    assert sap_name("_-RB04_-YP3_E1EDK01_XML001") == "/RB04/YP3_E1EDK01_XML001"
    assert xml_name("/RB04/YP3_ORDERS05_EXT") == "_-RB04_-YP3_ORDERS05_EXT"


def test_small_order(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    inner = '<E1EDP19 SEGMENT="1"><QUALF>002</QUALF><IDTNR>0000042</IDTNR></E1EDP19>'
    (so,), report = read(write(tmp_path, order(inner=inner)), make_config)
    assert report.valid and report.format == "idoc-xml"
    assert so["order_number"] == "SO-42"
    assert so["lines"][0]["sku"] == "0000042"


def test_namespaced_extension_sample(make_config: Callable[..., Config]) -> None:
    (so,), report = read(SAMPLES / "orders05-extension-namespaced.xml", make_config)
    assert report.valid
    assert so["extensions"]["idoc"]["extension"] == "/RB04/YP3_ORDERS05_EXT"
    assert so["extensions"]["idoc_segments"] == [
        {"segment": "/RB04/YP3_E1EDK01_XML001", "fields": {"ROUTE_CODE": "NORD-3"}}
    ]
    assert so["lines"][0]["quantity"] == "4.000"
    assert so["lines"][0]["location"] is None  # an empty element says nothing


def test_xxe_is_refused_and_never_read(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    text = f'<?xml version="1.0"?>\n<!DOCTYPE ORDERS05 [<!ENTITY x SYSTEM "file://{secret}">]>\n' + order(
        qty="&x;"
    )
    records, report = read(write(tmp_path, text), make_config)
    assert records == []
    assert codes(report) == ["doctype_forbidden"]
    assert "TOP-SECRET" not in str(report.to_dict())


def test_billion_laughs_is_refused(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    lol = '<!DOCTYPE ORDERS05 [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    _, report = read(write(tmp_path, '<?xml version="1.0"?>\n' + lol + "\n" + order(qty="&b;")), make_config)
    assert codes(report) == ["doctype_forbidden"]


def test_undefined_entity_is_malformed(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    _, report = read(write(tmp_path, order(qty="&x;")), make_config)
    assert codes(report) == ["malformed_xml"]
    assert report.findings[0].location["line"] == 8


def test_truncated_xml(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    _, report = read(write(tmp_path, order()[:300]), make_config)
    assert "malformed_xml" in codes(report)


def test_non_numeric_quantity_located_by_xpath(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    _, report = read(write(tmp_path, order(qty="three")), make_config)
    assert codes(report) == ["not_numeric"]
    loc = report.findings[0].location
    assert loc["xpath"] == "/ORDERS05/IDOC[1]/E1EDP01[1]"
    assert loc["field"] == "MENGE"
    assert loc["segment_index"] == 2
    assert loc["record"] == "0000000000000042"
    assert report.findings[0].value == "three"


def test_orphan_and_unknown_segment(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    body = '<E1EDP19 SEGMENT="1"><QUALF>002</QUALF></E1EDP19><Z1FOO SEGMENT="1"><A>1</A></Z1FOO>'
    _, report = read(write(tmp_path, order(body=body)), make_config)
    assert codes(report) == ["orphaned_segment", "unknown_segment"]
    assert report.findings[0].location["xpath"] == "/ORDERS05/IDOC[1]/E1EDP19[1]"


def test_root_mismatch(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = order().replace("<ORDERS05>", "<DELVRY07>").replace("</ORDERS05>", "</DELVRY07>")
    _, report = read(write(tmp_path, text), make_config)
    assert codes(report) == ["root_mismatch"]


def test_two_idocs_one_file(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    one = order()
    start, end = one.index("  <IDOC"), one.index("</ORDERS05>")
    second = one[start:end].replace("0000000000000042", "0000000000000043").replace("SO-42", "SO-43")
    records, report = read(write(tmp_path, one[:end] + second + one[end:]), make_config)
    assert report.valid
    assert [r["order_number"] for r in records] == ["SO-42", "SO-43"]


def test_finding_in_second_idoc_names_it(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    one = order()
    start, end = one.index("  <IDOC"), one.index("</ORDERS05>")
    second = one[start:end].replace("0000000000000042", "0000000000000043").replace("<MENGE>3", "<MENGE>x3")
    _, report = read(write(tmp_path, one[:end] + second + one[end:]), make_config)
    assert codes(report) == ["not_numeric"]
    loc = report.findings[0].location
    assert loc["xpath"] == "/ORDERS05/IDOC[2]/E1EDP01[1]"
    assert loc["record"] == "0000000000000043"


def test_idoc_without_control_record(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = '<ORDERS05><IDOC BEGIN="1"><E1EDK01 SEGMENT="1"><BELNR>1</BELNR></E1EDK01></IDOC></ORDERS05>'
    records, report = read(write(tmp_path, text), make_config)
    assert records == []
    assert codes(report) == ["missing_control_record"]
    assert report.findings[0].location["xpath"] == "/ORDERS05/IDOC[1]"


def test_control_record_without_basic_type(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    text = order().replace("<IDOCTYP>ORDERS05</IDOCTYP>", "<IDOCTYP/>")
    _, report = read(write(tmp_path, text), make_config)
    assert codes(report) == ["missing_control_field"]
    assert report.findings[0].location["field"] == "IDOCTYP"
