"""Typed mapper output: the shapes mirror the records, a typo is a mypy error, layouts are checked."""

from __future__ import annotations

import dataclasses
import re
import shutil
import tomllib
import typing
from pathlib import Path

import pytest
from mypy import api

from gateway.canonical import shapes
from gateway.canonical.build import path_problem
from gateway.canonical.records import RECORD_TYPES, Party, PartyId, Record, Source
from gateway.formats.csv.schema import load_layout as load_csv_layout
from gateway.formats.xml.layout import LayoutError
from gateway.formats.xml.layout import load_layout as load_xml_layout
from gateway.targets.layout import load_layout as load_target_layout
from tests.conftest import REPO

SHAPE_OF_CLASS = {
    PartyId: shapes.PartyIdData,
    Party: shapes.PartyData,
    Source: shapes.SourceData,
}


def _shape_of(record: type[Record]) -> type[typing.Any]:
    """The TypedDict named like the record class (`SalesOrder` → `SalesOrderData`)."""
    shape: type[typing.Any] = getattr(shapes, f"{record.__name__}Data")
    return shape


def _keys(shape: type[typing.Any]) -> set[str]:
    return set(typing.get_type_hints(shape))


def _fields(cls: type[typing.Any]) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


class TestShapesMirrorRecords:
    @pytest.mark.parametrize("doc_type", sorted(RECORD_TYPES))
    def test_document_and_line_names(self, doc_type: str) -> None:
        """Each document shape has the record's fields plus `doc_type`; its lines the line's."""
        record = RECORD_TYPES[doc_type]
        shape = _shape_of(record)
        assert _keys(shape) == _fields(record) | {"doc_type"}
        # Under postponed annotations only the hints say which key is required.
        hints = typing.get_type_hints(shape, include_extras=True)
        assert [k for k, v in hints.items() if typing.get_origin(v) is typing.Required] == ["doc_type"]
        assert typing.get_args(typing.get_type_hints(shape)["doc_type"]) == (doc_type,)
        if record.line_type is not None:
            (line_shape,) = typing.get_args(typing.get_type_hints(shape)["lines"])
            assert _keys(line_shape) == _fields(record.line_type)

    @pytest.mark.parametrize("cls", list(SHAPE_OF_CLASS), ids=lambda c: c.__name__)
    def test_nested_objects(self, cls: type[typing.Any]) -> None:
        """Parties, party ids and lineage have the same names as their classes."""
        assert _keys(SHAPE_OF_CLASS[cls]) == _fields(cls)


SNIPPET = """
from gateway.canonical.shapes import LineData, SalesOrderData


def good() -> SalesOrderData:
    line: LineData = {"sku": "A", "quantity": "2", "extensions": {"colour": "red"}}
    return {"doc_type": "sales_order", "doc_id": "SO-1", "requested_ship_date": None, "lines": [line]}


def typo_in_a_literal() -> SalesOrderData:
    return {"doc_type": "sales_order", "doc_id": "SO-1", "requested_ship_dat": "2026-11-26"}


def typo_in_an_assignment(order: SalesOrderData, line: LineData) -> None:
    order["requested_ship_dat"] = "2026-11-26"
    line["qantity"] = "1"


def extension_without_its_key() -> LineData:
    return {"sku": "A", "colour": "red"}
"""


