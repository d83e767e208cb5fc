"""Parse untrusted XML safely: the one place that decides how lxml may read partner files.

Shared by the XML and the IDoc-XML readers. The rules, whatever the caller asks for:

- no DTD is ever loaded, no entity is ever expanded, nothing is fetched from the network and
  XInclude is never processed (lxml only does it on an explicit `xinclude()` call, which the
  gateway never makes);
- a document whose DOCTYPE carries an internal subset is refused before parsing starts: that is
  where the billion-laughs and XXE payloads live, and no real business document needs one. A
  bare `<!DOCTYPE cXML SYSTEM "...cXML.dtd">`, as cXML always sends, is accepted and ignored;
- an entity reference left in the tree (declared in an external DTD we did not load) is refused,
  so its unresolved name can never reach an output as if it were data;
- size and nesting depth are limited, configurable per source (`xml_max_bytes`,
  `xml_max_depth`, `xml_huge_tree`).

Findings never quote the DTD or an entity's replacement text, so nothing from the file system
named by a hostile file can leak into error reports or logs.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

# lxml is imported by the functions that parse or write XML: detection imports every reader's
# module, and a file that is not XML must not pay for lxml.
if TYPE_CHECKING:
    from lxml import etree

from gateway import options as opt
from gateway.errors import Finding
from gateway.findings import Code
from gateway.formats.encoding import sniff_bom

#: 1 GiB: far above any business document, low enough to refuse a runaway export early.
DEFAULT_MAX_BYTES = 1 << 30
#: Real EDI XML nests a dozen levels; IDoc-XML and UBL stay well under 30.
DEFAULT_MAX_DEPTH = 100
#: The source options that set `XmlLimits` (the XML readers declare them).
LIMIT_OPTIONS = (
    opt.count("xml_max_bytes", DEFAULT_MAX_BYTES, "the largest XML file accepted, in bytes"),
    opt.count("xml_max_depth", DEFAULT_MAX_DEPTH, "the deepest element nesting accepted"),
    opt.flag("xml_huge_tree", False, "let lxml take text nodes over 10 MB and very deep trees"),
)
#: The prolog (declaration, comments, DOCTYPE) must fit in this many bytes.
PROLOG_BYTES = 1 << 16

RULE = "safe XML: no DTD, no entities, no network, no XInclude"
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_ENTITY = re.compile(r"&([A-Za-z_:][\w.:-]*);")
PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})
_WHERE = re.compile(r",? line \d+, column \d+$")
_DOCTYPE = re.compile(r"<!DOCTYPE\s+([^\s\[>]+)([^\[>]*)(\[)?", re.IGNORECASE)


@dataclass(frozen=True)
class XmlLimits:
    """How much a source lets one XML file take."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    huge_tree: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> XmlLimits:
        """Limits from a source's extra keys (checked with the configuration)."""
        max_bytes, max_depth, huge_tree = (opt.value(options, option) for option in LIMIT_OPTIONS)
        return cls(max_bytes=int(max_bytes), max_depth=int(max_depth), huge_tree=bool(huge_tree))


def parser_options(limits: XmlLimits | None = None) -> dict[str, Any]:
    """The keyword arguments every lxml parser and iterparse call of the gateway uses."""
    return {
        "resolve_entities": False,
        "load_dtd": False,
        "dtd_validation": False,
        "no_network": True,
        "huge_tree": bool(limits and limits.huge_tree),
        "remove_comments": True,
        "remove_pis": True,
    }


def safe_parser(limits: XmlLimits | None = None, encoding: str | None = None) -> etree.XMLParser:
    """An `XMLParser` with the safe settings, for whole-document parsing of small files."""
    from lxml import etree

    return etree.XMLParser(encoding=encoding, collect_ids=False, **parser_options(limits))


def declared_encoding(head: bytes) -> str | None:
    """The `encoding` of the XML declaration at the start of `head`, if there is one."""
    found = _DECLARATION.match(head)
    return found.group(1).decode("ascii") if found else None


def check_prolog(path: Path, encoding: str = "utf-8", skip: int = 0) -> list[Finding]:
    """Findings that make the file unsafe to parse at all: an internal DTD subset, above all.

    Only the prolog is read, so a billion-laughs file is refused in microseconds.
    """
    with path.open("rb") as fh:
        fh.seek(skip)
        head = fh.read(PROLOG_BYTES)
    text = head.decode(encoding, errors="replace")
    found = _DOCTYPE.search(text)
    if found is None or _root_starts_before(text, found.start()):
        return []
    line = text.count("\n", 0, found.start()) + 1
    if found.group(3) is None:
        return []  # an external DTD reference only: never loaded, harmless
    declares = "<!ENTITY" in text[found.end() :].upper() or len(head) == PROLOG_BYTES
    what = "declares entities" if declares else "has an internal subset"
    return [
        Finding(
            Code.DTD_REFUSED,
            f"the document type declaration {what}; DTDs are never processed (entity expansion "
            "and external entities are refused: billion laughs, XXE)",
            {"line": line},
            rule=RULE,
        )
    ]


def has_doctype(path: Path, encoding: str = "utf-8", skip: int = 0) -> bool:
    """Whether the prolog declares a document type (an external DTD we will not load)."""
    with path.open("rb") as fh:
        fh.seek(skip)
        text = fh.read(PROLOG_BYTES).decode(encoding, errors="replace")
    found = _DOCTYPE.search(text)
    return found is not None and not _root_starts_before(text, found.start())


