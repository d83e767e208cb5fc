"""Every message the EDIFACT target writes is valid: minimal and full records, D96A and D01B."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers_edifact import records
from test_edifact_roundtrip import ADJUSTMENT, PURCHASE, RECEIPT, SHIPMENT, _write

from gateway.canonical.build import record_from_dict
from gateway.config import Config

FULL = {
    "shipment": SHIPMENT,
    "receipt": RECEIPT,
    "inventory_adjustment": ADJUSTMENT,
    "purchase_order": PURCHASE,
}
# Only what a canonical record requires; then the same with one bare line.
MINIMAL = {kind: {"doc_type": kind, "doc_id": f"{kind[:3].upper()}-1"} for kind in FULL}
BARE_LINE = {kind: {**record, "lines": [{"line_no": "1"}]} for kind, record in MINIMAL.items()}
CASES = [(name, kind) for name in ("full", "minimal", "bare_line") for kind in FULL]


@pytest.mark.parametrize("directory", ["D96A", "D01B"])
@pytest.mark.parametrize(("shape", "kind"), CASES)
def test_written_messages_validate(
    tmp_path: Path, make_config: Callable[..., Config], directory: str, shape: str, kind: str
) -> None:
    data: dict[str, Any] = {"full": FULL, "minimal": MINIMAL, "bare_line": BARE_LINE}[shape][kind]
    written, findings = _write([record_from_dict(dict(data))], directory=directory)
    assert findings == []
    path = tmp_path / "out.edi"
    path.write_bytes(written)
    back, report = records(path, make_config(), edifact_orders_as="purchase_order")
    if shape == "bare_line":
        # The message satisfies its schema; only reading its meaning finds the line names no item.
        assert [(f.code, f.location["segment"]) for f in report.findings] == [("missing_item", "LIN")]
        return
    assert report.findings == [], written.decode("latin-1")
    assert [r.doc_type for r in back] == [kind]


def test_recadv_names_buyer_supplier_and_delivery_party() -> None:
    written, _ = _write([record_from_dict(dict(RECEIPT))])
    text = written.decode("latin-1")
    assert "NAD+BY+5412345000013::9'\nNAD+SU+4012345000009::9'\nNAD+DP+WH1::92'" in text
    written, _ = _write([record_from_dict(dict(MINIMAL["receipt"]))], receiver_qualifier="ZZ")
    assert "NAD+SU+4012345000009::ZZZ'" in written.decode("latin-1")


@pytest.mark.parametrize(
    "data",
    [
        {**ADJUSTMENT, "lines": [{"line_no": "1", "mode": "count"}]},
        {**SHIPMENT, "tracking_numbers": [f"T{n}" for n in range(10)]},
    ],
)
def test_what_a_message_cannot_carry_is_a_finding(data: dict[str, Any]) -> None:
    written, findings = _write([record_from_dict(dict(data))])
    assert [f.code for f in findings] == ["unwritable"] and written == b""
