"""Which mapping turns an IDoc into a canonical record: by basic type, without its version."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gateway import options as opt
from gateway.canonical.shapes import RecordData
from gateway.findings import Code, Report
from gateway.formats.idoc.mappings.common import SKU_MODES
from gateway.formats.idoc.mappings.delvry import map_delvry
from gateway.formats.idoc.mappings.master import map_cond, map_debmas, map_matmas
from gateway.formats.idoc.mappings.orders import ORDER_AS, map_orders
from gateway.formats.idoc.mappings.wmmbid import map_wmmbid
from gateway.formats.idoc.model import Idoc

#: The source options the mappings read; both IDoc readers declare them.
OPTIONS = (
    opt.text("idoc_sku", "as_is", "strip_zeros drops SAP's leading zeros from numeric material numbers",
             *SKU_MODES),
    opt.text("idoc_orders_as", "auto", "what an ORDERS IDoc becomes; auto decides by direction and BSART",
             *ORDER_AS),
)  # fmt: skip

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