def entity_scan(path: Path, encoding: str = "utf-8", skip: int = 0) -> Finding | None:
    """A finding for the first reference to an entity other than the five XML predefines.

    With an external DTD that is never loaded, libxml2 keeps such a reference in element
    content (which `entity_finding` catches) but silently drops it from attribute values, so a
    file with a DOCTYPE is scanned as text first.
    """
    line = 1
    tail = ""
    with path.open("rb") as fh:
        fh.seek(skip)
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        while block := fh.read(1 << 20):
            text = tail + decoder.decode(block)
            for found in _ENTITY.finditer(text):
                if found.group(1) not in PREDEFINED:
                    return Finding(
                        Code.ENTITY_REFERENCE,
                        f"the entity reference &{found.group(1)}; is not expanded: entities are refused",
                        {"line": line + text.count("\n", 0, found.start())},
                        rule=RULE,
                    )
            # Keep a possible reference cut at the block's end for the next round.
            cut = max(text.rfind("&"), len(text) - 256)
            line += text.count("\n", 0, cut)
            tail = text[cut:]
    return None


def _root_starts_before(text: str, offset: int) -> bool:
    """True when an element starts before `offset`, so the DOCTYPE text is data, not prolog."""
    return re.search(r"<[^?!]", text[:offset]) is not None


class Transcoded:
    """A binary stream of `path` decoded from `encoding` and given to lxml as UTF-8.

    libxml2 knows fewer encodings than Python; a source's configured or detected encoding
    (always a Python codec name) is honoured this way whatever libxml2 supports. Lines stay
    where they were, so findings still point at the right place.
    """

    def __init__(self, path: Path, encoding: str, skip: int = 0) -> None:
        self.fh = path.open("rb")
        self.fh.seek(skip)
        self.decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.buffer = b""
        self.done = False

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes of UTF-8 (all that is left when `size` is negative)."""
        while not self.done and (size < 0 or len(self.buffer) < size):
            block = self.fh.read(1 << 16)
            self.done = not block
            self.buffer += self.decoder.decode(block, final=self.done).encode("utf-8")
        cut = len(self.buffer) if size < 0 else size
        out, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return out

    def close(self) -> None:
        """Close the underlying file."""
        self.fh.close()


def iterparse(
    source: str | Path | IO[bytes] | Transcoded,
    limits: XmlLimits | None = None,
    encoding: str | None = None,
    events: tuple[str, ...] = ("start", "end"),
    tag: str | None = None,
) -> Iterator[tuple[str, Any]]:
    """`etree.iterparse` with the safe settings (the caller counts depth from the events)."""
    from lxml import etree

    options = parser_options(limits)
    src = str(source) if isinstance(source, Path) else source
    return iter(etree.iterparse(src, events=events, tag=tag, encoding=encoding, **options))


def syntax_finding(exc: etree.XMLSyntaxError) -> Finding:
    """A located finding for a well-formedness error reported by libxml2."""
    line, column = exc.position if exc.position else (0, 0)
    message = _WHERE.sub("", str(exc.msg or exc).split(" (", 1)[0])
    location: dict[str, Any] = {}
    if line:
        location["line"] = line
    if column:
        location["column"] = column
    return Finding(Code.MALFORMED_XML, f"not well-formed XML: {message}", location, rule="XML 1.0")


def entity_finding(element: Any, path: str | None = None) -> Finding | None:
    """A finding when an unexpanded entity reference sits under `element`, else None."""
    from lxml import etree

    for entity in element.iter(etree.Entity):
        location: dict[str, Any] = {"line": entity.sourceline or element.sourceline}
        if path:
            location["xpath"] = path
        return Finding(
            Code.ENTITY_REFERENCE,
            f"the entity reference &{entity.name}; is not expanded: entities are refused",
            location,
            rule=RULE,
        )
    return None


def depth_finding(depth: int, limits: XmlLimits, line: int | None) -> Finding:
    """The finding for an element nested deeper than the source allows."""
    location = {"line": line} if line else {}
    return Finding(Code.TOO_DEEP, f"elements nest {depth} levels deep", location,
                   rule=f"xml_max_depth {limits.max_depth}")  # fmt: skip


def size_finding(size: int, limits: XmlLimits) -> Finding | None:
    """The finding for a file larger than the source allows, else None."""
    if size <= limits.max_bytes:
        return None
    return Finding(Code.TOO_LARGE, f"the file has {size} bytes", {},
                   rule=f"xml_max_bytes {limits.max_bytes}")  # fmt: skip


def parse_safely(
    path: Path, limits: XmlLimits | None = None, encoding: str | None = None
) -> tuple[Any, list[Finding]]:
    """Parse a whole (small) document with every check; return (root or None, findings)."""
    from lxml import etree

    limits = limits or XmlLimits()
    size = size_finding(path.stat().st_size, limits)
    if size is not None:
        return None, [size]
    with path.open("rb") as fh:
        bom = sniff_bom(fh.read(4))
    if bom is not None:
        refused = check_prolog(path, bom.name, bom.bom)
    else:
        refused = check_prolog(path, encoding or "utf-8")
    if refused:
        return None, refused
    enc, skip = (bom.name, bom.bom) if bom is not None else (encoding or "utf-8", 0)
    if has_doctype(path, enc, skip):
        entity = entity_scan(path, enc, skip)
        if entity is not None:
            return None, [entity]
    depth, root = 0, None
    try:
        for event, element in iterparse(path, limits, encoding):
            if event == "start":
                depth += 1
                if depth > limits.max_depth:
                    return None, [depth_finding(depth, limits, element.sourceline)]
            else:
                depth -= 1
                root = element
    except etree.XMLSyntaxError as exc:
        return None, [syntax_finding(exc)]
    if root is None:
        return None, [Finding(Code.MALFORMED_XML, "the document has no root element", rule="XML 1.0")]
    entity = entity_finding(root)
    return (None, [entity]) if entity else (root, [])
