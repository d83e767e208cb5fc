"""The typed shape of what a mapping returns: one TypedDict per document type and line type.

Mappings build plain dicts (cheap, and the form JSON and layouts speak), but typed ones: a key
that is not a canonical name, `requested_ship_dat` say, is a mypy error where it is written,
not a value silently filed away at run time. A partner's field the canonical model has no name
for yet goes under an explicit `extensions` key. Every key is optional (`total=False`) except
`doc_type`, because a mapping says only what its input said; `build` fills in the defaults.
The shapes mirror `records` name for name, and a test holds the two together.
"""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict, TypeVar, cast

from gateway.canonical.records import Function, Source


class PartyIdData(TypedDict, total=False):
    """`sender` and `receiver`."""

    id: str | None
    scheme: str | None


class PartyData(TypedDict, total=False):
    """A party: sold-to, ship-to, bill-to, supplier, carrier."""

    role: str | None
    id: str | None
    scheme: str | None
    name: str | None
    address_lines: list[str]
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None
    code: str | None


class SourceData(TypedDict, total=False):
    """Lineage: the file and envelope a record came from."""

    file_id: str | None
    file_name: str | None
    sha256: str | None
    format: str | None
    encoding: str | None
    message_ref: str | None
    interchange_ref: str | None
    warnings: list[dict[str, Any]]


class PackageData(TypedDict, total=False):
    """A shipped package or pallet."""

    sscc: str | None
    tracking_number: str | None
    weight: str | None


class LineData(TypedDict, total=False):
    """Fields every document line has."""

    line_no: str | None
    sku: str | None
    gtin: str | None
    buyer_sku: str | None
    description: str | None
    quantity: str | None
    uom: str | None
    unit_price: str | None
    lot: str | None
    serial: str | None
    expiry: str | None
    location: str | None
    extensions: dict[str, Any]


class PriceListLineData(LineData, total=False):
    """One price of a price list."""

    per_quantity: str | None
    min_quantity: str | None


class PurchaseOrderLineData(LineData, total=False):
    """A purchase order line with the vendor's item number."""

    vendor_sku: str | None


class ShipmentLineData(LineData, total=False):
    """What left the warehouse for one order line."""

    quantity_shipped: str | None
    quantity_ordered: str | None
    package_sscc: str | None


class AdjustmentLineData(LineData, total=False):
    """A stock change (`delta`) or a stock count (`count`)."""

    mode: Literal["delta", "count"] | None
    quantity_change: str | None
    counted_quantity: str | None
    reason_code: str | None
    reason: str | None


class ReceiptLineData(LineData, total=False):
    """What arrived for one expected line."""

    quantity_expected: str | None
    quantity_received: str | None
    quantity_rejected: str | None
    reject_reason: str | None


class ReturnLineData(LineData, total=False):
    """A returned item and what the warehouse did with it."""

    condition: str | None
    disposition: Literal["restock", "scrap", "quarantine"] | None
    reason: str | None


class TransferLineData(LineData, total=False):
    """An item moved between locations."""

    from_location: str | None
    to_location: str | None


class EnvelopeData(TypedDict, total=False):
    """The fields every canonical document carries, `doc_type` aside."""

    doc_id: str
    function: Function
    issued_at: str | None
    sender: PartyIdData
    receiver: PartyIdData
    # Readers attach their lineage as the record class itself: nothing left to convert.
    source: SourceData | Source
    extensions: dict[str, Any]


class ProductData(EnvelopeData, total=False):
    """An item master record."""

    doc_type: Required[Literal["product"]]
    sku: str | None
    description: str | None
    uom: str | None
    gtin: str | None
    category: str | None
    unit_cost: str | None
    weight: str | None
    weight_uom: str | None
    length: str | None
    width: str | None
    height: str | None
    dimension_uom: str | None
    lot_controlled: bool | None
    serial_controlled: bool | None


class CustomerData(EnvelopeData, total=False):
    """A customer master record with its ship-to addresses."""

    doc_type: Required[Literal["customer"]]
    customer_id: str | None
    name: str | None
    bill_to: PartyData | None
    ship_to: list[PartyData]
    terms: str | None
    tax_id: str | None


class PriceListData(EnvelopeData, total=False):
    """Prices for a currency and period."""

    doc_type: Required[Literal["price_list"]]
    price_list_id: str | None
    currency: str | None
    valid_from: str | None
    valid_to: str | None
    customer_id: str | None
    lines: list[PriceListLineData]


class SalesOrderData(EnvelopeData, total=False):
    """A customer's order."""

    doc_type: Required[Literal["sales_order"]]
    order_number: str | None
    customer_id: str | None
    customer_po: str | None
    order_date: str | None
    requested_ship_date: str | None
    ship_to: PartyData | None
    bill_to: PartyData | None
    carrier: str | None
    service_level: str | None
    warehouse: str | None
    currency: str | None
    lines: list[LineData]


class PurchaseOrderData(EnvelopeData, total=False):
    """An order to a vendor."""

    doc_type: Required[Literal["purchase_order"]]
    po_number: str | None
    vendor_id: str | None
    order_date: str | None
    expected_date: str | None
    warehouse: str | None
    currency: str | None
    lines: list[PurchaseOrderLineData]


class ShipmentData(EnvelopeData, total=False):
    """A shipment confirmation."""

    doc_type: Required[Literal["shipment"]]
    shipment_id: str | None
    order_number: str | None
    ship_date: str | None
    carrier: str | None
    service_level: str | None
    tracking_numbers: list[str]
    packages: list[PackageData]
    warehouse: str | None
    lines: list[ShipmentLineData]


class InventoryAdjustmentData(EnvelopeData, total=False):
    """Stock corrections and counts."""

    doc_type: Required[Literal["inventory_adjustment"]]
    adjustment_id: str | None
    adjusted_at: str | None
    warehouse: str | None
    lines: list[AdjustmentLineData]


class ReceiptData(EnvelopeData, total=False):
    """A receiving confirmation."""

    doc_type: Required[Literal["receipt"]]
    receipt_id: str | None
    po_number: str | None
    asn_number: str | None
    received_at: str | None
    warehouse: str | None
    lines: list[ReceiptLineData]


class ReturnData(EnvelopeData, total=False):
    """A customer return."""

    doc_type: Required[Literal["return"]]
    rma_number: str | None
    order_number: str | None
    customer_id: str | None
    received_at: str | None
    warehouse: str | None
    lines: list[ReturnLineData]


class TransferData(EnvelopeData, total=False):
    """A stock transfer."""

    doc_type: Required[Literal["transfer"]]
    transfer_id: str | None
    from_warehouse: str | None
    to_warehouse: str | None
    status: str | None
    completed_at: str | None
    lines: list[TransferLineData]


RecordData = (
    ProductData
    | CustomerData
    | PriceListData
    | SalesOrderData
    | PurchaseOrderData
    | ShipmentData
    | InventoryAdjustmentData
    | ReceiptData
    | ReturnData
    | TransferData
)
"""What a mapping returns: the data of one canonical document of any type."""

Doc = TypeVar("Doc", bound=EnvelopeData)


def enveloped(envelope: EnvelopeData, doc: Doc) -> Doc:
    """`doc` with the envelope fields it does not set itself.

    A TypedDict literal may not spread an `EnvelopeData` (mypy cannot rule out extra keys in a
    structural subtype); every document shape extends `EnvelopeData`, so the merge is of the
    document's own type.
    """
    return cast("Doc", {**envelope, **doc})
