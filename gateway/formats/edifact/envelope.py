"""EDIFACT envelopes: UNB/UNZ interchanges, UNG/UNE groups and UNH/UNT messages.

`Envelope` is fed segments one at a time and hands back each message when it is complete, so
the reader never holds more than one message. Every count and reference the syntax defines is
checked (UNT count and reference, UNZ and UNE counts and references) and a missing trailer is
reported at the segment where it was due. pydifact checks none of these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.findings import Code, Report
from gateway.formats.edifact.syntax import CHARSETS, TAG, Delimiters, RawBatch, Scanner, Segment

SERVICE = frozenset({"UNA", "UNB", "UNZ", "UNG", "UNE", "UNH", "UNT"})
_DIGITS = re.compile(r"[0-9]+")


@dataclass
class Interchange:
    """What UNB says about the interchange."""

    syntax: str
    version: str
    sender: str
    sender_qualifier: str
    recipient: str
    recipient_qualifier: str
    date: str
    time: str
    control_ref: str
    application_ref: str = ""
    test: bool = False
    una: Delimiters | None = None
    index: int = 1


@dataclass
class Message:
    """One UNH..UNT message with its envelope, kept as segment texts until someone looks."""

    ref: str
    type: str
    version: str
    release: str
    agency: str
    association: str
    interchange: Interchange
    start: int
    scanner: Scanner
    raws: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    group_ref: str | None = None
    _segments: list[Segment] | None = field(default=None, repr=False)

    @property
    def directory(self) -> str:
        """The directory, e.g. `D96A`."""
        return f"{self.version}{self.release}"

    @property
    def parse(self) -> Callable[[str, int], Segment]:
        """Tokenizes one of the message's texts, under the scanner's current service characters."""
        return self.scanner.parse

    @property
    def segments(self) -> list[Segment]:
        """The message's segments, tokenized on first use."""
        if self._segments is None or len(self._segments) != len(self.raws):
            start, parse = self.start, self.parse
            self._segments = [parse(raw, start + i) for i, raw in enumerate(self.raws)]
        return self._segments

    def add(self, seg: Segment) -> None:
        """Append one segment."""
        self.raws.append(seg.raw)
        self.tags.append(seg.tag)


def _at(segment: Segment, element: int | None = None, component: int | None = None) -> dict[str, Any]:
    where: dict[str, Any] = {"segment": segment.tag, "segment_index": segment.index}
    if element is not None:
        where["element"] = element
        if component is not None:
            where["component"] = component
    return where


