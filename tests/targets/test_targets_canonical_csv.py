"""Canonical CSV out uses the reader's layouts: what the reader reads, the writer gives back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway import config as config_module
from gateway.canonical.build import record_from_dict
from gateway.canonical.records import Record
from gateway.cli.check import Report, read
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.formats.csv.writer import CanonicalCsvTarget
from gateway.targets.base import FileInfo
from tests.targets.test_targets_golden import ALL_SAMPLES, INBOUND
from tests.targets.test_targets_rules import Memory


def records_of(path: Path, root: Path) -> list[dict[str, Any]]:
    config = config_module.parse({}, root)
    report = Report(path)
    found = [r.to_dict() for r in read(path, config, config.sources[0], report)]
    assert report.valid, [f.render(path.name) for f in report.findings]
    for record in found:
        record.pop("source")
    return found


def write_csv(records: list[Record], **options: Any) -> tuple[list[Finding], Memory]:
    target = CanonicalCsvTarget(TargetConfig("c", "canonical_csv", "local:out", options))
    memory = Memory()
    writer = target.writer(FileInfo("F1", "in.csv"), memory)
    findings = [f for r in records for f in writer.write(r)]
    writer.close()
    return findings, memory


def round_trip(tmp_path: Path, records: list[Record]) -> list[dict[str, Any]]:
    findings, memory = write_csv(records)
    assert findings == [], [f.render("x") for f in findings]
    (name, data), *_ = memory.data.items()
    path = tmp_path / name
    path.write_bytes(data)
    return records_of(path, tmp_path / "root")


@pytest.mark.parametrize("sample", ALL_SAMPLES)
def test_samples_round_trip(tmp_path: Path, sample: str) -> None:
    original = records_of(INBOUND / sample, tmp_path / "root")
    again = round_trip(tmp_path, [record_from_dict(r) for r in original])
    assert again == original


def test_awkward_values_round_trip(tmp_path: Path) -> None:
    record = record_from_dict({
        "doc_type": "shipment", "doc_id": "S/1", "shipment_id": "S/1", "function": "replace",
        "issued_at": "2026-11-26T08:15:00+01:00", "sender": {"id": "5412345000013", "scheme": "GLN"},
        "tracking_numbers": ["T1", "T2"],
        "packages": [{"sscc": "003456789012345675", "tracking_number": "T1", "weight": "2.4"},
                     {"tracking_number": "T2"}],
        "lines": [
            {"line_no": "1", "sku": "A", "description": 'Bolt, "hex"\nM4 — Ærø', "quantity_shipped": "1",
             "package_sscc": "003456789012345675"},
            {"line_no": "2", "sku": "B", "quantity_shipped": "0.5"},
        ],
    })  # fmt: skip
    (again,) = round_trip(tmp_path, [record])
    expected = record.to_dict()
    expected.pop("source")
    assert again == expected


def test_what_the_layout_cannot_hold_is_refused() -> None:
    record = record_from_dict({
        "doc_type": "shipment", "doc_id": "S1", "shipment_id": "S1",
        "tracking_numbers": ["T1", "T2"], "packages": [{"sscc": "003456789012345675"}],
        "lines": [{"sku": "A", "quantity_shipped": "1", "description": "x" * 300}],
    })  # fmt: skip
    findings, memory = write_csv([record])
    assert memory.data == {}
    fields = {f.location["field"]: f for f in findings}
    assert set(fields) == {"tracking_numbers[]", "packages", "description"}
    assert "longer than 256" in fields["description"].message


def test_header_row_lists_the_layout_columns_key_first() -> None:
    record = record_from_dict({"doc_type": "product", "doc_id": "P1", "sku": "P1", "lot_controlled": True})
    _, memory = write_csv([record])
    header, row = memory.data["product.in.F1.csv"].decode().splitlines()
    assert header.startswith("sku,description,") and header.endswith(",receiver_scheme")
    assert "true" in row.split(",")
