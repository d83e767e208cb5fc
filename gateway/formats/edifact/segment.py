"""UN/EDIFACT service characters, character sets and segments: what the tokenizer produces.

Elements have pydifact's shape: a simple element is a `str`, a composite a `list[str]` with
trailing empty components dropped (`A:` is `"A"`, `:B` is `["", "B"]`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

Element = str | list[str]

#: Syntax identifier (UNB 0001) → Python codec. UNOX is ISO 2022 code extension; its escape
#: sequences switch character sets mid-text (JIS X 0208, KS X 1001, GB 2312, Latin-1, Greek),
#: which ISO-2022-JP-2 covers. Separators are found after decoding, so a byte such as 0x27
#: inside a two-byte character is never taken for a segment terminator.
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
    "UNOX": "iso2022_jp_2",
    "UNOY": "utf-8",
}

#: Characters a level A / B interchange may carry (ISO 9735 annex A), separators included.
_LEVEL_A = r"A-Z0-9 .,\-()/='+:?!\"%&*;<>"
CHARSET_RULES: dict[str, re.Pattern[str]] = {
    "UNOA": re.compile(f"[^{_LEVEL_A}]"),
    "UNOB": re.compile(f"[^{_LEVEL_A}a-z@\\[\\]{{}}\\\\|~^_#$`\\n\\r]"),
}

LINE_BREAKS = " \r\n"  # pydifact skips these after a terminator, and so do we


class Delimiters(NamedTuple):
    """The service characters of an interchange (UNA, or the defaults without one).

    A named tuple rather than a dataclass: schemas look their caches up by it for every message,
    and a tuple hashes in C."""

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
        elements = self._elements if self._elements is not None else self.elements
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
        return [composite(p.split(comp)) if comp in p else p for p in parts]

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


def ends_released(piece: str, release: str) -> bool:
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
        if ends_released(out[-1], release):
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


def composite(parts: list[str]) -> Element:
    """pydifact's element shape from split components: trailing empties dropped, one is a str."""
    while parts and not parts[-1]:
        parts.pop()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return parts


def valid_tag(tag: str) -> bool:
    """pydifact's rule for a segment tag: three upper-case letters or digits."""
    return len(tag) == 3 and tag.isalnum() and tag.isupper()


TAG = operator.itemgetter(slice(0, 3))
AFTER_TAG = operator.itemgetter(slice(3, 4))


@dataclass(frozen=True)
class RawBatch:
    """Plain segments of known tags, as text: `raws[i]` is segment `base + i` of the file."""

    base: int
    raws: list[str]
    tags: list[str] | None = None
