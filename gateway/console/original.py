"""A case's original file as the console shows it: numbered lines, or numbered segments for
EDIFACT, each with the findings located there, so the operator sees the refused value in place.

EDIFACT is cut into segments at its terminator (from the UNA, else `'`), a released
terminator (`?'`) kept, and numbered as the reader numbers them (the UNA is segment 1), so a
finding's `segment_index` names its row; every other format is numbered by line, as its
findings' `line` is. Only the first `MAX_BYTES` are shown: a case page must open at once.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_BYTES = 1 << 20


@dataclass
class Row:
    """One line (or segment) of the original and the findings located on it."""

    number: int
    text: str
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Original:
    """The shown part of an original file."""

    unit: str
    rows: list[Row]
    truncated: bool
    unplaced: list[dict[str, Any]]


def _decode(data: bytes, encoding: str | None) -> str:
    try:
        codecs.lookup(encoding or "utf-8")
    except LookupError:
        encoding = None
    return data.decode(encoding or "utf-8", errors="replace")


def segments(text: str) -> list[str]:
    """EDIFACT text cut into segments, each with its terminator, line breaks between dropped."""
    terminator, release = "'", "?"
    if text.startswith("UNA") and len(text) >= 9:
        release, terminator = text[6], text[8]
    found: list[str] = []
    current: list[str] = []
    released = False
    for char in text[9:] if text.startswith("UNA") else text:
        if not current and char in "\r\n":
            continue
        current.append(char)
        if char == terminator and not released:
            found.append("".join(current))
            current = []
        released = char == release and not released
    if "".join(current).strip():
        found.append("".join(current))
    return [text[:9], *found] if text.startswith("UNA") else found


def read(path: Path, fmt: str | None, encoding: str | None, findings: list[dict[str, Any]]) -> Original:
    """The original at `path` cut into rows with `findings` placed on them."""
    with path.open("rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    truncated = len(data) > MAX_BYTES
    text = _decode(data[:MAX_BYTES], encoding)
    edifact = fmt == "edifact" or text.lstrip().startswith(("UNA", "UNB"))
    pieces = segments(text) if edifact else text.splitlines()
    rows = [Row(n, piece) for n, piece in enumerate(pieces, 1)]
    key = "segment_index" if edifact else "line"
    unplaced = []
    for finding in findings:
        where = (finding.get("location") or {}).get(key)
        if isinstance(where, int) and 1 <= where <= len(rows):
            rows[where - 1].findings.append(finding)
        else:
            unplaced.append(finding)
    return Original("segment" if edifact else "line", rows, truncated, unplaced)
