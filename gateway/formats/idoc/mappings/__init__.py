"""Which mapping turns an IDoc into a canonical record: by basic type, without its version."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gateway.canonical.shapes import RecordData
from gateway.findings import Code, Report
from gateway.formats.idoc.mappings.common import SKU_MODES
from gateway.formats.idoc.mappings.delvry import map_delvry
from gateway.formats.idoc.mappings.master import map_cond, map_debmas, map_matmas
from gateway.formats.idoc.mappings.orders import ORDER_AS, map_orders
from gateway.formats.idoc.mappings.wmmbid import map_wmmbid
from gateway.formats.idoc.model import Idoc

Mapping = Callable[[Idoc, dict[str, Any], Report], "RecordData | None"]

#: Basic type family (name without its two-digit version) → mapping.
MAPPINGS: dict[str, Mapping] = {
    "ORDERS": map_orders,
    "DELVRY": map_delvry,
    "WMMBID": map_wmmbid,
    "MATMAS": map_matmas,
    "DEBMAS": map_debmas,
    "COND_A": map_cond,
}


def family(basic_type: str) -> str:
    """`ORDERS05` → `ORDERS`."""
    return re.sub(r"\d+$", "", basic_type)


def map_idoc(idoc: Idoc, options: dict[str, Any], report: Report) -> RecordData | None:
    """The canonical record's data for `idoc`, or None after reporting why there is none."""
    for key, allowed in (("idoc_sku", SKU_MODES), ("idoc_orders_as", ORDER_AS)):
        if key in options and options[key] not in allowed:
            report(
                Code.BAD_OPTION,
                f"source option {key} must be one of {', '.join(allowed)}",
                value=str(options[key]),
                rule=f"source {key}",
                record=idoc.docnum or "?",
            )
            return None
    mapping = MAPPINGS.get(family(idoc.basic_type))
    if mapping is None:
        report(
            Code.UNSUPPORTED_MESSAGE,
            f"{idoc.message_type or idoc.basic_type} ({idoc.basic_type}) has no canonical document type",
            value=idoc.basic_type,
            rule=f"IDoc mappings: {', '.join(MAPPINGS)}",
            **idoc.where(),
        )
        return None
    return mapping(idoc, options, report)
