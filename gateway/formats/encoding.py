"""Decide a file's character encoding once, at the edge, and say how it was decided.

The order is the design's: a byte-order mark; the charset the format declares; the source's
configured encoding; strict UTF-8 over the whole file; then detection restricted to plausible
encodings and accepted only above a confidence threshold. Below it the file is rejected rather
than mis-decoded, because a wrong guess silently corrupts names and addresses downstream.

One exception comes before the declared and configured charsets: a file that is valid UTF-8 and
holds multi-byte sequences is UTF-8 when the charset it would otherwise get is a single-byte
one. Every byte sequence "fits" ISO 8859-1 or Windows-1252, so such a label cannot be checked
against the bytes, and real senders (an EDIFACT UNOC interchange written by a UTF-8 system, a
source configured `cp1252` that also receives UTF-8 exports) would otherwise turn `Café` into
`CafÃ©`. The reverse mistake needs Latin-1 text whose every accented letter happens to form a
UTF-8 sequence, which real text does not do. The decision keeps the charset it overrode.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

import chardet

from gateway.errors import DecodeError, Finding
from gateway.findings import Code

BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

#: Where detection may land, Western code pages first: Sage and Excel write Windows-1252 and
#: label nothing, and 1252 is the superset browsers use for ISO-8859-1.
PLAUSIBLE = ("cp1252", "iso8859-15", "cp1250", "iso8859-2")

#: Non-letters that real Western text uses beside its letters.
TEXT_SYMBOLS = frozenset("€£¥©®°±²³µ·¹º¼½¾§¶«»¿¡–—‘’‚“”„•…™ ×÷")

UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")

BLOCK = 1 << 20
SAMPLE = 1 << 20


@dataclass(frozen=True)
class Encoding:
    """The decision: codec name, how many BOM bytes to skip, and why."""

    name: str
    bom: int
    method: str
    confidence: float | None = None
    #: The declared or configured single-byte charset that valid UTF-8 content overrode.
    overrode: str | None = None


def normalise(name: str) -> str:
    """The canonical codec name of `name` (`latin-1` → `iso8859-1`), or raise LookupError."""
    return codecs.lookup(name).name


def sniff_bom(head: bytes) -> Encoding | None:
    """The encoding a byte-order mark announces, if the data starts with one."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return Encoding(name, len(bom), "bom", 1.0)
    return None


def is_single_byte(name: str) -> bool:
    """Whether every byte of codec `name` stands for one character (ASCII, ISO 8859, cp125x)."""
    return normalise(name) != "utf-8" and len(bytes(range(0x80, 0x100)).decode(name, "replace")) == 0x80


def utf8_content(path: Path, skip: int = 0) -> bool:
    """Whether the file is valid UTF-8 and holds at least one multi-byte sequence."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    high = False
    with path.open("rb") as fh:
        fh.seek(skip)
        while block := fh.read(BLOCK):
            if not block.isascii():
                high = True
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    return False
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return high


def first_error(path: Path, encoding: str, skip: int = 0) -> tuple[int, int, int] | None:
    """Stream-decode the file; return (byte offset, line, column) of the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    line, line_start = 1, 0
    with path.open("rb") as fh:
        fh.seek(skip)
        while True:
            block = fh.read(BLOCK)
            final = not block
            try:
                decoder.decode(block, final)
            except UnicodeDecodeError as exc:
                bad = offset + exc.start
                fh.seek(skip)
                before = fh.read(bad)
                line = before.count(b"\n") + 1
                line_start = before.rfind(b"\n") + 1
                return skip + bad, line, bad - line_start + 1
            if final:
                return None
            offset += len(block)


def decide(
    path: Path,
    *,
    declared: str | None = None,
    configured: str | None = None,
    threshold: float = 0.6,
) -> Encoding:
    """Choose the encoding of `path`, or raise `DecodeError` with a located finding."""
    with path.open("rb") as fh:
        head = fh.read(4)
    bom = sniff_bom(head)
    if bom is not None:
        return bom
    for name, method in ((declared, "declared"), (configured, "configured")):
        if name:
            try:
                chosen = normalise(name)
            except LookupError:
                raise DecodeError([Finding(
                    Code.UNKNOWN_ENCODING, f"the {method} encoding is not known", {}, name,
                )]) from None  # fmt: skip
            if is_single_byte(chosen) and utf8_content(path):
                return Encoding("utf-8", 0, f"utf-8 content, not the {method} {chosen}", 1.0, chosen)
            return Encoding(chosen, 0, method)
    bad = first_error(path, "utf-8")
    if bad is None:
        return Encoding("utf-8", 0, "utf-8", 1.0)
    return _detect(path, bad, threshold)


def plausibility(text: str) -> float:
    """Share of the non-ASCII characters that look like real text, 1.0 when there are none.

    A letter counts when a neighbour is a letter too (it sits inside a word, as in "Müller");
    a listed symbol counts anywhere. Bytes decoded with the wrong code page tend to become
    isolated symbols, control characters or letters between punctuation.
    """
    total = good = 0
    for i, char in enumerate(text):
        if char.isascii():
            continue
        total += 1
        if char in TEXT_SYMBOLS:
            good += 1
        elif char.isalpha():
            before = text[i - 1] if i else " "
            after = text[i + 1] if i + 1 < len(text) else " "
            good += before.isalpha() or after.isalpha()
    return good / total if total else 1.0


def _detect(path: Path, bad: tuple[int, int, int], threshold: float) -> Encoding:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE)
        # Make sure the first non-UTF-8 byte is in what is judged.
        if bad[0] >= SAMPLE:
            fh.seek(max(0, bad[0] - 4096))
            sample += b"\n" + fh.read(8192)
    offset, line, column = bad
    if UTF8_SEQUENCE.search(sample):
        # Valid multi-byte UTF-8 beside invalid bytes: two encodings were mixed (a UTF-8 file
        # edited in a Windows tool). Any single code page would turn half of it into mojibake.
        raise DecodeError([Finding(
            Code.MIXED_ENCODING,
            f"valid UTF-8 text and a byte that is not UTF-8 (offset {offset}) in one file",
            {"line": line, "column": column},
            rule="one encoding per file",
        )])  # fmt: skip
    ranked = [r["encoding"] for r in chardet.detect_all(
        sample, include_encodings=PLAUSIBLE, compat_names=False, ignore_threshold=True,
    )]  # fmt: skip
    candidates = ["cp1252", *(e for e in ranked if e and e != "cp1252")]
    scored: list[tuple[float, int, str]] = []
    for rank, name in enumerate(candidates):
        try:
            scored.append((plausibility(sample.decode(name)), -rank, name))
        except UnicodeDecodeError:
            continue
    # Best plausibility wins; on a tie the earlier (more Western) candidate does.
    for score, _, name in sorted(scored, reverse=True):
        if score >= threshold and first_error(path, name) is None:
            return Encoding(name, 0, "detected", round(score, 2))
    best = (scored and max(scored)[::2]) or (0.0, "")
    said = f"best {best[1]} at {best[0]:.2f}" if best[1] else "no candidate decodes it"
    raise DecodeError([Finding(
        Code.UNDETERMINED_ENCODING,
        f"not UTF-8 (first bad byte at offset {offset}) and no plausible encoding fits ({said})",
        {"line": line, "column": column},
        rule=f"detection threshold {threshold}; set the source's encoding",
    )])  # fmt: skip
