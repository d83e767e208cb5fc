"""UN/EDIFACT in: decode by the declared UNOx, tokenize in blocks, check envelopes and each
message against its schema, map each valid message to canonical records as soon as it ends.

Only one message is held at a time, so a 200 MB interchange of ordinary messages reads in flat
memory. Source options: `edifact_charset_check` (`strict`, the default: a character outside the
UNB syntax's set is a finding, a warning unless the source or partner is strict; or `off`),
`edifact_orders_as` (`sales_order` or `purchase_order`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from gateway import options as opt
from gateway.canonical.build import record_from_dict
from gateway.canonical.records import Record
from gateway.canonical.shapes import RecordData
from gateway.errors import DecodeError, Finding, reject
from gateway.findings import Code, Report
from gateway.formats.base import ReadContext
from gateway.formats.edifact.contrl import Contrl, answer, headers
from gateway.formats.edifact.envelope import Envelope, Interchange, Message
from gateway.formats.edifact.mappings.common import LineProblems, MappingProblem, report_problem
from gateway.formats.edifact.mappings.desadv import map_desadv
from gateway.formats.edifact.mappings.invrpt import map_invrpt
from gateway.formats.edifact.mappings.orders import map_orders
from gateway.formats.edifact.mappings.pricat import map_pricat
from gateway.formats.edifact.mappings.recadv import map_recadv
from gateway.formats.edifact.schema import schema_for
from gateway.formats.edifact.syntax import (
    CHARSET_RULES,
    CHARSETS,
    Delimiters,
    RawBatch,
    Scanner,
    Segment,
    SyntaxFault,
    parse_una,
)
from gateway.formats.edifact.wrapping import Wrapping
from gateway.formats.encoding import sniff_bom

BLOCK = 1 << 16  # decoded and scanned at a time: small enough to stay in the CPU's caches
HEAD = 1 << 18  # how far into the file a set-aside part looks for its interchange's UNB
MAX_SEGMENT = 1 << 20
Mapper = Callable[[Message, dict[str, Any]], list[RecordData]]
MAPPERS: dict[str, Mapper] = {
    "ORDERS": map_orders,
    "ORDRSP": map_orders,
    "DESADV": map_desadv,
    "RECADV": map_recadv,
    "INVRPT": map_invrpt,
    "PRICAT": map_pricat,
}


def declared_syntax(head: bytes) -> str | None:
    """The UNB syntax identifier (UNOA..UNOY) from the first bytes, before any decoding."""
    text = head.decode("latin-1").lstrip(" \r\n\t")
    delimiters = Delimiters()
    una = parse_una(text)
    if una is not None:
        delimiters, length = una
        text = text[length:].lstrip(" \r\n")
    if not text.startswith("UNB"):
        return None
    return text[4:8] if text[3:4] == delimiters.data else None


class EdifactReader:
    """UN/EDIFACT interchanges (syntax 1 to 4, with or without UNA, several per file)."""

    name: ClassVar[str] = "edifact"
    order: ClassVar[int] = 40
    offload: ClassVar[bool] = True
    options: ClassVar[tuple[opt.Option, ...]] = (
        opt.text("edifact_charset_check", "strict", "check text against the UNB syntax's character set"
                 " (a warning unless strictness is strict)",
                 "strict", "off"),
        opt.text("edifact_orders_as", "sales_order", "what an ORDERS message becomes",
                 "sales_order", "purchase_order"),
        opt.count("edifact_max_segment", MAX_SEGMENT, "the longest segment accepted, in characters"),
        opt.text("acknowledge_to", None, "the target that receives CONTRL answers"),
        opt.flag("edifact_partial", False, "accept an interchange's valid messages, quarantine the rest"),
    )  # fmt: skip

    @staticmethod
    def sniff(head: bytes) -> bool:
        """An interchange starts with UNA or UNB."""
        return head.startswith((b"UNA", b"UNB"))

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        """Yield the records of every valid message; report every problem with its segment."""
        with ctx.file.path.open("rb") as fh:
            head = fh.read(4096)
        bom = sniff_bom(head)
        syntax = declared_syntax(head[bom.bom :] if bom else head)
        encoding = ctx.decide_encoding(declared=CHARSETS.get(syntax or ""))
        ctx.stage = "validate"
        return _Run(ctx, encoding.name, encoding.bom).records()

    @staticmethod
    def acknowledgement(
        ctx: ReadContext, findings: list[Finding], sequence: Callable[[str], int], accepted: bool
    ) -> tuple[str, bytes] | None:
        """The CONTRL answering this file (accepted when `findings` is empty), named for the
        file; None when the file has no interchange header to answer."""
        codec = ctx.encoding_name or "latin-1"
        inbound, messages = headers(ctx.file.path, codec)
        if inbound is None or (messages and all(m.type == "CONTRL" for m in messages)):
            return None  # a CONTRL is never answered (ISO 9735-9)
        reference = str(sequence(f"edifact-contrl:{inbound.recipient}:{inbound.sender}"))
        text = Contrl(inbound, reference).render(messages, findings, partial=accepted)
        name = f"{Path(ctx.file.name).stem or 'file'}.{ctx.file.file_id}.contrl.edi"
        return name, text.encode(CHARSETS.get(inbound.syntax, "latin-1"), errors="replace")


class _Run:
    """One file being read: decoder, scanner, envelope and the current interchange."""

    def __init__(self, ctx: ReadContext, codec: str, skip: int) -> None:
        self.ctx = ctx
        self.codec = codec
        self.skip = skip
        self.offset = 0
        self.options = ctx.file.source.options
        self.scanner: Scanner | None = None
        self.charset_rule: re.Pattern[str] | None = None
        self.interchange: Interchange | None = None
        self.partial = bool(self.options.get("edifact_partial", False))
        self.accepted = 0
        self.parts: dict[int, tuple[Interchange, list[tuple[Message, list[Finding]]]]] = {}
        self.wrapping = Wrapping(ctx.add)
        #: The index of the file's first UNB, where UTF-8 content against the declaration is said.
        self.first_unb: int | None = None

    def blocks(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder(self.codec)("strict")
        with self.ctx.file.path.open("rb") as fh:
            fh.seek(self.skip)
            first = True
            while True:
                data = fh.read(BLOCK)
                try:
                    text = decoder.decode(data, final=not data)
                except UnicodeDecodeError as exc:
                    at = self.skip + self.offset + exc.start
                    before = data[: exc.start].decode(self.codec, errors="ignore")
                    if first:
                        before = before.lstrip(" \t\r\n")
                    raise reject(
                        DecodeError,
                        Code.UNDECODABLE,
                        f"byte 0x{data[exc.start]:02x} at offset {at} is not valid {self.codec}",
                        rule=f"the declared syntax identifier's character set ({self.codec})",
                        **self.wrapping.where(before),
                    ) from None
                self.offset += len(data)
                if first:
                    text = text.lstrip(" \t\r\n")
                    first = False
                if text:
                    yield self.wrapping(text)
                if not data:
                    return

    def records(self) -> Iterator[Record]:
        ctx = self.ctx
        self.scanner = scanner = Scanner(
            self.blocks(), max_segment=int(self.options.get("edifact_max_segment", MAX_SEGMENT))
        )
        envelope = Envelope(ctx.add, self.on_interchange, scanner)
        strict = self.options.get("edifact_charset_check", "strict") != "off"
        last = 0
        try:
            for batch in scanner.batches():
                if isinstance(batch, RawBatch):
                    last = batch.base + len(batch.raws) - 1
                    messages = envelope.feed_raw(batch)
                    rule = self.charset_rule
                    joined = scanner.delimiters.data.join(batch.raws)
                    if rule is not None and strict and rule.search(joined):
                        for i, raw in enumerate(batch.raws):
                            if rule.search(raw):
                                self.bad_characters(scanner.parse(raw, batch.base + i))
                    messages.reverse()
                    while messages:  # pop, so that each message is freed once mapped
                        yield from self.message(messages.pop())
                    continue
                for seg in batch:
                    last = seg.index
                    done = envelope.feed(seg)
                    rule = self.charset_rule
                    if rule is not None and strict and seg.tag != "UNA" and rule.search(seg.raw):
                        self.bad_characters(seg)
                    if done is not None:
                        yield from self.message(done)
        except SyntaxFault as fault:
            ctx.add(
                Code.SYNTAX_ERROR,
                fault.message,
                value=fault.raw or None,
                rule="ISO 9735 syntax",
                segment_index=fault.index,
            )
            return
        left = envelope.finish(last)
        if left is not None:
            yield from self.message(left)
        if self.parts:
            self.set_aside()

    def on_interchange(self, interchange: Interchange) -> None:
        self.interchange = interchange
        if self.first_unb is None:
            self.first_unb = interchange.index
        # The sender's `[[partner]]` strictness judges what follows, this UNB included.
        self.ctx.partner = interchange.sender or None
        encoding = self.ctx.encoding
        if encoding is not None and encoding.overrode and interchange.index == self.first_unb:
            self.ctx.add(
                Code.UTF8_CONTENT,
                f"the interchange declares {interchange.syntax} ({encoding.overrode}) but its bytes"
                " are UTF-8 with multi-byte characters; read as UTF-8",
                value=interchange.syntax,
                rule="UNB 0001: the declared character set",
                segment="UNB",
                segment_index=interchange.index,
                element=1,
                component=1,
            )
        # With partial acceptance each accepted message is its own duplicate key (below).
        self.ctx.key("unb", f"{interchange.sender}:{interchange.control_ref}", unique=not self.partial)
        rule = CHARSET_RULES.get(interchange.syntax)
        if rule is not None and self.scanner is not None:
            d = self.scanner.delimiters
            # Line breaks are layout; one inside a segment is reported as that (wrapping.py).
            allowed = re.escape(d.component + d.data + d.release + d.decimal) + "\\r\\n"
            rule = re.compile(rule.pattern[:-1] + allowed + "]")
        self.charset_rule = rule

    def bad_characters(self, seg: Segment) -> None:
        assert self.charset_rule is not None and self.interchange is not None
        syntax = self.interchange.syntax
        for e, value in enumerate(seg.elements):
            parts = [value] if isinstance(value, str) else value
            for c, part in enumerate(parts):
                bad = self.charset_rule.search(part)
                if bad:
                    where: dict[str, Any] = {"segment": seg.tag, "segment_index": seg.index, "element": e + 1}
                    if not isinstance(value, str):
                        where["component"] = c + 1
                    lower = " (lower case)" if bad.group().islower() else ""
                    self.ctx.add(
                        Code.BAD_CHARACTER,
                        f"character {bad.group()!r}{lower} is not allowed in {syntax}",
                        value=part,
                        rule=f"UNB 0001 {syntax} character set",
                        **where,
                    )
                    return

    def message(self, msg: Message) -> Iterator[Record]:
        ctx = self.ctx
        found: list[Finding] = []

        def report(code: Code, message: str, *, value: str | None = None, rule: str | None = None,
                   **location: Any) -> None:  # fmt: skip
            errors = len(ctx.findings)
            ctx.add(code, message, value=value, rule=rule, **location)
            if len(ctx.findings) > errors:  # an error, not a warning: the message is held back
                found.append(ctx.findings[errors])

        records = self.map_message(msg, report)
        if found:
            if self.partial:
                ic = msg.interchange
                self.parts.setdefault(id(ic), (ic, []))[1].append((msg, found))
            return
        if ctx.findings and not self.partial:
            return  # the file is quarantined; keep validating, stop mapping
        if self.partial:
            ic = msg.interchange
            ctx.key("unh", f"{ic.sender}:{ic.control_ref}:{msg.ref}", unique=True)
        self.accepted += 1
        yield from records

    def map_message(self, message: Message, report: Report) -> list[Record]:
        """Validate one message and map it; [] when it has findings (reported)."""
        ctx = self.ctx
        if message.type == "CONTRL":
            # A partner's answer to an interchange of ours: no document, a fact for the ledger.
            ack = answer(message)
            ctx.acknowledgements.append(ack)
            ctx.key("contrl", f"{ack.partner}:{ack.control_ref}")
            return []
        name = f"{message.type}_{message.directory}"
        schema = schema_for(name)
        unh = message.parse(message.raws[0], message.start)
        if schema is None:
            report(Code.UNKNOWN_MESSAGE, f"no schema for {message.type} {message.directory}", value=name,
                   rule="schemas/edifact/<MESSAGE>_<DIRECTORY>.json", segment="UNH",
                   segment_index=unh.index, element=2)  # fmt: skip
            return []
        before = len(ctx.findings)
        schema.check(message, report)
        mapper = MAPPERS.get(message.type)
        if mapper is None:
            ctx.stage = "map"
            report(Code.NO_MAPPING, f"{message.type} has no canonical document type", value=message.type,
                   rule="mappings: ORDERS, ORDRSP, DESADV, RECADV, INVRPT, PRICAT", segment="UNH",
                   segment_index=unh.index, element=2, component=1)  # fmt: skip
            ctx.stage = "validate"
            return []
        if len(ctx.findings) > before or (ctx.findings and not self.partial):
            return []
        ctx.stage = "map"
        records: list[Record] = []
        try:
            for data in mapper(message, self.options):
                ctx.key(data["doc_type"], data["doc_id"] or "")
                data["source"] = ctx.lineage(message.ref, message.interchange.control_ref)
                records.append(record_from_dict(data))
        except MappingProblem as problem:
            report_problem(report, problem, f"mapping edifact/{message.type}")
        except LineProblems as problems:
            for each in problems.problems:
                report_problem(report, each, f"mapping edifact/{message.type}")
        except (TypeError, ValueError) as exc:
            report(Code.UNMAPPABLE, str(exc), rule=f"mapping edifact/{message.type}", segment="UNH",
                   segment_index=unh.index)  # fmt: skip
        ctx.stage = "validate"
        return records

    def set_aside(self) -> None:
        """Partial acceptance: the invalid messages of each interchange become a file of their own
        (same UNA and UNB, a UNZ that counts them), with their findings renumbered to it. Only when
        some message was accepted and nothing outside the invalid messages was wrong."""
        ctx = self.ctx
        held = sum(len(found) for _, parts in self.parts.values() for _, found in parts)
        if not self.accepted or held != len(ctx.findings) or self.scanner is None:
            return
        d = self.scanner.delimiters
        codec = ctx.encoding_name or "latin-1"
        stem = Path(ctx.file.name).stem or "file"
        for n, (ic, parts) in enumerate(self.parts.values(), start=1):
            head = [ic.una.una] if ic.una else []
            unb = self.unb_text(ic)
            lines, findings = [*head, unb + d.terminator], []
            for message, found in parts:
                offset = len(lines) + 1 - message.start
                lines += [raw + d.terminator for raw in message.raws]
                findings += [_moved(f, offset) for f in found]
            lines.append(f"UNZ{d.data}{len(parts)}{d.data}{ic.control_ref}{d.terminator}")
            data = "\n".join(lines).encode(codec) + b"\n"
            ctx.rejected_parts.append((f"{stem}.rejected-{n}.edi", data, findings))

    def unb_text(self, ic: Interchange) -> str:
        """The interchange's own UNB segment text, read again from the file's start."""
        assert self.scanner is not None
        codec = self.ctx.encoding_name or "latin-1"
        with self.ctx.file.path.open("rb") as fh:
            fh.seek(self.skip)
            head = fh.read(HEAD).decode(codec, errors="replace")
        for seg in Scanner([head]):
            if seg.tag == "UNB" and seg.get(4) == ic.control_ref:
                return seg.raw
        return f"UNB{self.scanner.delimiters.data}{ic.syntax}"


def _moved(finding: Finding, offset: int) -> Finding:
    where = dict(finding.location)
    if isinstance(where.get("segment_index"), int):
        where["segment_index"] += offset
    return Finding(finding.code, finding.message, where, finding.value, finding.rule)
