"""Canonical records: typed classes, JSON Lines, and building from plain dicts."""

from __future__ import annotations

import json

import pytest

from gateway.canonical.build import record_from_dict
from gateway.canonical.records import OWNER, RECORD_TYPES, Shipment, ShipmentLine


class TestRecords:
    def test_ten_document_types_with_owners(self) -> None:
        assert set(RECORD_TYPES) == set(OWNER)
        assert len(RECORD_TYPES) == 10

    @pytest.mark.parametrize("doc_type", sorted(RECORD_TYPES))
    def test_every_type_round_trips_through_json(self, doc_type: str) -> None:
        data = {"doc_type": doc_type, "doc_id": "X-1", "sender": {"id": "4012345000009", "scheme": "GLN"}}
        if RECORD_TYPES[doc_type].line_type is not None:
            data["lines"] = [{"line_no": "1", "sku": "A", "quantity": "2.50"}]
        record = record_from_dict(data)
        line = record.to_json()
        again = record_from_dict(json.loads(line))
        assert again == record
        assert json.loads(line)["doc_type"] == doc_type
        assert "\n" not in line

    def test_envelope_fields_are_always_present(self) -> None:
        data = json.loads(record_from_dict({"doc_type": "product", "doc_id": "A"}).to_json())
        for name in (
            "doc_type",
            "doc_id",
            "function",
            "issued_at",
            "sender",
            "receiver",
            "source",
            "extensions",
        ):
            assert name in data
        assert set(data["source"]) == {
            "file_id", "file_name", "sha256", "format", "encoding", "message_ref", "interchange_ref",
            "warnings",
        }  # fmt: skip

    def test_nested_types_are_built(self) -> None:
        record = record_from_dict({
            "doc_type": "shipment", "doc_id": "S", "packages": [{"sscc": "1"}],
            "lines": [{"sku": "A", "quantity_shipped": "1"}],
        })  # fmt: skip
        assert isinstance(record, Shipment)
        assert isinstance(record.lines[0], ShipmentLine)
        assert record.packages[0].sscc == "1"

    def test_extensions_travel_under_their_explicit_key(self) -> None:
        record = record_from_dict({"doc_type": "product", "doc_id": "A", "extensions": {"hazmat_class": "3"}})
        assert record.extensions == {"hazmat_class": "3"}

    def test_an_unknown_field_is_a_mapping_bug_not_an_extension(self) -> None:
        with pytest.raises(TypeError, match=r"SalesOrder has no field\(s\) requested_ship_dat"):
            record_from_dict({"doc_type": "sales_order", "doc_id": "A", "requested_ship_dat": "2026-01-01"})

    def test_non_ascii_is_kept_verbatim(self) -> None:
        record = record_from_dict({"doc_type": "customer", "doc_id": "C", "name": "Müller – Ørsted"})
        assert "Müller – Ørsted" in record.to_json()
