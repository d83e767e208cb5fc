"""EDIFACT out: DESADV from shipment, RECADV from receipt, INVRPT from inventory_adjustment and
ORDERS from purchase_order, one interchange per input file and one message per record.

Partner settings are target options: `sender`, `receiver` (required), `sender_qualifier` and
`receiver_qualifier` (default 14, GLN), `syntax` (UNOC), `syntax_version` (3), `directory`
(D96A), `association` (EAN008), `separators` (`:+.? '`, written as UNA), `file_name`. The
interchange control reference comes from a ledger sequence per receiver when the pipeline binds
one (`bind_sequence`), so it never repeats for a partner across restarts.

Every message written is valid against the directory's UN table: each carries its document date
(DTM 137: the record's `issued_at`, else the time of writing), and RECADV, whose name and address
group is mandatory, names the buyer (`sender`, who received the goods) and the supplier
(`receiver`) as EANCOM does, with the warehouse as the delivery party. A record the message cannot
carry (an inventory count without a counted quantity, more tracking numbers than DESADV's
reference group holds) is a finding, not a message. ORDERS names the buyer (`sender`) and the
supplier: the order's own `vendor_id` when it has one, else `receiver` (EANCOM's NAD BY and SU).
DESADV names the buyer (`receiver`), the supplier (`sender`) and the delivery party (the record's
ship-to, else the buyer); INVRPT the reporting party (`sender`, GY) and the goods owner
(`receiver`, GO). Under an EANCOM association (EAN…) DESADV, RECADV and INVRPT name each line's
item by its GTIN in LIN (EN in D.96A, SRV in D.01B): a line without one is a finding naming it.

Before a byte of a message is written, the rendered UNH..UNT is checked by the reader's own
schema validation (`MessageSchema.check` of `schemas/edifact/<MESSAGE>_<DIRECTORY>.json`, with
its fast path and per-segment caches). A value the message cannot hold (a description over 35
characters, a non-numeric quantity) is never truncated: the record gets the validator's located
findings (`record` = doc_id, segment, element, component; `segment_index` counts from the
message's UNH) and nothing is written for it, so the pipeline quarantines the input at `write`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any, ClassVar

from gateway.canonical.records import Record
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.findings import Code
from gateway.formats.edifact.envelope import Interchange, Message
from gateway.formats.edifact.messages import Context, Seg, Unwritable, desadv, invrpt, orders, recadv
from gateway.formats.edifact.schema import schema_for
from gateway.formats.edifact.syntax import CHARSETS, Delimiters, Scanner, SyntaxFault
from gateway.options import Option, flag, text
from gateway.targets.base import FileInfo, Opener, Output, SingleFormat

DEFAULT_NAME = "{stem}.{file_id}.edi"
OPTIONS: tuple[Option, ...] = (
    text("sender", None, "our partner id in UNB (required)"),
    text("receiver", None, "the partner's id in UNB (required)"),
    # Numbers are taken as written in UNB: `syntax_version = 4` is as good as "4".
    Option("sender_qualifier", (str, int), "14", "the code list of the sender id (14: GLN)"),
    Option("receiver_qualifier", (str, int), "14", "the code list of the receiver id (14: GLN)"),
    text("syntax", "UNOC", "the syntax identifier, which sets the character set", *CHARSETS),
    Option("syntax_version", (str, int), "3", "the syntax version number", ("1", "2", "3", "4", 1, 2, 3, 4)),
    text("directory", "D96A", "the message directory (D96A, D01B)"),
    text("association", "EAN008", "UNH association code; EAN… (EANCOM) needs a GTIN on every line"),
    text("separators", ":+.? '", "component, data, decimal, release, reserved and terminator characters"),
    text("file_name", DEFAULT_NAME, "the output file name pattern; must contain {file_id}"),
    flag("una", True, "write the UNA service string advice"),
    Option("ack_hours", (int, float), None, "hours within which the partner's CONTRL must come;"
           " unset: none expected (one that comes is still matched)",
           rule=lambda hours: None if hours > 0 else "must be greater than 0"),
)


class Serializer:
    """Renders segments with release escaping and counts them."""

    def __init__(self, d: Delimiters, repetition: str | None = None) -> None:
        self.d = d
        specials = {d.release, d.component, d.data, d.terminator}
        # The reserved character, and in syntax 4 without UNA the default repetition
        # separator `*`, split values for a reader: both are released.
        specials |= {c for c in (d.reserved, repetition) if c and c.strip()}
        self.table = str.maketrans({c: d.release + c for c in specials})

    def render(self, seg: Seg) -> str:
        """The segment's text with its terminator."""
        return self.text(seg) + self.d.terminator

    def text(self, seg: Seg) -> str:
        """The segment's text without its terminator, as a reader's scanner hands it on."""
        d = self.d
        parts = [seg[0]]
        for element in seg[1:]:
            if isinstance(element, list):
                comps = [str(c or "").translate(self.table) for c in element]
                while comps and not comps[-1]:
                    comps.pop()
                parts.append(d.component.join(comps))
            else:
                parts.append(str(element or "").translate(self.table))
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        return d.data.join(parts)


