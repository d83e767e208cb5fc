"""IDoc-XML: `<BASICTYPE><IDOC BEGIN="1"><EDI_DC40 SEGMENT="1">…</EDI_DC40><E1…>`.

Every element with a SEGMENT attribute is a segment; its other children are fields. With a
customer extension the root (and extension segments) carry namespaced names with `_-` for `/`.
The parser is safe by construction: no DTD is loaded, no entity resolved, no network touched,
no huge-tree mode, and a document type declaration is refused outright, since IDoc-XML never
has one. Each IDOC element is read, handed on and cleared, so memory stays flat.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from gateway.canonical.records import Record
from gateway.errors import InvalidContent, reject
from gateway.findings import Code
from gateway.formats.base import ReadContext
from gateway.formats.idoc import schema as idoc_schema
from gateway.formats.idoc.mappings import OPTIONS
from gateway.formats.idoc.model import Idoc, Segment
from gateway.formats.idoc.reader import read_idocs
from gateway.options import Option

# lxml is imported by the functions that parse or write XML: detection imports every reader's
# module, and a file that is not XML must not pay for lxml.

_SNIFF = re.compile(rb"<(?:[\w-]+:)?(?:IDOC|EDI_DC40)[\s>/]")
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']""")
PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


def sap_name(tag: str) -> str:
    """An XML element name as SAP names it: `_-RB04_-YP3_E1EDK01` → `/RB04/YP3_E1EDK01`."""
    return tag.replace("_-", "/")


def xml_name(name: str) -> str:
    """The element name of a SAP name: `/` becomes `_-`."""
    return name.replace("/", "_-")


def _prolog(path: Any) -> bytes:
    """The bytes before the root element (at most 64 KiB): where a DOCTYPE would be."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    at = 0
    while True:
        at = head.find(b"<", at)
        if at < 0 or head[at + 1 : at + 2] not in (b"?", b"!"):
            return head[: at if at >= 0 else len(head)]
        at += 1


class IdocXmlReader:
    """IDoc-XML files; asked before any generic XML reader."""

    name: ClassVar[str] = "idoc-xml"
    order: ClassVar[int] = 10  # before the generic XML reader
    offload: ClassVar[bool] = True
    options: ClassVar[tuple[Option, ...]] = OPTIONS

    @staticmethod
    def sniff(head: bytes) -> bool:
        """XML whose head holds an IDOC or EDI_DC40 element."""
        return head.startswith(b"<") and _SNIFF.search(head) is not None

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        """Yield one canonical record per IDoc."""
        prolog = _prolog(ctx.file.path)
        declared = _DECLARED.match(prolog)
        ctx.decide_encoding(declared=declared.group(1).decode("ascii") if declared else "utf-8")
        ctx.stage = "validate"
        if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
            raise reject(
                InvalidContent,
                Code.DOCTYPE_FORBIDDEN,
                "a document type declaration is not allowed in IDoc-XML",
                line=1,
                rule="IDoc-XML has no DTD; entities are never expanded",
            )
        yield from read_idocs(ctx, self._idocs(ctx))

    def _idocs(self, ctx: ReadContext) -> Iterator[Idoc]:
        from lxml import etree

        events = etree.iterparse(str(ctx.file.path), events=("start", "end"), **PARSER_OPTIONS)
        root: Any = None
        last_line = 0
        seen = 0
        try:
            for event, el in events:
                last_line = el.sourceline or last_line
                if event == "start":
                    if root is None:
                        root = el
                    continue
                if el.tag == "IDOC" and isinstance(el.tag, str):
                    seen += 1
                    yield self._idoc(el, str(root.tag), seen)
                    # Forget what has been read, so memory stays flat however many IDocs follow.
                    el.clear()
                    while el.getprevious() is not None:
                        del el.getparent()[0]
        except etree.XMLSyntaxError as exc:
            # lxml reports some errors (an unresolved entity) at line 0: name the last line read.
            line = exc.lineno or last_line
            where: dict[str, Any] = {"line": line} if line else {}
            ctx.add(Code.MALFORMED_XML, str(exc.msg), rule="well-formed XML", **where)
            return

    def _idoc(self, el: Any, root_tag: str, n: int) -> Idoc:
        control: dict[str, str] = {}
        dc = el.find("EDI_DC40")
        if dc is not None:
            control = {str(c.tag): (c.text or "").strip() for c in dc if isinstance(c.tag, str)}
        path = f"/{root_tag}/IDOC[{n}]"
        idoc = Idoc(control, line=el.sourceline, xpath=path, syntax="xml", root=sap_name(root_tag))
        counter = [0]
        self._children(el, idoc, 0, 1, counter, path)
        return idoc

    def _children(self, el: Any, idoc: Idoc, parent: int, level: int, counter: list[int], path: str) -> None:
        """Read `el`'s segment children (depth first, in document order) into `idoc`."""
        positions: dict[str, int] = {}
        for child in el:
            if not isinstance(child.tag, str) or child.get("SEGMENT") is None or child.tag == "EDI_DC40":
                continue
            tag = str(child.tag)
            positions[tag] = positions.get(tag, 0) + 1
            self._segment(child, idoc, parent, level, counter, f"{path}/{tag}[{positions[tag]}]")

    def _segment(self, el: Any, idoc: Idoc, parent: int, level: int, counter: list[int], path: str) -> None:
        counter[0] += 1
        number = counter[0]
        name = sap_name(str(el.tag))
        seg = Segment(
            idoc_schema.type_name(name), number, parent, level, segnam=name, line=el.sourceline, xpath=path
        )
        idoc.segments.append(seg)
        for child in el:
            if isinstance(child.tag, str) and child.get("SEGMENT") is None:
                value = "".join(child.itertext()).strip()
                if value:
                    seg.fields[str(child.tag)] = value
        self._children(el, idoc, number, level + 1, counter, path)


def to_xml(idocs: list[Idoc], root: str) -> bytes:
    """IDoc-XML for IDocs of one basic type (or extension) `root`."""
    from lxml import etree

    top = etree.Element(xml_name(root))
    control = idoc_schema.records()["EDI_DC40"]
    for idoc in idocs:
        node = etree.SubElement(top, "IDOC", BEGIN="1")
        dc = etree.SubElement(node, "EDI_DC40", SEGMENT="1")
        for key, value in _in_order(idoc.control, control):
            etree.SubElement(dc, key).text = value
        schema = idoc_schema.basic_type(idoc.control.get("IDOCTYP", root))
        elements: dict[int, Any] = {}
        for seg in idoc.segments:
            parent = elements.get(seg.parent, node)
            child = etree.SubElement(parent, xml_name(seg.name), SEGMENT="1")
            layout = schema.segments.get(seg.name) if schema is not None else None
            for key, value in _in_order(seg.fields, layout):
                etree.SubElement(child, key).text = value
            elements[seg.number] = child
    return bytes(etree.tostring(top, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _in_order(values: dict[str, str], layout: idoc_schema.SegmentDef | None) -> list[tuple[str, str]]:
    """The non-empty values in the layout's field order, which SAP's IDoc-XML schemas make a
    sequence; fields the layout does not know (a later release's) after them."""
    rank = {f.name: n for n, f in enumerate(layout.fields)} if layout is not None else {}
    return sorted(((k, v) for k, v in values.items() if v), key=lambda kv: rank.get(kv[0], len(rank)))
