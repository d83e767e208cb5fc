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
    if shape == "bare_line" and kind != "purchase_order":
        # EANCOM's DESADV, RECADV and INVRPT name each line's item by GTIN in LIN: refused, named.
        assert [(f.code, f.location.get("line_no")) for f in findings] == [("unwritable", "1")]
        return
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


def test_desadv_names_buyer_and_supplier() -> None:
    written, _ = _write([record_from_dict(dict(SHIPMENT))])
    text = written.decode("latin-1")
    # The supplier sends the despatch advice (interchange sender), the buyer receives it.
    assert "NAD+BY+4012345000009::9'\nNAD+SU+5412345000013::9'" in text


def test_a_line_in_a_package_the_shipment_does_not_list_is_never_dropped(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    """A Peppol despatch advice gives each line its package (SSCC) and no package list."""
    gtin, first, second = "4000862141404", "340123450000000018", "340123450000000025"
    shipment = {
        "doc_type": "shipment", "doc_id": "DA-1", "shipment_id": "DA-1", "issued_at": "2026-11-26",
        "lines": [
            {"line_no": "1", "gtin": gtin, "quantity_shipped": "10", "package_sscc": first},
            {"line_no": "2", "gtin": gtin, "quantity_shipped": "5", "package_sscc": second},
            {"line_no": "3", "gtin": "4000862141428", "sku": "LOOSE", "quantity_shipped": "1"},
        ],
    }  # fmt: skip
    written, findings = _write([record_from_dict(shipment)])
    assert findings == []
    path = tmp_path / "out.edi"
    path.write_bytes(written)
    (back,), report = records(path, make_config())
    assert report.findings == []
    lines = {ln["line_no"]: (ln["quantity_shipped"], ln["package_sscc"]) for ln in back.to_dict()["lines"]}
    assert lines == {"1": ("10", first), "2": ("5", second), "3": ("1", None)}
    # pydifact, a reader nobody here wrote, sees the three lines and the two packages too.
    from pydifact.segmentcollection import Interchange

    segments = list(Interchange.from_str(written.decode("latin-1")).segments)
    assert [s.tag for s in segments].count("LIN") == 3
    assert [s.elements[1] for s in segments if s.tag == "GIN"] == [first, second]
