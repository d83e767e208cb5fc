"""What every IDoc mapping shares: the envelope, SAP numbers and dates, material numbers.

Source options (keys of the `[[source]]` table) that shape the mapping:

- `idoc_sku`: `as_is` (default) keeps SAP material numbers as written; `strip_zeros` drops the
  leading zeros of all-digit numbers (SAP's ALPHA conversion undone). Either way the number as
  SAP wrote it stays under the line's (or product's) `extensions.sap_matnr`.
- `idoc_orders_as`: `auto` (default), `sales_order` or `purchase_order` for ORDERS IDocs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from gateway.canonical.shapes import EnvelopeData
from gateway.findings import Code, Report
from gateway.formats.idoc.model import Idoc, Segment
from gateway.formats.idoc.schema import basic_type, is_customer_segment, sap_date, sap_decimal

SKU_MODES = ("as_is", "strip_zeros")


def long_value(seg: Segment, name: str) -> str:
    """A material or item number (`MATNR`, `IDTNR`): S/4 writes one longer than the classic
    field in `<name>_LONG` (40 long; the classic field then holds only its start), so that
    field comes first."""
    return seg.get(f"{name}_LONG") or seg.get(name)


def sku_of(matnr: str, options: dict[str, Any]) -> str | None:
    """The canonical sku of a SAP material number under the source's `idoc_sku` option."""
    if not matnr:
        return None
    if options.get("idoc_sku", "as_is") == "strip_zeros" and matnr.isdigit():
        return matnr.lstrip("0") or "0"
    return matnr


def number(value: str) -> str | None:
    """A SAP decimal field as a canonical decimal string (None when empty)."""
    return sap_decimal(value) if value else None


def date(value: str) -> str | None:
    """A SAP date as ISO 8601 (None for empty or 00000000)."""
    return sap_date(value)


def stamp(day: str, time: str) -> str | None:
    """A SAP date and time as ISO 8601 local date-time, or the date alone."""
    iso = sap_date(day)
    if iso and time and time.isdigit() and len(time) == 6:
        return f"{iso}T{time[:2]}:{time[2:4]}:{time[4:]}"
    return iso


def envelope(idoc: Idoc, doc_id: str, **extensions: Any) -> EnvelopeData:
    """The canonical envelope of a record read from `idoc`; `extensions` (empty ones dropped)
    join what the IDoc's control record and customer segments say."""
    c = idoc.control
    schema = basic_type(idoc.basic_type)
    known = schema.nodes if schema is not None else {}
    # Customer segments, and standard ones the shipped table does not list: kept, not mapped.
    custom = [
        compact({"segment": s.segnam or s.name, "fields": s.fields, "sdata": None if s.fields else s.raw})
        for s in idoc.segments
        if is_customer_segment(s.name) or s.name not in known
    ]
    return {
        "doc_id": doc_id,
        "issued_at": stamp(c.get("CREDAT", ""), c.get("CRETIM", "")),
        "sender": {"id": c.get("SNDPRN") or None, "scheme": _scheme(c.get("SNDPRT", ""))},
        "receiver": {"id": c.get("RCVPRN") or None, "scheme": _scheme(c.get("RCVPRT", ""))},
        "extensions": {
            "idoc": {
                "docnum": idoc.docnum,
                "basic_type": idoc.basic_type,
                "extension": idoc.extension or None,
                "message_type": idoc.message_type,
                "direction": c.get("DIRECT") or None,
            },
            **({"idoc_segments": custom} if custom else {}),
            **compact(extensions),
        },
    }


def _scheme(partner_type: str) -> str:
    return f"SAP {partner_type}" if partner_type else "SAP"


def qualified(segments: list[Segment], qualifier_field: str, value_field: str) -> dict[str, str]:
    """`{qualifier: value}` of qualified segments (E1EDK03, E1EDP19 …), first one wins."""
    out: dict[str, str] = {}
    for seg in segments:
        q = seg.get(qualifier_field)
        value = long_value(seg, value_field)
        if q and q not in out and value:
            out[q] = value
    return out


def require(seg: Segment | None, name: str, idoc: Idoc, report: Report, rule: str) -> str | None:
    """A field the mapping cannot do without; a located finding when it is empty."""
    value = seg.get(name) if seg is not None else ""
    if value:
        return value
    where = seg.where() if seg is not None else idoc.where()
    report(
        Code.MISSING_FIELD,
        f"{name} is required to build the canonical record",
        rule=rule,
        field=name,
        **{**where, "record": idoc.docnum or "?"},
    )
    return None


Data = TypeVar("Data", bound=Mapping[str, object])


def compact(data: Data) -> Data:
    """`data` without empty values, so a record says only what the IDoc said."""
    # Dropping keys keeps a TypedDict of its type: every key of a mapping's shape is optional.
    return cast("Data", {k: v for k, v in data.items() if v not in (None, "", [], {})})
