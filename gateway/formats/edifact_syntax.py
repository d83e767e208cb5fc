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

import operator
import re
from collections.abc import Callable, Generator, Iterable, Iterator
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


class Segment:
    """One segment: tag, elements (pydifact's shape), its 1-based position in the file.

    Elements are split from `raw` on first use: validation results are cached per distinct
    segment text, so the many repeated segments of a large interchange are never split at all.
    `repeats` holds further repetitions of an element (syntax 4 repetition separator) by
    element position; the first repetition stays in `elements`.
    """

    __slots__ = ("_elements", "_split", "index", "raw", "repeats", "tag")

    def __init__(
        self,
        tag: str,
        elements: list[Element] | None,
        index: int,
        raw: str = "",
        repeats: dict[int, list[Element]] | None = None,
        split: Callable[[str], list[Element]] | None = None,
    ) -> None:
        self.tag = tag
        self._elements = elements
        self.index = index
        self.raw = raw
        self.repeats = repeats
        self._split = split

    @property
    def elements(self) -> list[Element]:
        """The data elements after the tag."""
        if self._elements is None:
            assert self._split is not None
            self._elements = self._split(self.raw)
        return self._elements

    def __repr__(self) -> str:
        return f"Segment({self.tag!r}, {self.elements!r}, {self.index})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segment):
            return NotImplemented
        return (self.tag, self.elements, self.index) == (other.tag, other.elements, other.index)

    __hash__ = None  # type: ignore[assignment]

    def get(self, element: int, component: int = 0) -> str:
        """Element `element` (0-based after the tag), component `component`; "" when absent."""
        elements = self.elements
        if element >= len(elements):
            return ""
        value = elements[element]
        if isinstance(value, str):
            return value if component == 0 else ""
        return value[component] if component < len(value) else ""


def plain_splitter(d: Delimiters) -> Callable[[str], list[Element]]:
    """Splits the elements of a segment text that has no release character."""
    data, comp = d.data, d.component

    def split(raw: str) -> list[Element]:
        parts = raw.split(data)
        del parts[0]
        return [_composite(p.split(comp)) if comp in p else p for p in parts]

    return split


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


TAG = operator.itemgetter(slice(0, 3))
AFTER_TAG = operator.itemgetter(slice(3, 4))