class Envelope:
    """Checks the envelope structure of a stream of segments and assembles messages."""

    def __init__(
        self,
        report: Report,
        on_interchange: Callable[[Interchange], None],
        scanner: Scanner | None = None,
    ) -> None:
        self.report = report
        self.scanner = scanner or Scanner(())
        self.parse = self.scanner.parse
        self.handlers: dict[str, Callable[[Segment], Message | None]] = {
            tag: getattr(self, f"_{tag.lower()}") for tag in SERVICE
        }
        self.on_interchange = on_interchange
        self.una: Delimiters | None = None
        self.interchange: Interchange | None = None
        self.unb: Segment | None = None
        self.message: Message | None = None
        self.group: Segment | None = None
        self.group_ref: str | None = None
        self.messages = 0
        self.group_messages = 0
        self.groups = 0
        self.interchanges = 0

    def feed(self, seg: Segment) -> Message | None:
        """Take the next segment; return a message when this segment completed one."""
        tag = seg.tag
        if self.message is not None and tag not in SERVICE:
            self.message.add(seg)
            return None
        handler = self.handlers.get(tag)
        if handler is None:
            self.report(
                Code.OUTSIDE_MESSAGE,
                "a segment outside any message (UNH..UNT)",
                rule="ISO 9735: data segments belong to a message",
                **_at(seg),
            )
            return None
        result: Message | None = handler(seg)
        return result

    def feed_raw(self, batch: RawBatch) -> list[Message]:
        """Take a batch of plain segment texts; return the messages it completed."""
        raws = batch.raws
        tags = batch.tags if batch.tags is not None else list(map(TAG, raws))
        message = self.message
        if message is not None and SERVICE.isdisjoint(tags):
            message.raws += raws
            message.tags += tags
            return []
        done: list[Message] = []
        start = 0
        # Service tags all start with "UN": find those in the joined tags instead of testing each.
        joined = "".join(tags)
        found: list[int] = []
        at = joined.find("UN")
        while at != -1:
            if at % 3 == 0 and joined[at : at + 3] in SERVICE:
                found.append(at // 3)
            at = joined.find("UN", at + 1)
        for k in found:
            if k > start:
                self._data(raws, tags, start, k, batch.base)
            raw, tag = raws[k], tags[k]
            # Most UNH and UNT are plain and right: those need neither tokenizing nor the checks.
            if tag == "UNT" and (finished := self._plain_unt(raw)) is not None:
                done.append(finished)
            elif not (tag == "UNH" and self._plain_unh(raw, batch.base + k)):
                finished = self.feed(self.parse(raw, batch.base + k))
                if finished is not None:
                    done.append(finished)
            start = k + 1
        if start < len(raws):
            self._data(raws, tags, start, len(raws), batch.base)
        return done

    def _plain_unt(self, raw: str) -> Message | None:
        """The open message, closed, when `raw` is its UNT and `_unt` would find nothing wrong:
        without a release, component or repetition character, splitting is all tokenizing does."""
        message = self.message
        d, repetition = self.scanner.delimiters, self.scanner.repetition
        if message is None or d.release in raw or d.component in raw or (repetition and repetition in raw):
            return None
        if raw.split(d.data)[1:] != [str(len(message.raws) + 1), message.ref]:
            return None
        self.message = None
        message.raws.append(raw)
        message.tags.append("UNT")
        return message

    def _plain_unh(self, raw: str, index: int) -> bool:
        """Open a message when `raw` is a UNH that `_unh` would find nothing wrong with."""
        if self.message is not None or self.interchange is None:
            return False
        d = self.scanner.delimiters
        if d.release in raw or (self.scanner.repetition and self.scanner.repetition in raw):
            return False
        parts = raw.split(d.data)
        if len(parts) < 3 or d.component in parts[1] or not 0 < len(parts[1]) <= 14:
            return False
        kind, version, release, agency, association = [*parts[2].split(d.component), "", "", "", ""][:5]
        if not (kind and version and release and agency):
            return False
        self._open(parts[1], kind, version, release, agency, association, index, raw)
        return True

    def _data(self, raws: list[str], tags: list[str], i: int, j: int, base: int) -> None:
        if self.message is not None:
            self.message.raws += raws[i:j]
            self.message.tags += tags[i:j]
            return
        for k in range(i, j):
            self.feed(self.parse(raws[k], base + k))

    def finish(self, last_index: int) -> Message | None:
        """End of file: report open envelopes; return a message left without UNT."""
        done = self._close_message(last_index, "the end of the file")
        if self.group is not None:
            self.report(
                Code.MISSING_UNE,
                f"group {self.group_ref!r} has no UNE before the end of the file",
                rule="UNG needs a matching UNE",
                **_at(self.group),
            )
        if self.interchange is not None and self.unb is not None:
            self.report(
                Code.MISSING_UNZ,
                f"interchange {self.interchange.control_ref!r} has no UNZ before the end of the file",
                rule="UNB needs a matching UNZ",
                **_at(self.unb),
            )
        elif self.interchanges == 0:
            self.report(Code.MISSING_UNB, "the file has no UNB interchange header", rule="ISO 9735 UNB")
        return done

    def _close_message(self, index: int, where: str) -> Message | None:
        message, self.message = self.message, None
        if message is not None:
            self.report(
                Code.MISSING_UNT,
                f"message {message.ref!r} has no UNT before {where}",
                rule="UNH needs a matching UNT",
                segment="UNH",
                segment_index=message.start,
            )
        return message

    def _una(self, seg: Segment) -> Message | None:
        done = self._close_message(seg.index, "UNA")
        self._unclosed_interchange(seg)
        self.una = Delimiters(*seg.elements[0]) if isinstance(seg.elements[0], str) else None
        return done

    def _unclosed_interchange(self, seg: Segment) -> None:
        if self.interchange is not None and self.unb is not None:
            self.report(
                Code.MISSING_UNZ,
                f"interchange {self.interchange.control_ref!r} has no UNZ before the next interchange",
                rule="UNB needs a matching UNZ",
                **_at(self.unb),
            )
            self.interchange = None

    def _unb(self, seg: Segment) -> Message | None:
        done = self._close_message(seg.index, "UNB")
        self._unclosed_interchange(seg)
        g = seg.get
        syntax, version = g(0, 0), g(0, 1)
        date, time, ref = g(3, 0), g(3, 1), g(4)
        self.interchange = Interchange(
            syntax=syntax,
            version=version,
            sender=g(1, 0),
            sender_qualifier=g(1, 1),
            recipient=g(2, 0),
            recipient_qualifier=g(2, 1),
            date=date,
            time=time,
            control_ref=ref,
            application_ref=g(6),
            test=g(10) == "1",
            una=self.una,
            index=seg.index,
        )
        # The sender is known before its UNB is judged: its partner strictness applies.
        self.on_interchange(self.interchange)
        if syntax not in CHARSETS:
            self.report(
                Code.UNKNOWN_SYNTAX,
                "is not a supported syntax identifier",
                value=syntax,
                rule="UNB 0001: UNOA..UNOL, UNOW, UNOX, UNOY",
                **_at(seg, 1, 1),
            )
        if version not in ("1", "2", "3", "4"):
            self.report(
                Code.BAD_SYNTAX_VERSION,
                "is not a syntax version (1 to 4)",
                value=version,
                rule="UNB 0002 n1",
                **_at(seg, 1, 2),
            )
        for element, name in ((1, "sender"), (2, "recipient")):
            if not g(element, 0):
                self.report(
                    Code.MISSING_ELEMENT,
                    f"the interchange {name} is missing",
                    rule=f"UNB S00{element + 1} mandatory",
                    **_at(seg, element + 1, 1),
                )
        if not (_DIGITS.fullmatch(date) and len(date) in (6, 8)):
            self.report(
                Code.BAD_DATE,
                "is not a date (YYMMDD, or CCYYMMDD in syntax 4)",
                value=date,
                rule="UNB S004 0017",
                **_at(seg, 4, 1),
            )
        elif len(date) == 8 and version in ("1", "2", "3"):
            self.report(
                Code.LONG_DATE,
                f"is an 8-digit date (CCYYMMDD) under syntax {version}, which has YYMMDD",
                value=date,
                rule="UNB S004 0017 n6 below syntax 4",
                **_at(seg, 4, 1),
            )
        if not (_DIGITS.fullmatch(time) and len(time) == 4):
            self.report(
                Code.BAD_TIME, "is not a time (HHMM)", value=time, rule="UNB S004 0019 n4", **_at(seg, 4, 2)
            )
        if not ref or len(ref) > 14:
            self.report(
                Code.BAD_CONTROL_REF,
                "the interchange control reference must be 1 to 14 characters",
                value=ref,
                rule="UNB 0020 an..14",
                **_at(seg, 5),
            )
        self.unb = seg
        self.una = None
        self.messages = self.groups = 0
        self.interchanges += 1
        return done

    def _ung(self, seg: Segment) -> Message | None:
        done = self._close_message(seg.index, "UNG")
        if self.interchange is None:
            self.report(Code.MISSING_UNB, "UNG outside an interchange", rule="UNG follows UNB", **_at(seg))
        if self.group is not None:
            self.report(
                Code.MISSING_UNE,
                f"group {self.group_ref!r} has no UNE before the next UNG",
                rule="UNG needs a matching UNE",
                **_at(self.group),
            )
        self.group, self.group_ref = seg, seg.get(4)
        self.group_messages = 0
        self.groups += 1
        return done

    def _une(self, seg: Segment) -> Message | None:
        done = self._close_message(seg.index, "UNE")
        if self.group is None:
            self.report(Code.UNEXPECTED_UNE, "UNE without a UNG", rule="UNE closes a UNG", **_at(seg))
            return done
        self._check_trailer(
            seg,
            self.group_messages,
            "messages in the group",
            self.group_ref or "",
            "UNE 0060",
            "UNE 0048 = UNG 0048",
        )
        self.group = self.group_ref = None
        return done

    def _unh(self, seg: Segment) -> Message | None:
        done = self._close_message(seg.index, "the next UNH")
        if self.interchange is None:
            self.report(
                Code.MISSING_UNB, "a message outside an interchange", rule="UNH follows UNB", **_at(seg)
            )
            self.interchange = Interchange("UNOA", "", "", "", "", "", "", "", "")
            self.unb = None
        ref = seg.get(0)
        if not ref or len(ref) > 14:
            self.report(
                Code.BAD_MESSAGE_REF,
                "the message reference must be 1 to 14 characters",
                value=ref,
                rule="UNH 0062 an..14",
                **_at(seg, 1),
            )
        s009 = seg.elements[1] if len(seg.elements) > 1 else ""
        kind, version, release, agency, association = [
            *([s009] if isinstance(s009, str) else s009),
            *[""] * 5,
        ][:5]
        for component, (name, value) in enumerate(
            (("type", kind), ("version", version), ("release", release), ("agency", agency)), start=1
        ):
            if not value:
                self.report(
                    Code.MISSING_ELEMENT,
                    f"the message {name} is missing",
                    rule="UNH S009 mandatory components",
                    **_at(seg, 2, component),
                )
        self._open(ref, kind, version, release, agency, association, seg.index, seg.raw)
        return done

    def _open(
        self, ref: str, kind: str, version: str, release: str, agency: str, association: str, start: int,
        raw: str,
    ) -> None:  # fmt: skip
        assert self.interchange is not None
        self.message = Message(
            ref, kind, version, release, agency, association, self.interchange, start, self.scanner,
            [raw], ["UNH"], self.group_ref,
        )  # fmt: skip
        self.messages += 1
        self.group_messages += 1

    def _unt(self, seg: Segment) -> Message | None:
        message, self.message = self.message, None
        if message is None:
            self.report(Code.UNEXPECTED_UNT, "UNT without a UNH", rule="UNT closes a UNH", **_at(seg))
            return None
        message.add(seg)
        self._check_trailer(
            seg,
            len(message.raws),
            "segments in the message (UNH and UNT included)",
            message.ref,
            "UNT 0074",
            "UNT 0062 = UNH 0062",
        )
        return message

    def _unz(self, seg: Segment) -> Message | None:
        done = self._close_message(seg.index, "UNZ")
        if self.group is not None:
            self.report(
                Code.MISSING_UNE,
                f"group {self.group_ref!r} has no UNE before UNZ",
                rule="UNG needs a matching UNE",
                **_at(self.group),
            )
            self.group = None
        if self.interchange is None:
            self.report(Code.UNEXPECTED_UNZ, "UNZ without a UNB", rule="UNZ closes a UNB", **_at(seg))
            return done
        count, what = (self.groups, "groups") if self.groups else (self.messages, "messages")
        self._check_trailer(
            seg,
            count,
            f"{what} in the interchange",
            self.interchange.control_ref,
            "UNZ 0036",
            "UNZ 0020 = UNB 0020",
        )
        self.interchange = None
        self.unb = None
        return done

    def _check_trailer(
        self, seg: Segment, actual: int, what: str, ref: str, count_rule: str, ref_rule: str
    ) -> None:
        declared = seg.get(0)
        if declared != str(actual):
            self.report(
                Code.WRONG_COUNT,
                f"says {declared or 'nothing'} but there are {actual} {what}",
                value=declared,
                rule=count_rule,
                **_at(seg, 1),
            )
        if seg.get(1) != ref:
            self.report(
                Code.WRONG_REFERENCE,
                f"does not match the opening reference {ref!r}",
                value=seg.get(1),
                rule=ref_rule,
                **_at(seg, 2),
            )
