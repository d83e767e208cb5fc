"""CONTRL acknowledgements: what the gateway tells a partner about an inbound interchange.

UCI accepts (action 7) or rejects (4) the interchange; a UCM per message says the same of each
message; under a rejected message, UCS names the failing segment by its position in the message
(UNH = 1) and UCD the failing element and component. Error codes are ISO 9735 data element 0085.

`acknowledge(path, findings)` builds the CONTRL for a file from the reader's findings; a
partner's acknowledgement target (or a pipeline hook) decides where it goes. `answer(message)`
reads a partner's CONTRL the other way: which interchange of ours it answers, and whether
the interchange and each message were taken.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import Finding
from gateway.findings import Code
from gateway.formats.base import Acknowledgement
from gateway.formats.edifact.envelope import Envelope, Interchange, Message
from gateway.formats.edifact.syntax import (
    CHARSETS,
    DEFAULT,
    Delimiters,
    RawBatch,
    Scanner,
    Segment,
    SyntaxFault,
)

#: Finding code → ISO 9735 syntax error code (0085).
ERROR_CODES: dict[Code, str] = {
    Code.NOT_NUMERIC: "37",
    Code.NOT_ALPHABETIC: "37",
    Code.TOO_LONG: "39",
    Code.WRONG_LENGTH: "40",
    Code.UNKNOWN_CODE: "12",
    Code.MISSING_ELEMENT: "13",
    Code.MISSING_COMPONENT: "13",
    Code.MISSING_SEGMENT: "13",
    Code.TOO_MANY_ELEMENTS: "16",
    Code.TOO_MANY_COMPONENTS: "16",
    Code.UNEXPECTED_COMPONENT: "16",
    Code.UNEXPECTED_SEGMENT: "15",
    Code.TOO_MANY_REPETITIONS: "35",
    Code.WRONG_COUNT: "29",
    Code.WRONG_REFERENCE: "28",
    Code.BAD_CHARACTER: "21",
    Code.WRAPPED_LINES: "21",  # refused under strict: line breaks are invalid characters
    Code.UTF8_CONTENT: "21",
    Code.LONG_DATE: "12",
    Code.UNDECODABLE: "21",
    Code.SYNTAX_ERROR: "17",
    Code.MISSING_UNT: "13",
    Code.MISSING_UNZ: "13",
    Code.MISSING_UNE: "13",
    Code.UNKNOWN_SYNTAX: "2",
    Code.BAD_SYNTAX_VERSION: "2",
    Code.DUPLICATE: "26",
    Code.OUTSIDE_MESSAGE: "15",
}
#: UCI/UCM action codes (0083): 4 rejected, 7 acknowledged, 8 received.
REJECTED_ACTION = "4"


@dataclass(frozen=True)
class MessageHeader:
    """What CONTRL needs of an inbound message: reference, type and where it sits."""

    ref: str
    type: str
    version: str
    release: str
    agency: str
    association: str
    start: int
    count: int


def headers(path: Path, codec: str) -> tuple[Interchange | None, list[MessageHeader]]:
    """The first interchange of the file and its messages, read leniently (no schema)."""
    interchanges: list[Interchange] = []
    found: list[MessageHeader] = []

    def keep(message: Message) -> None:
        found.append(
            MessageHeader(
                message.ref,
                message.type,
                message.version,
                message.release,
                message.agency,
                message.association,
                message.start,
                len(message.raws),
            )
        )

    with path.open(encoding=codec, errors="replace") as fh:
        text_blocks = iter(lambda: fh.read(1 << 18), "")
        scanner = Scanner(text_blocks)
        envelope = Envelope(lambda *_a, **_k: None, interchanges.append, scanner)
        try:
            for batch in scanner.batches():
                done = (
                    envelope.feed_raw(batch)
                    if isinstance(batch, RawBatch)
                    else [m for m in map(envelope.feed, batch) if m is not None]
                )
                for message in done:
                    keep(message)
        except SyntaxFault:
            pass
        left = envelope.finish(scanner.index)
        if left is not None:
            keep(left)
    return (interchanges[0] if interchanges else None), found


class Contrl:
    """Renders one CONTRL interchange in answer to `inbound`."""

    def __init__(self, inbound: Interchange, reference: str, delimiters: Delimiters = DEFAULT) -> None:
        self.inbound = inbound
        self.reference = reference
        self.d = delimiters
        self.segments: list[list[str | list[str]]] = []

    def _esc(self, value: str) -> str:
        d = self.d
        for c in (d.release, d.component, d.data, d.terminator):
            value = value.replace(c, d.release + c)
        return value

    def render(
        self, messages: Iterable[MessageHeader], findings: list[Finding], *, partial: bool = False
    ) -> str:
        """The CONTRL text: UNA, UNB, UNH, UCI, UCM/UCS/UCD per message, UNT, UNZ. With `partial`
        (the file was accepted but for some messages) only the messages with findings are rejected."""
        ic = self.inbound
        version = ic.version if ic.version in ("1", "2", "3", "4") else "3"
        located = {id(f) for f in findings}
        body: list[list[str | list[str]]] = []
        per_message: dict[str, list[Finding]] = {}
        headers_list = list(messages)
        for header in headers_list:
            inside = [f for f in findings if header.start <= _index(f) < header.start + header.count]
            per_message[header.ref] = inside
            located -= {id(f) for f in inside}
        outside = [f for f in findings if id(f) in located]
        action = "4" if outside or (findings and not partial) else "7"
        uci: list[str | list[str]] = [
            "UCI",
            ic.control_ref,
            [ic.sender, ic.sender_qualifier],
            [ic.recipient, ic.recipient_qualifier],
            action,
        ]
        if outside:
            first = outside[0]
            where = first.location
            uci += [ERROR_CODES.get(first.code, "12"), str(where.get("segment", ""))]
            if "element" in where:
                uci += ["", [str(where["element"]), str(where.get("component", ""))]]
        body.append(uci)
        for header in headers_list:
            inside = per_message[header.ref]
            ucm: list[str | list[str]] = [
                "UCM",
                header.ref,
                [header.type, header.version, header.release, header.agency, header.association],
                "4" if inside or outside or (findings and not partial) else "7",
            ]
            if inside:
                ucm.append(ERROR_CODES.get(inside[0].code, "12"))
            body.append(ucm)
            for finding in inside:
                code = ERROR_CODES.get(finding.code, "12")
                where = finding.location
                body.append(
                    ["UCS", str(_index(finding) - header.start + 1), "" if "element" in where else code]
                )
                if "element" in where:
                    body.append(["UCD", code, [str(where["element"]), str(where.get("component", ""))]])
        message_version = ["CONTRL", "4", "1", "UN"] if version == "4" else ["CONTRL", "2", "2", "UN"]
        now = time.gmtime()
        stamp = time.strftime("%Y%m%d" if version == "4" else "%y%m%d", now)
        segs: list[list[str | list[str]]] = [
            [
                "UNB",
                [ic.syntax if ic.syntax in CHARSETS else "UNOA", version],
                [ic.recipient, ic.recipient_qualifier],
                [ic.sender, ic.sender_qualifier],
                [stamp, time.strftime("%H%M", now)],
                self.reference,
            ],
            ["UNH", "1", message_version],
            *body,
            ["UNT", str(len(body) + 2), "1"],
            ["UNZ", "1", self.reference],
        ]
        return self.d.una + "\n" + "".join(self._segment(s) + "\n" for s in segs)

    def _segment(self, seg: list[str | list[str]]) -> str:
        d = self.d
        parts = [str(seg[0])]
        for element in seg[1:]:
            if isinstance(element, list):
                comps = [self._esc(c) for c in element]
                while comps and not comps[-1]:
                    comps.pop()
                parts.append(d.component.join(comps))
            else:
                parts.append(self._esc(element))
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        return d.data.join(parts) + d.terminator


def _index(finding: Finding) -> int:
    value = finding.location.get("segment_index", 0)
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else 0


def acknowledge(
    path: Path, findings: list[Finding], reference: str, codec: str = "latin-1", *, partial: bool = False
) -> str | None:
    """The CONTRL for the file at `path` given the reader's findings; None when it has no UNB."""
    inbound, messages = headers(path, codec)
    if inbound is None:
        return None
    return Contrl(inbound, reference).render(messages, findings, partial=partial)


