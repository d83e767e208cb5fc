"""XML out: canonical → XML → canonical, and never a file that fails its own schema."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.canonical.build import record_from_dict
from gateway.cli import check
from gateway.config import Config, TargetConfig, target_problems
from gateway.formats.xml.writer import XmlTarget
from gateway.targets.base import FileInfo

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples" / "inbound" / "xml"


class Sink(io.BytesIO):
    """An output that keeps its bytes after close."""

    def close(self) -> None:
        self.kept = self.getvalue()


def writer_for(layout: str) -> tuple[Any, dict[str, Sink]]:
    outputs: dict[str, Sink] = {}

    def open_output(name: str) -> Sink:
        outputs[name] = Sink()
        return outputs[name]

    target = XmlTarget(TargetConfig("x", "xml", "local:out", {"layout": layout}))
    return target.writer(FileInfo("f1", "in.csv"), open_output), outputs


def records_of(path: Path, config: Config) -> list[dict[str, Any]]:
    report = check.Report(path)
    records = [r.to_dict() for r in check.read(path, config, config.sources[0], report)]
    assert report.valid, [f.to_dict() for f in report.findings]
    return records


def without_source(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "source"}


@pytest.mark.parametrize(
    ("sample", "layout"),
    [
        ("ubl_despatch_advice", "ubl.despatch_advice"),
        ("ubl_receipt_advice", "ubl.receipt_advice"),
        ("erp_products", "erp.products"),
        ("erp_customers", "erp.customers"),
        ("erp_inventory_adjustments", "erp.inventory_adjustments"),
    ],
)
def test_round_trip(sample: str, layout: str, tmp_path: Path, make_config: Callable[..., Config]) -> None:
    config = make_config()
    original = records_of(SAMPLES / f"{sample}.xml", config)
    writer, outputs = writer_for(layout)
    for record in original:
        assert writer.write(record_from_dict(record)) == []
    writer.close()
    again: list[dict[str, Any]] = []
    for name, sink in outputs.items():
        path = tmp_path / name
        path.write_bytes(sink.kept)
        again.extend(records_of(path, config))
    assert [without_source(r) for r in again] == [without_source(r) for r in original]


def test_round_trip_from_canonical_csv_fields(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    record = record_from_dict(
        {
            "doc_type": "inventory_adjustment",
            "doc_id": "ADJ-9",
            "adjustment_id": "ADJ-9",
            "adjusted_at": "2026-11-26",
            "warehouse": "000",
            "lines": [
                {
                    "line_no": "1",
                    "sku": "W-1",
                    "mode": "delta",
                    "quantity_change": "-2",
                    "reason_code": "DMG",
                },
                {"line_no": "2", "sku": "W-2", "mode": "count", "counted_quantity": "7"},
            ],
        }
    )
    writer, outputs = writer_for("erp.inventory_adjustments")
    assert writer.write(record) == []
    writer.close()
    (name,) = outputs
    path = tmp_path / name
    path.write_bytes(outputs[name].kept)
    (back,) = records_of(path, make_config())
    assert without_source(back) == without_source(record.to_dict())


PARTIES = {
    "sender": {"id": "4098765000002", "scheme": "0088"},
    "receiver": {"id": "4012345000009", "scheme": "0088"},
}


def shipment(n: int, **extra: Any) -> dict[str, Any]:
    return {"doc_type": "shipment", "doc_id": f"S{n}", "shipment_id": f"S{n}", "issued_at": "2026-11-26",
            **PARTIES, "lines": [{"line_no": "1", "sku": "A", "quantity_shipped": "1"}], **extra}  # fmt: skip


def test_one_file_per_document_for_ubl() -> None:
    writer, outputs = writer_for("ubl.despatch_advice")
    for n in (1, 2):
        assert writer.write(record_from_dict(shipment(n))) == []
    writer.close()
    assert sorted(outputs) == ["in.f1.1.xml", "in.f1.2.xml"]
    assert b"<cbc:ID>S2</cbc:ID>" in outputs["in.f1.2.xml"].kept


def test_a_shipment_ubl_cannot_carry_whole_is_refused_not_cut() -> None:
    # UBL gives a consignment one carrier-assigned ID and requires an issue date.
    writer, outputs = writer_for("ubl.despatch_advice")
    two = writer.write(record_from_dict(shipment(1, tracking_numbers=["1Z1", "1Z2"])))
    undated = writer.write(record_from_dict(shipment(2, issued_at=None)))
    writer.close()
    assert [f.code for f in two] == ["schema_violation"] and "CarrierAssignedID" in two[0].message
    assert [f.code for f in undated] == ["schema_violation"] and "IssueDate" in undated[0].message
    assert outputs == {}


def test_a_record_that_would_fail_the_schema_is_a_finding_and_writes_nothing() -> None:
    writer, outputs = writer_for("erp.products")
    good = record_from_dict({"doc_type": "product", "doc_id": "A", "sku": "A"})
    bad = record_from_dict(
        {"doc_type": "product", "doc_id": "B", "sku": "B", "gtin": "123", "unit_cost": "cheap"}
    )
    assert writer.write(good) == []
    findings = writer.write(bad)
    writer.close()
    assert [(f.code, f.location) for f in findings] == [
        ("schema_violation", {"record": 2, "xpath": "/Product/GTIN"}),
        ("schema_violation", {"record": 2, "xpath": "/Product/UnitCost"}),
    ]
    assert findings[0].value == "B" and "outbound" in (findings[0].rule or "")
    assert b"<SKU>B</SKU>" not in outputs["in.f1.xml"].kept


def test_a_record_of_another_type_is_a_finding() -> None:
    writer, outputs = writer_for("ubl.receipt_advice")
    (finding,) = writer.write(record_from_dict({"doc_type": "product", "doc_id": "A"}))
    assert finding.code == "not_representable" and finding.location == {"record": 1}
    assert outputs == {}


def test_target_check_reports_every_problem() -> None:
    assert target_problems(XmlTarget, TargetConfig("x", "xml", "local:o", {}))[0].startswith(
        "layout: required"
    )
    problems = target_problems(
        XmlTarget, TargetConfig("x", "xml", "local:o", {"layout": "nope", "colour": "red"})
    )
    assert problems[0] == "colour: unknown option" and problems[1].startswith(
        "layout: no XML layout named 'nope'"
    )
    problems = target_problems(
        XmlTarget,
        TargetConfig("x", "xml", "local:o", {"layout": "ubl.receipt_advice", "file_name": "{file_id}.xml"}),
    )
    assert problems == ["file_name: must contain {n}: this layout writes one file per document"]
    assert (
        json.dumps(
            target_problems(XmlTarget, TargetConfig("x", "xml", "local:o", {"layout": "erp.products"}))
        )
        == "[]"
    )


def test_a_date_time_is_written_as_the_day_where_the_layout_holds_a_date() -> None:
    writer, outputs = writer_for("ubl.receipt_advice")
    record = record_from_dict(
        {
            "doc_type": "receipt",
            "doc_id": "R1",
            "issued_at": "2026-11-26T15:55:00+01:00",
            **PARTIES,
            "lines": [{"line_no": "1", "quantity_received": "2"}],
        }
    )
    assert writer.write(record) == []
    assert b"<cbc:IssueDate>2026-11-26</cbc:IssueDate>" in outputs["in.f1.1.xml"].kept
