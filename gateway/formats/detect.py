"""Tell what a file is from its first bytes, with file-name rules as an override."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

from gateway import plugins
from gateway.errors import UnknownFormat, reject
from gateway.findings import Code
from gateway.formats.encoding import sniff_bom

HEAD = 4096
#: Control characters that never occur in text files (everything below 0x20 but tab, LF, CR,
#: form feed, and the EDIFACT/IDoc favourites that are still text).
TEXT_CONTROLS = b"\t\n\r\f\x1a\x1c\x1d\x1e\x1f"
#: A control byte that makes a file binary. ESC is text when it starts an ISO 2022 designation
#: or shift (`ESC $ B`, `ESC ( B`, `ESC $ ( D`, `ESC . A`, `ESC N`): EDIFACT's UNOX writes them.
BINARY = re.compile(
    rb"(?!\x1b(?:\$[@AB]|\$[(][CD]|[(][BJ]|[.][AF]|N))"
    b"[" + re.escape(bytes(c for c in range(32) if c not in TEXT_CONTROLS)) + b"]"
)

#: Formats the gateway does not read but meets in real drop folders, recognised so that the
#: operator is told what arrived instead of being shown the closest CSV layout.
FOREIGN: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("an ANSI ASC X12 interchange (ISA)", re.compile(rb"ISA[^\w\s]")),
    ("a TRADACOMS transmission (STX)", re.compile(rb"STX=")),
    # VDA 4905/4913/4987-style fixed records: a record type such as 511/711 and version 01-09,
    # in lines of 128 characters.
    ("a VDA fixed-record file", re.compile(rb"(?:511|512|711|712|551|611|811)0[1-9][^\r\n]{123}\r?\n")),
    ("JSON", re.compile(rb"[{\[]\s*[\"{\[\]}]")),
)
READ = "the gateway reads CSV, XML, SAP IDoc (flat and XML) and UN/EDIFACT"


def head_of(path: Path) -> bytes:
    """The first bytes of a file, as text bytes: BOM removed, UTF-16/32 re-encoded as UTF-8."""
    with path.open("rb") as fh:
        raw = fh.read(HEAD)
    bom = sniff_bom(raw)
    if bom is None:
        return raw
    text = raw[bom.bom :].decode(bom.name, errors="ignore")
    return text.encode("utf-8")


def detect(path: Path, name: str, rules: tuple[tuple[str, str], ...] = ()) -> str:
    """The format name of the file at `path`, whose original name is `name`."""
    for pattern, fmt in rules:
        if fnmatch(name, pattern):
            return fmt
    head = head_of(path)
    if not head:
        raise reject(UnknownFormat, Code.EMPTY, "the file is empty")
    control = BINARY.search(head)
    if control:
        offset = control.start()
        raise reject(
            UnknownFormat,
            Code.BINARY,
            f"binary content (control byte 0x{head[offset]:02x} at offset {offset})",
            rule=READ,
        )  # fmt: skip
    stripped = head.lstrip()
    if not stripped:
        raise reject(UnknownFormat, Code.EMPTY, "the file holds only blank space")
    for what, foreign in FOREIGN:
        if foreign.match(stripped):
            raise reject(UnknownFormat, Code.UNKNOWN_FORMAT, f"{what}, which the gateway does not read",
                         rule=READ)  # fmt: skip
    for fmt, reader in plugins.readers():
        if reader.sniff(stripped):
            return fmt
    raise reject(UnknownFormat, Code.UNKNOWN_FORMAT, "no format recognises the content")