def _error(seg: Segment, element: int) -> str:
    code = seg.get(element)
    return f" (error {code})" if code else ""


def answer(message: Message) -> Acknowledgement:
    """What a partner's CONTRL message says about the interchange of ours it answers."""
    segments = message.segments
    uci = next((s for s in segments if s.tag == "UCI"), None)
    if uci is None:
        ic = message.interchange
        return Acknowledgement(ic.sender, ic.recipient, "", False, "CONTRL without UCI")
    problems = []
    if uci.get(3) == REJECTED_ACTION:
        problems.append(f"interchange rejected{_error(uci, 4)}")
    where = ""
    for seg in segments:
        if seg.tag == "UCM" and seg.get(2) == REJECTED_ACTION:
            where = f"message {seg.get(0)} ({seg.get(1, 0)})"
            problems.append(f"{where} rejected{_error(seg, 3)}")
        elif seg.tag == "UCS" and where:
            problems.append(f"{where} segment {seg.get(0)}{_error(seg, 1)}")
        elif seg.tag == "UCD" and where:
            problems.append(f"{where} element {seg.get(1, 0)}.{seg.get(1, 1) or 1}{_error(seg, 0)}")
    # UCI names the acknowledged interchange's sender (us) and recipient (the partner).
    return Acknowledgement(
        partner=uci.get(2, 0),
        sender=uci.get(1, 0),
        control_ref=uci.get(0),
        accepted=not problems,
        detail="; ".join(problems) or "acknowledged",
    )
