"""UN/EDIFACT syntax: service characters, character sets and a fast streaming tokenizer.

The tokenizer gives the same segments as pydifact's parser (a differential test holds it to
that) but works on whole blocks with `str.split`, which runs in C, instead of one character at
a time. Release characters are rare in real files, so a block without one takes the fast path;
a segment with one is split again with the escaped separators rejoined. Text arrives in blocks
and only the unfinished tail of a block is carried over, so memory stays flat however long the
interchange is, and a file without any segment terminator is stopped at `max_segment`.

Elements have pydifact's shape: a simple element is a `str`, a composite a `list[str]` with
trailing empty components dropped (`A:` is `"A"`, `:B` is `["", "B"]`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

Element = str | list[str]

#: Syntax identifier (UNB 0001) → Python codec. UNOX (ISO 2022 code extension) has no codec.
CHARSETS: dict[str, str] = {
    "UNOA": "ascii",
    "UNOB": "ascii",
    "UNOC": "iso8859-1",
    "UNOD": "iso8859-2",
    "UNOE": "iso8859-5",
    "UNOF": "iso8859-7",
    "UNOG": "iso8859-3",
    "UNOH": "iso8859-4",
    "UNOI": "iso8859-6",
    "UNOJ": "iso8859-8",
    "UNOK": "iso8859-9",
    "UNOL": "iso8859-15",
    "UNOW": "utf-8",
    "UNOY": "utf-8",
}

#: Characters a level A / B interchange may carry (ISO 9735 annex A), separators included.
_LEVEL_A = r"A-Z0-9 .,\-()/='+:?!\"%&*;<>"
CHARSET_RULES: dict[str, re.Pattern[str]] = {
    "UNOA": re.compile(f"[^{_LEVEL_A}]"),
    "UNOB": re.compile(f"[^{_LEVEL_A}a-z@\\[\\]{{}}\\\\|~^_#$`\\n\\r]"),
}

LINE_BREAKS = " \r\n"  # pydifact skips these after a terminator, and so do we


@dataclass(frozen=True)
class Delimiters:
    """The service characters of an interchange (UNA, or the defaults without one)."""

    component: str = ":"
    data: str = "+"
    decimal: str = "."
    release: str = "?"
    reserved: str = " "
    terminator: str = "'"

    @property
    def una(self) -> str:
        """The UNA service string advice announcing these characters."""
        return f"UNA{self.component}{self.data}{self.decimal}{self.release}{self.reserved}{self.terminator}"


DEFAULT = Delimiters()


class SyntaxFault(Exception):
    """The text cannot be tokenized on; carries the segment position where it happened."""

    def __init__(self, message: str, index: int, raw: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.index = index
        self.raw = raw


@dataclass(slots=True)
class Segment:
    """One segment: tag, elements (pydifact's shape), its 1-based position in the file.

    `repeats` holds further repetitions of an element (syntax 4 repetition separator) by
    element position; the first repetition stays in `elements`.
    """

    tag: str
    elements: list[Element]
    index: int
    raw: str = ""
    repeats: dict[int, list[Element]] | None = None

    def get(self, element: int, component: int = 0) -> str:
        """Element `element` (0-based after the tag), component `component`; "" when absent."""
        if element >= len(self.elements):
            return ""
        value = self.elements[element]
        if isinstance(value, str):
            return value if component == 0 else ""
        return value[component] if component < len(value) else ""


def parse_una(text: str) -> tuple[Delimiters, int] | None:
    """Read a UNA at the start of `text`: its delimiters and its length (6- or 5-char form).

    The short form `UNA:+.?'` (no reserved character) is real; it is recognised when UNB or
    UNG follows straight after it, or when the first line after it ends in its terminator.
    """
    if not text.startswith("UNA") or len(text) < 8:
        return None
    body = text[3:9]
    rest5 = text[8:]
    short = rest5.startswith(("UNB", "UNG"))
    if not short and rest5[:1] in ("\r", "\n"):
        after = rest5.lstrip("\r\n")
        line = after.split("\n", 1)[0].rstrip("\r")
        short = after.startswith(("UNB", "UNG")) and line.endswith(body[4])
    if short:
        c = body[:5]
        return Delimiters(c[0], c[1], c[2], c[3], " ", c[4]), 8
    if len(body) < 6:
        return None
    return Delimiters(*body), 9


def _escaped(piece: str, release: str) -> bool:
    """True when `piece` ends in an odd run of release characters (its separator is data)."""
    run = len(piece) - len(piece.rstrip(release))
    return run % 2 == 1


def split_escaped(text: str, sep: str, release: str) -> list[str]:
    """`text.split(sep)`, rejoining pieces whose separator was released."""
    parts = text.split(sep)
    if len(parts) == 1:
        return parts
    out = [parts[0]]
    for part in parts[1:]:
        if _escaped(out[-1], release):
            out[-1] += sep + part
        else:
            out.append(part)
    return out


class Unescaper:
    """Removes release characters, keeping the character each one releases."""

    def __init__(self, release: str) -> None:
        self.release = release
        self.pattern = re.compile(re.escape(release) + "(.)", re.DOTALL)

    def __call__(self, text: str) -> str:
        if self.release not in text:
            return text
        return self.pattern.sub(r"\1", text)


def _composite(parts: list[str]) -> Element:
    while parts and not parts[-1]:
        parts.pop()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return parts


def _valid_tag(tag: str) -> bool:
    return len(tag) == 3 and tag.isalnum() and tag.isupper()


class Scanner:
    """Splits a stream of text blocks into segments, switching delimiters at each UNA.

    Set `repetition` (syntax 4) once UNB is known; it applies to the segments after it.
    """

    def __init__(self, blocks: Iterable[str], *, max_segment: int = 1 << 20) -> None:
        self.blocks = iter(blocks)
        self.max_segment = max_segment
        self.delimiters = DEFAULT
        self.una: Delimiters | None = None
        self.repetition: str | None = None
        self.index = 0
        self._unescape = Unescaper(DEFAULT.release)

    def use(self, delimiters: Delimiters) -> None:
        """Tokenize what follows with `delimiters` (a UNA was read)."""
        self.delimiters = delimiters
        self._unescape = Unescaper(delimiters.release)

    def __iter__(self) -> Iterator[Segment]:
        buffer = ""
        exhausted = False
        while True:
            if not exhausted:
                block = next(self.blocks, None)
                if block is None:
                    exhausted = True
                else:
                    buffer += block
            buffer = self._skip_breaks(buffer, exhausted)
            if buffer.startswith("UNA") or (not exhausted and "UNA".startswith(buffer) and buffer):
                if len(buffer) < 12 and not exhausted:
                    continue
                parsed = parse_una(buffer)
                if parsed is None:
                    self.index += 1
                    raise SyntaxFault("the UNA service string advice is incomplete", self.index, buffer[:9])
                self.una, length = parsed
                self.use(self.una)
                self.index += 1
                yield Segment("UNA", [self.una.una[3:]], self.index, buffer[:length])
                buffer = buffer[length:]
                continue
            d = self.delimiters
            pieces = buffer.split(d.terminator)
            if d.release in buffer:
                pieces = self._rejoin(pieces, d)
            buffer = pieces.pop()
            if len(buffer) > self.max_segment:
                raise SyntaxFault(
                    f"no segment terminator {d.terminator!r} in the next {self.max_segment} characters",
                    self.index + 1,
                    buffer[:40],
                )
            for n, raw_piece in enumerate(pieces):
                piece = self._skip_breaks(raw_piece, True) if n else raw_piece
                if piece.startswith("UNA"):
                    # A new interchange with its own service characters: re-split the rest.
                    buffer = d.terminator.join(pieces[n:]) + d.terminator + buffer
                    buffer = self._skip_breaks(buffer, exhausted)
                    break
                yield self.segment(piece)
            else:
                if exhausted:
                    if buffer.strip(LINE_BREAKS):
                        raise SyntaxFault(
                            "the file ends inside a segment (no segment terminator)",
                            self.index + 1,
                            buffer[:40],
                        )
                    return
                continue
            if exhausted and not buffer:
                return

    def _skip_breaks(self, text: str, final: bool) -> str:
        stripped = text.lstrip(LINE_BREAKS)
        release = self.delimiters.release
        # pydifact also skips a released blank after a terminator, and fails on a released newline.
        while stripped[:1] == release and len(stripped) > 1 and stripped[1] in LINE_BREAKS:
            if stripped[1] == "\n":
                raise SyntaxFault("a release character before a line break", self.index + 1, stripped[:40])
            stripped = stripped[2:].lstrip(LINE_BREAKS)
        if stripped == release and not final:
            return text  # wait for the released character
        return stripped

    @staticmethod
    def _rejoin(pieces: list[str], d: Delimiters) -> list[str]:
        out = [pieces[0]]
        for piece in pieces[1:]:
            if _escaped(out[-1], d.release):
                out[-1] += d.terminator + piece
            else:
                out.append(piece)
        return out

    def segment(self, raw: str) -> Segment:
        """Tokenize one segment's text (without its terminator)."""
        self.index += 1
        d = self.delimiters
        text = raw
        if d.release in text:
            return self._released(text, raw)
        parts = text.split(d.data)
        tag = parts[0]
        if not _valid_tag(tag):
            raise SyntaxFault(self._bad_tag(tag), self.index, raw[:40])
        elements: list[Element] = []
        comp = d.component
        for part in parts[1:]:
            if comp in part:
                elements.append(_composite(part.split(comp)))
            else:
                elements.append(part)
        segment = Segment(tag, elements, self.index, raw)
        if self.repetition and self.repetition in text:
            self._split_repeats(segment, [p for p in parts[1:]])
        return segment

    def _released(self, text: str, raw: str) -> Segment:
        d = self.delimiters
        if d.release + "\n" in text and not _all_released_pairs_ok(text, d.release):
            raise SyntaxFault("a release character before a line break", self.index, raw[:40])
        parts = split_escaped(text, d.data, d.release)
        unescape = self._unescape
        tag = unescape(parts[0])
        if not _valid_tag(tag) or d.component in parts[0]:
            raise SyntaxFault(self._bad_tag(tag), self.index, raw[:40])
        elements: list[Element] = []
        for whole in parts[1:]:
            part = split_escaped(whole, self.repetition, d.release)[0] if self.repetition else whole
            components = split_escaped(part, d.component, d.release)
            elements.append(_composite([unescape(c) for c in components]))
        if _escaped(text, d.release):
            raise SyntaxFault("the segment ends in a release character", self.index, raw[:40])
        segment = Segment(tag, elements, self.index, raw)
        if self.repetition and self.repetition in text:
            self._split_repeats(segment, parts[1:])
        return segment

    def _split_repeats(self, segment: Segment, parts: list[str]) -> None:
        d = self.delimiters
        assert self.repetition is not None
        repeats: dict[int, list[Element]] = {}
        for i, part in enumerate(parts):
            reps = split_escaped(part, self.repetition, d.release)
            if len(reps) > 1:
                values = [
                    _composite([self._unescape(c) for c in split_escaped(r, d.component, d.release)])
                    for r in reps
                ]
                segment.elements[i] = values[0]
                repeats[i] = values[1:]
        segment.repeats = repeats or None

    @staticmethod
    def _bad_tag(tag: str) -> str:
        if not tag:
            return "a segment without a tag (an empty segment or a misplaced separator)"
        return f"{tag[:20]!r} is not a segment tag (three upper-case letters or digits)"


def _all_released_pairs_ok(text: str, release: str) -> bool:
    """False when a release character that is not itself released stands before a newline."""
    i = text.find(release)
    while i != -1:
        if text[i + 1 : i + 2] == "\n":
            return False
        i = text.find(release, i + 2)
    return True