@dataclass(frozen=True)
class RawBatch:
    """Plain segments of known tags, as text: `raws[i]` is segment `base + i` of the file."""

    base: int
    raws: list[str]


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
        self._valid_tags: set[str] = set()
        self._splitter = plain_splitter(DEFAULT)

    def use(self, delimiters: Delimiters) -> None:
        """Tokenize what follows with `delimiters` (a UNA was read)."""
        self.delimiters = delimiters
        self._unescape = Unescaper(delimiters.release)
        self._splitter = plain_splitter(delimiters)

    def __iter__(self) -> Iterator[Segment]:
        for batch in self.batches():
            if isinstance(batch, RawBatch):
                split, release = self._splitter, self.delimiters.release
                for i, raw in enumerate(batch.raws):
                    if release in raw:
                        yield self.parse(raw, batch.base + i)
                    else:
                        yield Segment(raw[:3], None, batch.base + i, raw, None, split)
            else:
                yield from batch

    def batches(self) -> Iterator[list[Segment] | RawBatch]:
        """The segments, a block's worth at a time (one list per block read)."""
        buffer = ""
        exhausted = False
        fresh = True  # read a block before splitting again
        while True:
            if not exhausted and fresh:
                block = next(self.blocks, None)
                if block is None:
                    exhausted = True
                else:
                    buffer += block
            buffer = self._skip_breaks(buffer, exhausted)
            if buffer.startswith("UNA") or (not exhausted and "UNA".startswith(buffer) and buffer):
                if len(buffer) < 12 and not exhausted:
                    fresh = True
                    continue
                parsed = parse_una(buffer)
                if parsed is None:
                    self.index += 1
                    raise SyntaxFault("the UNA service string advice is incomplete", self.index, buffer[:9])
                self.una, length = parsed
                self.use(self.una)
                self.index += 1
                yield [Segment("UNA", [self.una.una[3:]], self.index, buffer[:length])]
                buffer = buffer[length:]
                fresh = not buffer
                continue
            fresh = True
            d = self.delimiters
            terminator, release = d.terminator, d.release
            text = buffer
            released = release + terminator in text
            protected = released and not any(c in text for c in "\x00\x01\x02")
            if protected:
                # Hide released releases and terminators, so that every terminator left is real.
                text = text.replace(release + release, "\x01").replace(release + terminator, "\x02")
            if "\n" in text and (protected or not released):
                # Every terminator here is real, so a line break right after one is layout.
                text = text.replace(terminator + "\r\n", terminator).replace(terminator + "\n", terminator)
            if protected:
                text = text.replace(terminator, "\x00")
                text = text.replace("\x01", release + release).replace("\x02", release + terminator)
                pieces = text.split("\x00")
            else:
                pieces = text.split(terminator)
                if released:
                    pieces = self._rejoin(pieces, d)
            buffer = pieces.pop()
            if len(buffer) > self.max_segment:
                raise SyntaxFault(
                    f"no segment terminator {terminator!r} in the next {self.max_segment} characters",
                    self.index + 1,
                    buffer[:40],
                )
            rest = None
            if self.repetition or release + "\n" in text:
                batch, rest = self._one_by_one(pieces, exhausted)
                if batch:
                    yield batch
            else:
                rest = yield from self._mixed(pieces, exhausted)
            if rest is not None:
                buffer = rest + terminator + buffer
                fresh = False
                continue
            if exhausted:
                if buffer.strip(LINE_BREAKS):
                    raise SyntaxFault(
                        "the file ends inside a segment (no segment terminator)",
                        self.index + 1,
                        buffer[:40],
                    )
                return

    def _mixed(
        self, pieces: list[str], exhausted: bool
    ) -> Generator[list[Segment] | RawBatch, None, str | None]:
        """Plain runs as raw batches, the odd segment (UNB, new tags, releases) one by one."""
        d = self.delimiters
        valid, seps = self._valid_tags, (d.data, "")
        for tag in set(map(TAG, pieces)).difference(valid):
            if tag not in ("UNA", "UNB") and _valid_tag(tag):
                valid.add(tag)
        if (
            valid.issuperset(map(TAG, pieces))
            and seps[0] in seps
            and set(seps).issuperset(map(AFTER_TAG, pieces))
        ):
            self.index += len(pieces)
            yield RawBatch(self.index - len(pieces) + 1, pieces)
            return None
        start = 0
        for i, piece in enumerate(pieces):
            if piece[:3] in valid and piece[3:4] in seps and not self.repetition:
                continue
            if i > start:
                self.index += i - start
                yield RawBatch(self.index - (i - start) + 1, pieces[start:i])
            batch, rest = self._one_by_one([piece], exhausted)
            if rest is not None:
                return d.terminator.join([rest, *pieces[i + 1 :]])
            yield batch
            start = i + 1
            if self.repetition:
                batch, rest = self._one_by_one(pieces[start:], exhausted)
                if batch:
                    yield batch
                return rest
        if start < len(pieces):
            self.index += len(pieces) - start
            yield RawBatch(self.index - (len(pieces) - start) + 1, pieces[start:])
        return None

    def _one_by_one(self, pieces: list[str], exhausted: bool) -> tuple[list[Segment], str | None]:
        """Tokenize pieces one at a time; stop at a UNA and return the text from there on."""
        d = self.delimiters
        release = d.release
        valid, split, seps = self._valid_tags, self._splitter, (d.data, "")
        batch: list[Segment] = []
        append = batch.append
        for n, raw_piece in enumerate(pieces):
            piece = raw_piece.lstrip(LINE_BREAKS)
            if piece[:3] in valid and piece[3:4] in seps and not self.repetition and release not in piece:
                self.index += 1
                append(Segment(piece[:3], None, self.index, piece, None, split))
                continue
            if piece[:1] == release:
                piece = self._skip_breaks(piece, True)
            if piece.startswith("UNA"):
                # A new interchange with its own service characters: re-split the rest.
                return batch, self._skip_breaks(d.terminator.join(pieces[n:]), exhausted)
            append(self.segment(piece))
        return batch, None

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
        release, terminator = d.release, d.terminator
        out: list[str] = []
        carry: str | None = None
        for piece in pieces:
            if carry is not None:
                piece = carry + terminator + piece  # noqa: PLW2901
            if piece.endswith(release) and _escaped(piece, release):
                carry = piece
                continue
            carry = None
            out.append(piece)
        if carry is not None:
            out.append(carry)
        return out

    def segment(self, raw: str) -> Segment:
        """Tokenize the next segment's text (without its terminator)."""
        self.index += 1
        segment = self.parse(raw, self.index)
        if segment.tag == "UNB":
            self._on_unb(segment)
        elif self.delimiters.release not in raw:
            self._valid_tags.add(segment.tag)
        return segment

    def parse(self, raw: str, index: int) -> Segment:
        """A segment from its text, under the current service characters; no side effects."""
        d = self.delimiters
        if d.release in raw:
            return self._released(raw, index)
        parts = raw.split(d.data)
        tag = parts[0]
        if not _valid_tag(tag):
            raise SyntaxFault(self._bad_tag(tag), index, raw[:40])
        del parts[0]
        comp = d.component
        segment = Segment(tag, [_composite(p.split(comp)) if comp in p else p for p in parts], index, raw)
        if self.repetition and tag != "UNB" and self.repetition in raw:
            self._split_repeats(segment, parts)
        return segment

    def _on_unb(self, unb: Segment) -> None:
        """Syntax 4 has a repetition separator: UNA's fifth character, else `*`."""
        if unb.get(0, 1) == "4":
            rep = self.una.reserved if self.una else "*"
            self.repetition = rep if rep.strip() else None
        else:
            self.repetition = None

    def _released(self, text: str, index: int) -> Segment:
        d = self.delimiters
        if d.release + "\n" in text and not _all_released_pairs_ok(text, d.release):
            raise SyntaxFault("a release character before a line break", index, text[:40])
        parts = split_escaped(text, d.data, d.release)
        unescape = self._unescape
        tag = unescape(parts[0])
        if not _valid_tag(tag) or d.component in parts[0]:
            raise SyntaxFault(self._bad_tag(tag), index, text[:40])
        elements: list[Element] = []
        for whole in parts[1:]:
            part = split_escaped(whole, self.repetition, d.release)[0] if self.repetition else whole
            components = split_escaped(part, d.component, d.release)
            elements.append(_composite([unescape(c) for c in components]))
        if _escaped(text, d.release):
            raise SyntaxFault("the segment ends in a release character", index, text[:40])
        segment = Segment(tag, elements, index, text)
        if tag != "UNB" and self.repetition and self.repetition in text:
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
