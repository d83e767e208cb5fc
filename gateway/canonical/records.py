"""The ten canonical document types, as named in the design contract.

Every record is a frozen dataclass. Quantities, prices and amounts are decimal strings, dates ISO
8601 strings: the canonical form is text, so a value read from a file is written out exactly as
it was understood, with no float rounding in between. `to_dict` omits nothing: a consumer sees
every canonical name, `None` where the source said nothing.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

DocType = Literal[
    "product",
    "customer",
    "price_list",
    "sales_order",
    "purchase_order",
    "shipment",
    "inventory_adjustment",
    "receipt",
    "return",
    "transfer",
]
Function = Literal["original", "replace", "cancel"]

#: Which side owns each document type (the ERP owns money and master data; the WMS owns stock).
OWNER: dict[str, str] = {
    "product": "erp",
    "customer": "erp",
    "price_list": "erp",
    "sales_order": "erp",
    "purchase_order": "erp",
    "shipment": "wms",
    "inventory_adjustment": "wms",
    "receipt": "wms",
    "return": "wms",
    "transfer": "wms",
}


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def plain(value: Any) -> Any:
    """Dataclasses, lists and dicts as plain JSON-ready values.

    Records are frozen and their values immutable text, so unlike `dataclasses.asdict` nothing
    needs deep-copying; on a file of many lines that is most of the serialising time.
    """
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return {name: plain(getattr(value, name)) for name in _field_names(type(value))}


def _fields(value: Any) -> dict[str, Any]:
    """One dataclass's fields, for the JSON encoder, which turns the values themselves (text,
    lists, dicts, nested dataclasses through here again) in C."""
    return {name: getattr(value, name) for name in _field_names(type(value))}


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=_fields)


@dataclass(frozen=True, kw_only=True)
class PartyId:
    """An identifier with the scheme that gives it meaning (GLN, DUNS, SAP LS, ERP id)."""

    id: str | None = None
    scheme: str | None = None


@dataclass(frozen=True, kw_only=True)
class Party:
    """A business party: sold-to, ship-to, bill-to, supplier, carrier."""

    role: str | None = None
    id: str | None = None
    scheme: str | None = None
    name: str | None = None
    address_lines: list[str] = field(default_factory=list)
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    code: str | None = None


@dataclass(frozen=True, kw_only=True)
class Source:
    """Lineage: the file and envelope a record came from."""

    file_id: str | None = None
    file_name: str | None = None
    sha256: str | None = None
    format: str | None = None
    encoding: str | None = None
    message_ref: str | None = None
    interchange_ref: str | None = None
    #: The warnings found while the record was read (error.json's shape, without severity).
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Line:
    """Fields every document line has."""

    line_no: str | None = None
    sku: str | None = None
    gtin: str | None = None
    buyer_sku: str | None = None
    description: str | None = None
    quantity: str | None = None
    uom: str | None = None
    unit_price: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: str | None = None
    location: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Record:
    """The envelope every canonical document carries."""

    doc_type: ClassVar[str]
    line_type: ClassVar[type[Line] | None] = None

    doc_id: str
    function: Function = "original"
    issued_at: str | None = None
    sender: PartyId = field(default_factory=PartyId)
    receiver: PartyId = field(default_factory=PartyId)
    source: Source = field(default_factory=Source)
    extensions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form, `doc_type` first."""
        return {"doc_type": self.doc_type, **plain(self)}

    def to_json(self) -> str:
        """Return one JSON Lines line (without the newline): `to_dict`, serialised."""
        return _ENCODER.encode({"doc_type": self.doc_type, **_fields(self)})


@dataclass(frozen=True, kw_only=True)
class Product(Record):
    """An item master record."""

    doc_type = "product"
    sku: str | None = None
    description: str | None = None
    uom: str | None = None
    gtin: str | None = None
    category: str | None = None
    unit_cost: str | None = None
    weight: str | None = None
    weight_uom: str | None = None
    length: str | None = None
    width: str | None = None
    height: str | None = None
    dimension_uom: str | None = None
    lot_controlled: bool | None = None
    serial_controlled: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Customer(Record):
    """A customer master record with its ship-to addresses."""

    doc_type = "customer"
    customer_id: str | None = None
    name: str | None = None
    bill_to: Party | None = None
    ship_to: list[Party] = field(default_factory=list)
    terms: str | None = None
    tax_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class PriceListLine(Line):
    """One price of a price list."""

    per_quantity: str | None = None
    min_quantity: str | None = None


