"""Line breaks inside EDIFACT segments: a wrapped interchange is joined again, a stray break is
kept where it is, and either is reported. On the way, the position in the text (segments and
lines so far) is kept, so that a byte that cannot be decoded is named with its segment.

Line breaks are layout in EDIFACT (no syntax level has them in its character set), and the
tokenizer drops those that follow a segment terminator. Some translators write the interchange
as one text wrapped at a fixed width (80 columns, the punched card's), so a break can fall in a
tag or a value; Bots reads such files by ignoring every line break, and so does this. A break
inside a segment of a file that is *not* wrapped is something else: usually a free text that
held a line break. Joining would glue two words, so the value keeps its break as decoded (a
numeric or coded value then fails its own check) and the segment is named in a warning.

A file counts as wrapped when the lines of its first block that end inside a segment are all as
long as the longest line (the mark of a fixed width) and there are two of them at least (or the
block holds just one complete line): a single long free text with a break is not a wrapping.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.findings import Code, Report
from gateway.formats.edifact.segment import DEFAULT, parse_una, valid_tag

_BREAK = re.compile("\n")


class Wrapping:
    """Watches decoded blocks for line breaks inside segments; joins a wrapped interchange."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.terminator: str | None = None
        self.wrapped: bool | None = None
        self.previous = ""  # the end of the block before, for a break at a block's start
        self.segments = 0  # segment terminators before the current block
        self.lines = 0  # line breaks before the current block
        self.told = False
        self.opening = ""  # the first characters of the segment the last block ended in

    def __call__(self, text: str) -> str:
        """`text`, the next decoded block, as the tokenizer should see it."""
        if self.terminator is None:
            una = parse_una(text)
            self.terminator = una[0].terminator if una else DEFAULT.terminator
        term = self.terminator
        if term in "\r\n" or "\n" not in text:
            return self._passed(text, text)
        probe = self.previous + text
        if probe.count("\n") == probe.count(term + "\n") + probe.count(term + "\r\n"):
            return self._passed(text, text)
        skip = len(self.previous)
        inside = [m.start() - skip for m in _BREAK.finditer(probe, skip) if self._inside(probe, m.start())]
        if not inside:
            return self._passed(text, text)
        if self.wrapped is None:
            self.wrapped = _fixed_width(text, term)
        if self.wrapped:
            return self._joined(text, inside[0])
        for at in inside:
            self.report(
                Code.WRAPPED_LINES,
                "a line break inside the segment, kept in its value (the file is not wrapped)",
                rule="ISO 9735: line breaks are not data characters",
                segment_index=self.segments + text.count(term, 0, at) + 1,
                line=self.lines + text.count("\n", 0, at) + 1,
            )
        return self._passed(text, text)

    def _inside(self, probe: str, at: int) -> bool:
        """Whether the line break at `at` ends a line inside a segment."""
        at -= 1
        while at >= 0 and probe[at] in " \r":
            at -= 1
        return at >= 0 and probe[at] not in (self.terminator, "\n")

    def _joined(self, text: str, first: int) -> str:
        if not self.told:
            self.told = True
            self.report(
                Code.WRAPPED_LINES,
                "the interchange is wrapped at a fixed width; its segments were joined again",
                rule="ISO 9735: line breaks are not data characters",
                segment_index=self.segments + text.count(self.terminator or DEFAULT.terminator, 0, first) + 1,
                line=self.lines + text.count("\n", 0, first) + 1,
            )
        return self._passed(text, text.replace("\r", "").replace("\n", ""))

    def where(self, prefix: str) -> dict[str, Any]:
        """The segment (index, and tag when it has one) that continues with `prefix`, the text
        decoded before a bad byte in the next block."""
        term = self.terminator or DEFAULT.terminator
        start = prefix.rfind(term)
        current = prefix[start + 1 :] if start != -1 else self.opening + prefix
        where: dict[str, Any] = {"segment_index": self.segments + prefix.count(term) + 1}
        tag = current.lstrip(" \r\n")[:3]
        if valid_tag(tag):
            where["segment"] = tag
        return where

    def _passed(self, text: str, out: str) -> str:
        term = self.terminator or DEFAULT.terminator
        self.segments += text.count(term)
        self.lines += text.count("\n")
        self.previous = text[-2:]
        end = text.rfind(term)
        self.opening = text[end + 1 :][:8] if end != -1 else (self.opening + text)[:8]
        return out


def _fixed_width(text: str, terminator: str) -> bool:
    """Whether the complete lines of `text` that end inside a segment are two or more (or all
    there is) and all have the width of the longest line."""
    lines = [line.rstrip("\r") for line in text.split("\n")[:-1]]
    if not lines:
        return False
    widest = max(map(len, lines))
    open_ended = [line for line in lines if line.rstrip(" ") and not line.rstrip(" ").endswith(terminator)]
    return len(open_ended) >= min(2, len(lines)) and all(len(line) == widest for line in open_ended)