def test_an_unknown_field_is_a_mypy_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mypy rejects a typo'd canonical name wherever a mapping writes it, and accepts the rest."""
    snippet = tmp_path / "mapping_snippet.py"
    snippet.write_text(SNIPPET, encoding="utf-8")
    monkeypatch.chdir(REPO)  # so that `gateway` is found as source, whatever the install
    out, err, status = api.run([
        "--strict", "--follow-imports=silent", "--no-incremental",
        "--cache-dir", str(tmp_path / "cache"), "--config-file", "", str(snippet),
    ])  # fmt: skip
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1, err
    lines = sorted(int(line.split(":")[1]) for line in errors)
    source = SNIPPET.splitlines()
    assert [source[n - 1].strip()[:30] for n in lines] == [
        'return {"doc_type": "sales_ord',
        'order["requested_ship_dat"] = ',
        'line["qantity"] = "1"',
        'return {"sku": "A", "colour": ',
    ]
    assert "requested_ship_dat" in out and "qantity" in out and "colour" in out


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class TestLayoutsNameCanonicalFields:
    def test_paths(self) -> None:
        """Paths as layouts write them resolve through objects, lists and `extensions`."""
        order = RECORD_TYPES["sales_order"]
        assert path_problem(order, "ship_to.address_lines[1]") is None
        assert path_problem(order, "lines[].sku") is None
        assert path_problem(order, "extensions.partner.anything") is None
        assert path_problem(order, "requested_ship_dat") == (
            "'requested_ship_dat' is not a canonical field of SalesOrder"
        )
        assert path_problem(order, "ship_to.cty") == "'cty' is not a canonical field of Party"
        assert path_problem(order, "order_number.x") == "order_number holds a value, not fields"

    def test_csv_layout_with_an_unknown_target_is_a_load_error(self, tmp_path: Path) -> None:
        """A CSV column filling a misspelt canonical field stops the layout from loading."""
        layout = tmp_path / "orders.toml"
        layout.write_text(
            'doc_type = "sales_order"\nkey = ["order_number"]\n'
            "[header]\norder_number = { required = true }\n"
            'ship_date = { type = "date", to = "requested_ship_dat" }\n'
            "[line]\nsku = {}\n",
            encoding="utf-8",
        )
        with pytest.raises(
            ValueError, match=re.escape("orders.toml.header.ship_date.to: 'requested_ship_dat'")
        ):
            load_csv_layout(layout)
        layout.write_text(
            layout.read_text(encoding="utf-8").replace('"requested_ship_dat"', '"requested_ship_date"')
            + 'qty = { to = "line.qantity" }\n',
            encoding="utf-8",
        )
        with pytest.raises(
            ValueError, match=re.escape("orders.toml.line.qty.to: 'line.qantity': 'qantity' is not")
        ):
            load_csv_layout(layout)

    def test_shipped_csv_layouts_load(self) -> None:
        """Every shipped CSV layout, with the envelope columns, names only canonical fields."""
        folder = REPO / "schemas" / "csv"
        envelope = tomllib.loads((folder / "_envelope.toml").read_text(encoding="utf-8"))["header"]
        loaded = [load_csv_layout(path, envelope) for path in sorted(folder.glob("[!_]*.toml"))]
        assert sorted(layout.doc_type for layout in loaded) == sorted(RECORD_TYPES)

    def test_target_layout_with_an_unknown_source_is_a_load_error(self, tmp_path: Path) -> None:
        """A target column reading a misspelt canonical field, on the document or its `item`, stops
        the layout from loading; options, `#` and indexed list elements are fine."""
        original = (REPO / "schemas" / "sage100" / "inventory_adjustment.toml").read_text(encoding="utf-8")
        assert load_target_layout(_write(tmp_path / "fine.toml", original)).doc_type == "inventory_adjustment"
        broken = original.replace('from = "adjusted_at"', 'from = "adjusted_on"')
        broken = broken.replace('from = "item.quantity_change"', 'from = "item.quantity_chnge"')
        with pytest.raises(ValueError) as caught:
            load_target_layout(_write(tmp_path / "adjustments.toml", broken))
        assert str(caught.value) == (
            "adjustments.toml: record[0].TransactionDate.from: 'adjusted_on': 'adjusted_on' is not a "
            "canonical field of InventoryAdjustment; record[1].TransactionQty.from: "
            "'item.quantity_chnge': 'quantity_chnge' is not a canonical field of AdjustmentLine"
        )
        assert path_problem(RECORD_TYPES["customer"], "ship_to.0.address_lines.1") is None

    def test_xml_layout_with_an_unknown_target_is_a_load_error(self, tmp_path: Path) -> None:
        """Every misspelt path of an XML layout is named with its key, the layout's `_` ones aside."""
        copy = tmp_path / "acme_order"
        shutil.copytree(REPO / "schemas" / "xml" / "ubl_order", copy)
        toml = (copy / "layout.toml").read_text(encoding="utf-8")
        toml = toml.replace("requested_ship_date =", "requested_ship_dat =")
        toml = toml.replace('to = "lines"', 'to = "line"')
        (copy / "layout.toml").write_text(toml + '_private = "cbc:Note"\n', encoding="utf-8")
        with pytest.raises(LayoutError) as caught:
            load_xml_layout(copy)
        text = str(caught.value)
        assert text.startswith("acme_order/layout.toml: ")
        assert "fields.requested_ship_dat: 'requested_ship_dat' is not a canonical field" in text
        assert "group[0].to: 'line' is not a list of objects in a sales_order" in text
        assert "_private" not in text