@dataclass(frozen=True, kw_only=True)
class PriceList(Record):
    """Prices for a currency and period, optionally for one customer."""

    doc_type = "price_list"
    line_type = PriceListLine
    price_list_id: str | None = None
    currency: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    customer_id: str | None = None
    lines: list[PriceListLine] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class SalesOrder(Record):
    """A customer's order, for the warehouse to fulfil."""

    doc_type = "sales_order"
    line_type = Line
    order_number: str | None = None
    customer_id: str | None = None
    customer_po: str | None = None
    order_date: str | None = None
    requested_ship_date: str | None = None
    ship_to: Party | None = None
    bill_to: Party | None = None
    carrier: str | None = None
    service_level: str | None = None
    warehouse: str | None = None
    currency: str | None = None
    lines: list[Line] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderLine(Line):
    """A purchase order line with the vendor's item number."""

    vendor_sku: str | None = None


@dataclass(frozen=True, kw_only=True)
class PurchaseOrder(Record):
    """An order to a vendor, announced to the warehouse for receiving."""

    doc_type = "purchase_order"
    line_type = PurchaseOrderLine
    po_number: str | None = None
    vendor_id: str | None = None
    order_date: str | None = None
    expected_date: str | None = None
    warehouse: str | None = None
    currency: str | None = None
    lines: list[PurchaseOrderLine] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Package:
    """A shipped package or pallet."""

    sscc: str | None = None
    tracking_number: str | None = None
    weight: str | None = None


@dataclass(frozen=True, kw_only=True)
class ShipmentLine(Line):
    """What left the warehouse for one order line."""

    quantity_shipped: str | None = None
    quantity_ordered: str | None = None
    package_sscc: str | None = None


@dataclass(frozen=True, kw_only=True)
class Shipment(Record):
    """A shipment confirmation from the warehouse."""

    doc_type = "shipment"
    line_type = ShipmentLine
    shipment_id: str | None = None
    order_number: str | None = None
    ship_date: str | None = None
    carrier: str | None = None
    service_level: str | None = None
    tracking_numbers: list[str] = field(default_factory=list)
    packages: list[Package] = field(default_factory=list)
    warehouse: str | None = None
    lines: list[ShipmentLine] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class AdjustmentLine(Line):
    """A stock change (`delta`) or a stock count (`count`) for one item and place."""

    mode: Literal["delta", "count"] | None = None
    quantity_change: str | None = None
    counted_quantity: str | None = None
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class InventoryAdjustment(Record):
    """Stock corrections and counts from the warehouse."""

    doc_type = "inventory_adjustment"
    line_type = AdjustmentLine
    adjustment_id: str | None = None
    adjusted_at: str | None = None
    warehouse: str | None = None
    lines: list[AdjustmentLine] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ReceiptLine(Line):
    """What arrived for one expected line."""

    quantity_expected: str | None = None
    quantity_received: str | None = None
    quantity_rejected: str | None = None
    reject_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Receipt(Record):
    """A receiving confirmation against a purchase order or ASN."""

    doc_type = "receipt"
    line_type = ReceiptLine
    receipt_id: str | None = None
    po_number: str | None = None
    asn_number: str | None = None
    received_at: str | None = None
    warehouse: str | None = None
    lines: list[ReceiptLine] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ReturnLine(Line):
    """A returned item and what the warehouse did with it."""

    condition: str | None = None
    disposition: Literal["restock", "scrap", "quarantine"] | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Return(Record):
    """A customer return received by the warehouse."""

    doc_type = "return"
    line_type = ReturnLine
    rma_number: str | None = None
    order_number: str | None = None
    customer_id: str | None = None
    received_at: str | None = None
    warehouse: str | None = None
    lines: list[ReturnLine] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class TransferLine(Line):
    """An item moved between locations."""

    from_location: str | None = None
    to_location: str | None = None


@dataclass(frozen=True, kw_only=True)
class Transfer(Record):
    """A stock transfer between warehouses or locations."""

    doc_type = "transfer"
    line_type = TransferLine
    transfer_id: str | None = None
    from_warehouse: str | None = None
    to_warehouse: str | None = None
    status: str | None = None
    completed_at: str | None = None
    lines: list[TransferLine] = field(default_factory=list)


RECORD_TYPES: dict[str, type[Record]] = {
    cls.doc_type: cls
    for cls in (
        Product,
        Customer,
        PriceList,
        SalesOrder,
        PurchaseOrder,
        Shipment,
        InventoryAdjustment,
        Receipt,
        Return,
        Transfer,
    )
}