# Each builder takes the record and the context: the directory (D96A, D01B) for where their tables
# differ, the partners and the time of writing.
BUILDERS: dict[str, tuple[str, Callable[[Any, Context], list[Seg]]]] = {
    "shipment": ("DESADV", desadv),
    "receipt": ("RECADV", recadv),
    "inventory_adjustment": ("INVRPT", invrpt),
    "purchase_order": ("ORDERS", orders),
}


class EdifactWriter:
    """One interchange per input file; UNZ is written on close."""

    def __init__(self, target: EdifactTarget, file: FileInfo, open_output: Opener) -> None:
        self.t = target
        self.name = file.output_name(target.pattern)
        self.open_output = open_output
        self.out: Output | None = None
        self.messages = 0
        self.ref = ""
        # What the gateway's reader would tokenize the interchange with: the target's service
        # characters and, in syntax 4, the repetition separator UNA (or its absence) announces.
        repetition = None
        if target.version == "4":
            announced = target.delimiters.reserved if target.una else "*"
            repetition = announced if announced.strip() else None
        self.serializer = Serializer(target.delimiters, repetition)
        self.scanner = Scanner(())
        self.scanner.use(target.delimiters)
        self.scanner.repetition = repetition
        self.interchange = Interchange(
            target.syntax, target.version, target.sender, target.sender_qualifier, target.receiver,
            target.receiver_qualifier, "", "", "",
        )  # fmt: skip

    def _emit(self, segs: list[Seg]) -> None:
        assert self.out is not None
        text = "".join(self.serializer.render(s) + "\n" for s in segs)
        self.out.write(text.encode(self.t.codec))

    def _check(
        self, record: Record, message_type: str, ref: str, raws: list[str], tags: list[str]
    ) -> list[Finding]:
        """The findings of the reader's schema validation for one rendered message (UNH..UNT
        texts): the same `MessageSchema.check` an inbound message goes through."""
        t = self.t
        name = f"{message_type}_{t.directory}"
        schema = schema_for(name)
        if schema is None:
            return [
                Finding(
                    Code.UNKNOWN_MESSAGE,
                    f"no schema for {message_type} {t.directory}: the message cannot be checked",
                    {"record": record.doc_id},
                    name,
                    "schemas/edifact/<MESSAGE>_<DIRECTORY>.json",
                )
            ]
        found: list[Finding] = []

        def report(code: Code, message: str, *, value: str | None = None, rule: str | None = None,
                   **location: Any) -> None:  # fmt: skip
            found.append(Finding(code, message, {"record": record.doc_id, **location}, value, rule))

        message = Message(
            ref, message_type, "D", t.directory[1:], "UN", t.association, self.interchange, 1,
            self.scanner, raws, tags,
        )  # fmt: skip
        try:
            schema.check(message, report)
        except SyntaxFault as fault:
            report(Code.SYNTAX_ERROR, fault.message, value=fault.raw or None, rule="ISO 9735 syntax",
                   segment_index=fault.index)  # fmt: skip
        return found

    def _start(self) -> None:
        t = self.t
        self.out = self.open_output(self.name)
        self.ref = str(t.next_reference())
        now = time.gmtime()
        stamp = time.strftime("%Y%m%d" if t.version == "4" else "%y%m%d", now)
        head = [t.delimiters.una] if t.una else []
        self.out.write("".join(h + "\n" for h in head).encode(t.codec))
        self._emit(
            [
                [
                    "UNB",
                    [t.syntax, t.version],
                    [t.sender, t.sender_qualifier],
                    [t.receiver, t.receiver_qualifier],
                    [stamp, time.strftime("%H%M", now)],
                    self.ref,
                ]
            ]
        )

    def write(self, record: Record) -> list[Finding]:
        """Write the record as one message."""
        built = BUILDERS.get(record.doc_type)
        if built is None:
            return [
                Finding(
                    Code.UNSUPPORTED_DOCUMENT,
                    f"EDIFACT target writes no message for {record.doc_type}",
                    {"record": record.doc_id},
                    record.doc_type,
                    "edifact target: shipment, receipt, inventory_adjustment, purchase_order",
                )
            ]
        message_type, build = built
        t = self.t
        context = Context(
            t.directory, t.sender, t.sender_qualifier, t.receiver, t.receiver_qualifier,
            time.strftime("%Y-%m-%dT%H:%M", time.gmtime()), t.association,
        )  # fmt: skip
        try:
            body = build(record, context)
        except Unwritable as exc:
            return [
                Finding(
                    Code.UNWRITABLE,
                    f"{message_type} cannot carry this record: {exc.args[0]}",
                    {"record": record.doc_id, **({"line_no": exc.line_no} if exc.line_no else {})},
                    exc.args[1] or None,
                    f"edifact target, {message_type} {t.directory}",
                )
            ]
        ref = str(self.messages + 1)
        segs = [
            ["UNH", ref, [message_type, "D", t.directory[1:], "UN", t.association]],
            *body,
            ["UNT", str(len(body) + 2), ref],
        ]
        texts = [self.serializer.text(s) for s in segs]
        found = self._check(record, message_type, ref, texts, [s[0] for s in segs])
        if found:
            return found
        terminator = t.delimiters.terminator
        try:
            data = "".join(text + terminator + "\n" for text in texts).encode(t.codec)
        except UnicodeEncodeError as exc:
            return [
                Finding(
                    Code.UNENCODABLE,
                    f"cannot be written in {self.t.syntax}",
                    {"record": record.doc_id},
                    exc.object[exc.start : exc.end],
                    f"target syntax {self.t.syntax}",
                )
            ]
        if self.out is None:
            self._start()
        assert self.out is not None
        self.out.write(data)
        self.messages += 1
        return []

    def close(self) -> None:
        """Write UNZ and close; an input without records gets no interchange."""
        if self.out is None:
            return
        self._emit([["UNZ", str(self.messages), self.ref]])
        self.out.close()


