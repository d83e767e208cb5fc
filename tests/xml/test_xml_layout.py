"""Layouts as data: a customer's own layout, conversions, code tables, layout file problems."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from gateway.canonical.build import record_from_dict
from gateway.config import Config
from gateway.formats.xml.layout import LayoutError, load_layout
from gateway.formats.xml.mapping import node_path, pick, put, read_document, write_document
from gateway.formats.xml.reader import XmlReader

REPO = Path(__file__).resolve().parents[2]

LAYOUT = """
layout = "acme.items"
doc_type = "product"
document = "a:Item"

[match]
root = "Items"
namespace = "urn:acme:items"

[namespaces]
a = "urn:acme:items"

[fields]
doc_id = { xpath = "a:Number", required = true }
sku = "a:Number"
unit_cost = { xpath = "a:Cost", type = "decimal" }
"extensions.created" = { xpath = "a:Created", type = "date", formats = ["%d.%m.%Y"] }
lot_controlled = { xpath = "a:Lot", type = "bool" }
function = { xpath = "@op", table = { I = "original", U = "replace", D = "cancel" } }
"""

SCHEMA = """<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:acme:items"
           xmlns="urn:acme:items" elementFormDefault="qualified">
  <xs:element name="Item">
    <xs:complexType>
      <xs:sequence>
        <xs:any processContents="skip" namespace="##targetNamespace" minOccurs="0" maxOccurs="unbounded"/>
      </xs:sequence>
      <xs:attribute name="op" type="xs:string"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


@pytest.fixture(name="layout_dir")
def _layout_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "acme_items"
    folder.mkdir()
    (folder / "layout.toml").write_text(LAYOUT, encoding="utf-8")
    (folder / "schema.xsd").write_text(SCHEMA, encoding="utf-8")
    return folder


def _item(xml: str) -> etree._Element:
    return etree.fromstring(f'<Items xmlns="urn:acme:items">\n{xml}\n</Items>')[0]


def test_a_customer_layout_converts_values(layout_dir: Path) -> None:
    layout = load_layout(layout_dir)
    assert layout.streaming and layout.document == "{urn:acme:items}Item"
    item = _item(
        '<Item op="U"><Number>X-1</Number><Cost>2.50</Cost><Created>31.12.2025</Created><Lot>yes</Lot></Item>'
    )
    data, findings = read_document(layout, item, node_path)
    assert findings == []
    assert data == {
        "doc_type": "product",
        "doc_id": "X-1",
        "sku": "X-1",
        "unit_cost": "2.50",
        "extensions": {"created": "2025-12-31"},
        "lot_controlled": True,
        "function": "replace",
    }
    assert record_from_dict(data).extensions == {"created": "2025-12-31"}


def test_every_bad_value_is_a_located_finding(layout_dir: Path) -> None:
    layout = load_layout(layout_dir)
    item = _item(
        '<Item op="X"><Number>X-1</Number><Cost>NaN</Cost><Created>2025-31-12</Created>'
        "<Lot>maybe</Lot></Item>"
    )
    _, findings = read_document(layout, item, node_path)
    got = [(f.code, f.value, f.location["xpath"]) for f in findings]
    assert got == [
        ("invalid_value", "NaN", "/Items/Item/Cost"),
        ("invalid_value", "2025-31-12", "/Items/Item/Created"),
        ("invalid_value", "maybe", "/Items/Item/Lot"),
        ("invalid_value", "X", "/Items/Item"),
    ]
    assert "code table" in findings[3].message
    assert all(f.location["line"] == 2 for f in findings)


def test_writing_inverts_the_code_table(layout_dir: Path) -> None:
    layout = load_layout(layout_dir)
    element = write_document(
        layout, {"doc_id": "X-1", "sku": "X-1", "function": "cancel", "lot_controlled": False}
    )
    assert etree.tostring(element) == (
        b'<Item xmlns="urn:acme:items" op="D"><Number>X-1</Number><Lot>false</Lot></Item>'
    )


def test_layout_file_problems_are_listed_together(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "layout.toml").write_text(
        'doc_type = "invoice"\ncolour = 1\n[fields]\n"Bad Path" = "x"\n'
        'sku = { xpath = "((", type = "money" }\n',
        encoding="utf-8",
    )
    with pytest.raises(LayoutError) as caught:
        load_layout(folder)
    text = str(caught.value)
    for part in (
        "unknown key(s) colour",
        "'invoice' is not a canonical document type",
        "match.root: required",
        "Bad Path: not a canonical path",
        "sku: type must be one of",
        "sku: bad xpath",
    ):
        assert part in text


def test_canonical_paths() -> None:
    data: dict[str, object] = {}
    put(data, "ship_to.address_lines[1]", "b")
    put(data, "tracking_numbers[]", "t1")
    put(data, "tracking_numbers[]", "t2")
    assert data == {"ship_to": {"address_lines": [None, "b"]}, "tracking_numbers": ["t1", "t2"]}
    assert pick(data, "ship_to.address_lines[1]") == ["b"]
    assert pick(data, "ship_to.address_lines[0]") == []
    assert pick(data, "tracking_numbers[]") == ["t1", "t2"]
    assert pick(data, "bill_to.city") == []


def test_sniff() -> None:
    assert XmlReader.sniff(b'<?xml version="1.0"?><a/>')
    assert XmlReader.sniff(b"<Products/>")
    assert not XmlReader.sniff(b"sku,description\n")


def test_copying_the_erp_layout_is_enough(tmp_path: Path) -> None:
    copy = tmp_path / "acme_products"
    shutil.copytree(REPO / "schemas" / "xml" / "erp_products", copy)
    toml = (copy / "layout.toml").read_text(encoding="utf-8").replace('"erp.products"', '"acme.products"')
    (copy / "layout.toml").write_text(toml, encoding="utf-8")
    layout = load_layout(copy)
    assert layout.name == "acme.products" and layout.schema.validate(
        etree.fromstring("<Product><SKU>A</SKU></Product>")
    )


def test_schema_location_tells_layouts_with_one_root_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_config: Callable[..., Config]
) -> None:
    from gateway.cli import check
    from gateway.formats.xml import reader as xml_module
    from gateway.formats.xml.layout import layouts

    for version in ("1", "2"):
        folder = tmp_path / "layouts" / f"items_v{version}"
        folder.mkdir(parents=True)
        text = LAYOUT.replace('"acme.items"', f'"acme.items.v{version}"').replace(
            'namespace = "urn:acme:items"',
            f'namespace = "urn:acme:items"\nschema_location = "items-v{version}.xsd"',
        )
        text += f'"extensions.layout" = "\'v{version}\'"\n'  # an XPath string literal: read only
        (folder / "layout.toml").write_text(text, encoding="utf-8")
        (folder / "schema.xsd").write_text(SCHEMA, encoding="utf-8")
    monkeypatch.setattr(xml_module, "layouts", lambda: layouts(tmp_path / "layouts"))
    doc = tmp_path / "items.xml"
    doc.write_text(
        '<Items xmlns="urn:acme:items" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xsi:schemaLocation="urn:acme:items items-v2.xsd"><Item><Number>N1</Number></Item></Items>',
        encoding="utf-8",
    )
    config = make_config()
    report = check.Report(doc)
    (record,) = check.read(doc, config, config.sources[0], report)
    assert report.valid and record.doc_id == "N1"
    assert record.extensions == {"layout": "v2"}
