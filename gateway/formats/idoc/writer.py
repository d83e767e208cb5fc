"""SAP IDoc out, for a file port: IDoc-XML (default) or flat files.

Goods movements (WMMBID02, message WMMBXY) from receipts, transfers and inventory
adjustments; delivery confirmations (DELVRY07, message SHPCON or WHSCON) from shipments; and,
when `acknowledge` is on, a STATUS IDoc (SYSTAT01) per input file acknowledging every inbound
IDoc whose records reached this target. One output file per input file and basic type.

IDoc-XML is the default because it names every field: SAP does not publish the flat widths of
every segment a goods movement needs, so a flat goods movement is refused (`undocumented_layout`)
until a site confirms E1MBXYI's layout in its own schema.

Options (all optional): `syntax` (xml|flat), `file_name` (with {file_id} and {basic_type}),
`client`, `sender_port`, `sender_partner`, `sender_partner_type`, `receiver_port`,
`receiver_partner`, `receiver_partner_type`, `shipment_message` (SHPCON|WHSCON),
`movement_types` (table: receipt, receipt_reversal, transfer_plant, transfer_location, gain,
loss), `movement_by_reason` (reason_code → BWART), `reason_codes` (reason_code → GRUND),
`matnr_alpha` (pad all-digit skus to 18 digits), `acknowledge`, `acknowledge_status`.

DOCNUMs come from the ledger sequence `idoc.docnum.<receiver_partner>` once the pipeline has
called `bind_sequence`; without a ledger (`gateway convert`) they count from 1 per run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from gateway.canonical.records import InventoryAdjustment, Receipt, Record, Shipment, Transfer
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.findings import Code
from gateway.formats.idoc import schema as idoc_schema
from gateway.formats.idoc.build import DEFAULT_MOVEMENTS, Builder, Movements, delivery, goods_movement, status
from gateway.formats.idoc.flat import format_idoc
from gateway.formats.idoc.model import Idoc
from gateway.formats.idoc.xml import to_xml
from gateway.options import Option, flag, text
from gateway.targets.base import FileInfo, Opener, SingleFormat

DEFAULT_NAME = "{stem}.{file_id}.{basic_type}.idoc"
DEFAULT_XML_NAME = "{stem}.{file_id}.{basic_type}.xml"
OPTIONS: tuple[Option, ...] = (
    text("syntax", "xml", "IDoc-XML or flat IDoc files", "xml", "flat"),
    text("shipment_message", "SHPCON", "the message type of a shipment's DELVRY IDoc", "SHPCON", "WHSCON"),
    text("file_name", None, "the output file name pattern; must contain {file_id} and {basic_type}"),
    text("client", "", "the SAP client (MANDT) of the control record"),
    text("sender_port", "", "the sender port (SNDPOR)"),
    text("sender_partner", "", "the sender partner number (SNDPRN)"),
    text("sender_partner_type", "LS", "the sender partner type (SNDPRT)"),
    text("receiver_port", "", "the receiver port (RCVPOR)"),
    text("receiver_partner", "", "the receiver partner number (RCVPRN)"),
    text("receiver_partner_type", "LS", "the receiver partner type (RCVPRT)"),
    # SAP's documentation of E2STATS: 16 processed (perhaps with warnings), 17 not processed.
    text("acknowledge_status", "16", "the status the STATUS IDocs of `acknowledge` report"),
    Option("movement_types", (dict,), None, "SAP movement type by adjustment kind, over the defaults"),
    Option("movement_by_reason", (dict,), None, "SAP movement type by adjustment reason"),
    Option("reason_codes", (dict,), None, "SAP reason code by adjustment reason"),
    flag("matnr_alpha", False, "pad numeric material numbers with leading zeros, as SAP's ALPHA does"),
    flag("acknowledge", False, "answer each IDoc read from this gateway's partner with a STATUS IDoc"),
)
#: Control record widths the partner options must fit.
WIDTHS = {"client": 3, "sender_port": 10, "receiver_port": 10, "sender_partner": 10,
          "receiver_partner": 10, "sender_partner_type": 2, "receiver_partner_type": 2,
          "acknowledge_status": 2}  # fmt: skip

Sequence = Callable[[str], int]


class IdocTarget(SingleFormat):
    """The `idoc` target format."""

    format: ClassVar[str] = "idoc"
    options: ClassVar[tuple[Option, ...]] = OPTIONS

    def __init__(self, config: TargetConfig) -> None:
        o = config.options
        self.syntax = str(o.get("syntax", "xml"))
        default = DEFAULT_XML_NAME if self.syntax == "xml" else DEFAULT_NAME
        self.pattern = str(o.get("file_name", default))
        self.partner = {
            "MANDT": str(o.get("client", "")),
            "SNDPOR": str(o.get("sender_port", "")),
            "SNDPRT": str(o.get("sender_partner_type", "LS")),
            "SNDPRN": str(o.get("sender_partner", "")),
            "RCVPOR": str(o.get("receiver_port", "")),
            "RCVPRT": str(o.get("receiver_partner_type", "LS")),
            "RCVPRN": str(o.get("receiver_partner", "")),
        }
        self.shipment_message = str(o.get("shipment_message", "SHPCON"))
        self.moves = Movements(
            types={**DEFAULT_MOVEMENTS, **{str(k): str(v) for k, v in o.get("movement_types", {}).items()}},
            by_reason={str(k): str(v) for k, v in o.get("movement_by_reason", {}).items()},
            reasons={str(k): str(v) for k, v in o.get("reason_codes", {}).items()},
        )
        self.alpha = bool(o.get("matnr_alpha", False))
        self.acknowledge = bool(o.get("acknowledge", False))
        self.ack_status = str(o.get("acknowledge_status", "16"))
        local = itertools.count(1)
        self.sequence: Sequence = lambda _name: next(local)

    def bind_sequence(self, sequence: Sequence) -> None:
        """Take DOCNUMs from a durable sequence (the ledger's `next_sequence`)."""
        self.sequence = sequence

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """Partner settings must fit the control record; file names must be deterministic."""
        o = config.options
        problems = [
            f"{key}: longer than the control record's {width} characters"
            for key, width in WIDTHS.items()
            if len(o.get(key, "")) > width
        ]
        pattern = str(o.get("file_name", DEFAULT_XML_NAME))
        if "{file_id}" not in pattern or "{basic_type}" not in pattern:
            problems.append("file_name: must contain {file_id} and {basic_type}")
        return problems

    def writer(self, file: FileInfo, open_output: Opener) -> IdocWriter:
        """A writer for one input file."""
        return IdocWriter(self, file, open_output)


class IdocWriter:
    """Collects one input file's IDocs and writes a file per basic type when closed."""

    def __init__(self, target: IdocTarget, file: FileInfo, open_output: Opener) -> None:
        self.target = target
        self.file = file
        self.open_output = open_output
        self.idocs: dict[str, list[Idoc]] = {}
        self.acknowledged: list[tuple[str, str]] = []
        self.now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")

    def write(self, record: Record) -> list[Finding]:
        """Turn one record into its IDoc; findings when it cannot be one."""
        t = self.target
        self._note_inbound(record)
        builder: Builder | None = None
        message = ""
        if isinstance(record, (Receipt, Transfer, InventoryAdjustment)):
            builder, message = goods_movement(record, t.moves, t.alpha), "WMMBXY"
        elif isinstance(record, Shipment):
            builder, message = delivery(record, t.alpha), t.shipment_message
        elif t.acknowledge:
            return []  # only acknowledged
        else:
            return [Finding(Code.NOT_REPRESENTABLE, f"no IDoc carries a {record.doc_type} to SAP",
                            {"record": record.doc_id}, record.doc_type,
                            "idoc target: receipt, transfer, inventory_adjustment, shipment")]  # fmt: skip
        if builder.findings:
            return builder.findings
        if t.syntax == "flat" and (unplaced := _unplaced(record, builder)):
            return unplaced
        self._add(builder.idoc, message)
        return []

    def _note_inbound(self, record: Record) -> None:
        src = record.source
        inbound = self.target.acknowledge and src.format in ("idoc", "idoc-xml") and src.message_ref
        if inbound and all(docnum != src.message_ref for docnum, _ in self.acknowledged):
            self.acknowledged.append((str(src.message_ref), record.doc_id))

    def _add(self, idoc: Idoc, message: str) -> None:
        t = self.target
        basic_type = idoc.control["IDOCTYP"]
        receiver = t.partner["RCVPRN"] or "default"
        docnum = f"{t.sequence(f'idoc.docnum.{receiver}'):016d}"
        idoc.control = {
            "TABNAM": "EDI_DC40",
            "DOCNUM": docnum,
            "DIRECT": "2",
            "IDOCTYP": basic_type,
            "MESTYP": message,
            "CREDAT": self.now[:8],
            "CRETIM": self.now[8:],
            **{k: v for k, v in t.partner.items() if v},
        }
        self.idocs.setdefault(basic_type, []).append(idoc)

    def close(self) -> None:
        """Write the acknowledgement, then one file per basic type."""
        t = self.target
        if self.acknowledged:
            ack = status(
                self.acknowledged, t.partner["MANDT"], t.ack_status, "processed by gateway", self.now
            )
            self._add(ack, "STATUS")
        for basic_type, idocs in self.idocs.items():
            name = self.file.output_name(t.pattern, basic_type=basic_type)
            out = self.open_output(name)
            try:
                if t.syntax == "xml":
                    out.write(to_xml(idocs, basic_type))
                else:
                    schema = idoc_schema.basic_type(basic_type)
                    assert schema is not None
                    lines = [line for idoc in idocs for line in format_idoc(idoc, schema.segments)]
                    out.write(("\n".join(lines) + "\n").encode("utf-8"))
            finally:
                out.close()


def _unplaced(record: Record, builder: Builder) -> list[Finding]:
    """A finding per segment type with a value a flat file cannot place (see `documented_end`)."""
    found: dict[str, Finding] = {}
    for seg in builder.idoc.segments:
        names = builder.schema.segments[seg.name].undocumented(seg.fields)
        if names and seg.name not in found:
            found[seg.name] = Finding(
                Code.UNDOCUMENTED_LAYOUT,
                f"{seg.name}.{names[0]} has no published place in a flat file: write IDoc-XML"
                " (syntax = \"xml\") or confirm the layout in a site schema",
                {"record": record.doc_id, "segment": seg.name, "field": names[0]},
                seg.fields[names[0]],
                f"schemas/idoc/_segments.toml {seg.name}: flat_documented_through",
            )
    return list(found.values())
