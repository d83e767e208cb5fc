"""The NetSuite target's column names against NetSuite's own field labels (docs/netsuite.md).

The names below are written by hand from the public NetSuite sources docs/netsuite.md lists:
[S1] http://content.netsuite.com/download/2022_1_Schema_and_Records_Browser.zip (InventoryAdjustment)
[S2] https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N435556.html
[S3] https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1534420642.html
[S4] https://system.netsuite.com/download/2020_1_Schema_and_Records_Browser.zip (PurchaseOrderItem,
     CreditMemoItem)
[S5] https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1529583019.html
"""

from __future__ import annotations

import csv
import io

import pytest

from gateway.targets.layout import layouts
from tests.targets.test_targets_rules import write

#: Per layout, the canonical value written and the NetSuite label a source gives its field.
VERIFIED: dict[str, dict[str, str]] = {
    "inventory_adjustment": {
        "adjustment_id": "External ID",  # S3
        "adjusted_at": "Date",  # S2
        "option.adjustment_account": "Adjustment Account",  # S1 (account), S2
        "warehouse": "Location",  # S1, S2; the body's adjLocation is "Adjustment Location" (S1)
        "item.reason_code": "Memo",  # S2
    },
    "item_fulfillment": {
        "shipment_id": "External ID",  # S3
        "order_number": "Created From",  # S4
        "carrier": "Ship Via",  # S4 (shipMethod)
        "warehouse": "Location",  # S4
    },
    "item_receipt": {"receipt_id": "External ID", "po_number": "Created From", "warehouse": "Location"},
    "sales_order": {"order_number": "External ID", "carrier": "Ship Via", "warehouse": "Location"},
    "transfer_order": {"transfer_id": "External ID", "from_warehouse": "From Location"},  # S3, S5
}
#: Names the sources do not list (docs/netsuite.md says so): an import map maps them by hand.
UNLISTED = {
    "Adjust Qty By", "Units", "Serial/Lot Numbers", "Order Line", "Line", "Item", "Quantity", "Rate",
    "Description", "Tracking Numbers", "Shipping Method", "To Location", "Currency", "PO #", "Ship Date",
    "Customer", "Date", "Adjustment Location", "Ship To Addressee", "Ship To Address 1", "Ship To Address 2",
    "Ship To City", "Ship To State", "Ship To Zip", "Ship To Country",
}  # fmt: skip


@pytest.mark.parametrize("layout", sorted(VERIFIED))
def test_columns_carry_netsuite_s_labels(layout: str) -> None:
    columns = {c.name: c for record in layouts("netsuite")[layout].records for c in record.columns}
    sources = {name: ".".join(c.path) for name, c in columns.items()}
    for value, label in VERIFIED[layout].items():
        assert label in columns, f"{layout}: NetSuite's label {label!r} is not a column"
        assert sources[label] == value, f"{layout}: {label!r} is written from {sources[label]!r}"
    documented = set(VERIFIED[layout].values()) | UNLISTED
    assert set(columns) <= documented, f"{layout}: undocumented names {set(columns) - documented}"


def test_the_adjustment_file_says_adjustment_account() -> None:
    doc = {
        "doc_type": "inventory_adjustment", "doc_id": "ADJ-7", "adjustment_id": "ADJ-7",
        "adjusted_at": "2026-03-04T10:00:00", "warehouse": "WH1",
        "lines": [{"line_no": "1", "sku": "A-1", "mode": "delta", "quantity_change": "-2", "uom": "EA"}],
    }  # fmt: skip
    findings, memory = write("netsuite", [doc], adjustment_account="Inventory Shrinkage")
    assert findings == []
    (data,) = memory.data.values()
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert row[header.index("Adjustment Account")] == "Inventory Shrinkage"
    assert "Account" not in header
