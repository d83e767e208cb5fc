"""Outbound writers beside the obvious reference: `csv.writer` writing the same rows.

The reference writes pre-formatted rows and does nothing else; a target also picks a layout,
reads canonical paths, checks every rule and value map and encodes cell by cell, so the ratio
says what those checks cost per row. Run it with `python -m benchmarks.targets`.
"""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

from gateway.canonical.build import record_from_dict
from gateway.canonical.records import Record
from gateway.config import TargetConfig

DOCUMENTS = 5_000
LINES = 5


class _Sink(io.BytesIO):
    """An output that is discarded: the benchmark measures formatting, not the disk."""


def shipments(count: int = DOCUMENTS, lines: int = LINES) -> list[Record]:
    """Canonical shipments with `lines` lines and two tracking numbers each."""
    return [
        record_from_dict(
            {
                "doc_type": "shipment",
                "doc_id": f"S{d}",
                "shipment_id": f"S{d}",
                "order_number": f"{d:07}",
                "ship_date": "2026-11-26",
                "carrier": "UPSN",
                "warehouse": "DC1",
                "tracking_numbers": [f"1Z{d:016}", f"1Z{d + 1:016}"],
                "lines": [
                    {
                        "line_no": str(n),
                        "sku": f"sku-{n}",
                        "quantity_shipped": f"{n}.5",
                        "unit_price": "2.50",
                        "uom": "EA",
                    }
                    for n in range(1, lines + 1)
                ],
            }
        )
        for d in range(count)
    ]


def _target_seconds(fmt: str, records: list[Record], options: dict[str, Any]) -> float:
    from gateway import plugins
    from gateway.targets.base import FileInfo

    target = plugins.target(fmt)(TargetConfig("bench", fmt, "local:out", options))
    started = time.perf_counter()
    writer = target.writer(FileInfo("B1", "bench.csv"), lambda name: _Sink())
    for record in records:
        if writer.write(record):
            raise AssertionError(f"{fmt} refused a benchmark record")
    writer.close()
    return time.perf_counter() - started


def _reference_seconds(rows: int, width: int) -> float:
    row = [f"cell{i}" for i in range(width)]
    started = time.perf_counter()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for _ in range(rows):
        writer.writerow(row)
    buffer.getvalue().encode("cp1252")
    return time.perf_counter() - started


def run(count: int = DOCUMENTS) -> dict[str, Any]:
    """Rows per second of each writer and of `csv.writer`, measured in this run."""
    records = shipments(count)
    sage_rows = count * (1 + LINES + 2)
    line_rows = count * LINES
    cases = {
        "sage100": ("sage100.shipment", {"value_map": "wms_to_sage100"}, sage_rows, 6),
        "netsuite": ("netsuite.item_fulfillment", {}, line_rows, 11),
        "canonical_csv": ("canonical_csv", {}, line_rows, 30),
    }
    result: dict[str, Any] = {"workload": f"{count} shipments of {LINES} lines written by each target"}
    for name, (fmt, options, rows, width) in cases.items():
        seconds = _target_seconds(fmt, records, options)
        reference = _reference_seconds(rows, width)
        result[f"{name}_rows_per_s"] = round(rows / seconds)
        result[f"{name}_vs_csv_writer"] = round(reference / seconds, 3)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