class EdifactTarget(SingleFormat):
    """The `edifact` outbound format."""

    format: ClassVar[str] = "edifact"
    options: ClassVar[tuple[Option, ...]] = OPTIONS

    def __init__(self, config: TargetConfig) -> None:
        o = config.options
        self.pattern = str(o.get("file_name", DEFAULT_NAME))
        self.sender = str(o.get("sender", ""))
        self.receiver = str(o.get("receiver", ""))
        self.sender_qualifier = str(o.get("sender_qualifier", "14"))
        self.receiver_qualifier = str(o.get("receiver_qualifier", "14"))
        self.syntax = str(o.get("syntax", "UNOC"))
        self.version = str(o.get("syntax_version", "3"))
        self.directory = str(o.get("directory", "D96A"))
        self.association = str(o.get("association", "EAN008"))
        self.delimiters = Delimiters(*str(o.get("separators", ":+.? '")))
        self.una = bool(o.get("una", True))
        self.codec = CHARSETS.get(self.syntax, "utf-8")
        counter = itertools.count(1)
        self.sequence: Callable[[str], int] = lambda _name: next(counter)

    def bind_sequence(self, sequence: Callable[[str], int]) -> None:
        """Use a durable sequence (the ledger's `next_sequence`) for control references."""
        self.sequence = sequence

    def next_reference(self) -> int:
        """The next interchange control reference for this receiver."""
        return self.sequence(f"edifact:{self.sender}:{self.receiver}")

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """Partner ids are required; separators and directory must be usable."""
        o = config.options
        problems = [f"{key}: required (the partner id in UNB)" for key in ("sender", "receiver")
                    if not o.get(key)]  # fmt: skip
        separators = str(o.get("separators", ":+.? '"))
        if len(separators) != 6 or len({separators[i] for i in (0, 1, 3, 5)}) != 4:
            problems.append("separators: six characters, component/data/release/terminator distinct")
        if "{file_id}" not in str(o.get("file_name", DEFAULT_NAME)):
            problems.append("file_name: must contain {file_id}, so that names are deterministic")
        directory = str(o.get("directory", "D96A"))
        if len(directory) != 4 or directory[0] != "D":
            problems.append("directory: like D96A or D01B")
        else:
            missing = [kind for kind, _ in BUILDERS.values() if schema_for(f"{kind}_{directory}") is None]
            if missing:  # every message is checked against its schema before it is written
                problems.append(f"directory: no schema for {', '.join(missing)} {directory} (D96A, D01B)")
        return problems

    def writer(self, file: FileInfo, open_output: Opener) -> EdifactWriter:
        """A writer for one input file."""
        return EdifactWriter(self, file, open_output)


class ContrlWriter:
    """Takes no documents: CONTRL answers are written by the pipeline's acknowledgement step."""

    def write(self, record: Record) -> list[Finding]:
        """Every record is a routing mistake."""
        return [
            Finding(
                Code.UNSUPPORTED_DOCUMENT,
                "an acknowledgement target takes no documents; route them elsewhere",
                {"record": record.doc_id},
                record.doc_type,
                "edifact_contrl target",
            )
        ]

    def close(self) -> None:
        """Nothing to finish."""


class ContrlTarget(SingleFormat):
    """The `edifact_contrl` format: a delivery for CONTRL answers (source `acknowledge_to`)."""

    format: ClassVar[str] = "edifact_contrl"
    options: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, config: TargetConfig) -> None:
        self.config = config

    def writer(self, file: FileInfo, open_output: Opener) -> ContrlWriter:
        """A writer that refuses documents."""
        return ContrlWriter()
