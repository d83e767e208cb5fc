"""XML in: decode, refuse what is unsafe, recognise the layout, validate against its XSD, map.

The file is read once with the safe `iterparse` of `xml_safe`. The root element (name,
namespace, and the schema location when several layouts share a root) picks the layout of
`schemas/xml/`. A layout whose document is the root (UBL, cXML) is validated and mapped when
the root closes; a layout whose documents repeat under the root (catalogues, inventory
snapshots) validates and maps each document element when it closes and then clears it and
its predecessors, so memory stays flat however large the file is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, cast

from gateway import options as opt
from gateway.canonical.build import record_from_dict
from gateway.canonical.records import Record, Source
from gateway.errors import Finding, InvalidContent
from gateway.findings import Code
from gateway.formats.base import ReadContext
from gateway.formats.encoding import first_error, sniff_bom
from gateway.formats.xml.layout import LayoutError, XmlLayout, candidates, layouts, near_misses
from gateway.formats.xml.mapping import node_path, read_document
from gateway.formats.xml.safe import (
    LIMIT_OPTIONS,
    Transcoded,
    XmlLimits,
    check_prolog,
    declared_encoding,
    depth_finding,
    entity_finding,
    entity_scan,
    has_doctype,
    iterparse,
    size_finding,
    syntax_finding,
)

# lxml is imported by the functions that parse or write XML: detection imports every reader's
# module, and a file that is not XML must not pay for lxml.

XSI = "http://www.w3.org/2001/XMLSchema-instance"
_CLARK = re.compile(r"\{[^}]*\}")
#: Business keys noted for `trace` per file; a streamed catalogue notes its first ones only.
MAX_KEYS = 10_000


def _known_layout(name: str) -> str | None:
    try:
        known = layouts()
    except LayoutError as exc:
        return str(exc)
    return None if name in known else f"no XML layout named {name!r} (have {', '.join(known)})"


class XmlReader:
    """XML documents in one of the layouts of `schemas/xml/`."""

    name: ClassVar[str] = "xml"
    order: ClassVar[int] = 20
    offload: ClassVar[bool] = True
    options: ClassVar[tuple[opt.Option, ...]] = (
        opt.text(
            "xml_layout",
            None,
            "the layout of every file; default: chosen by the root element",
            rule=_known_layout,
        ),
        *LIMIT_OPTIONS,
    )

    @staticmethod
    def sniff(head: bytes) -> bool:
        """An XML declaration, or any markup start (detection asks IDoc-XML first)."""
        return head.startswith(b"<")

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        """Yield one record per document; every problem is a finding with line and XPath."""
        from lxml import etree

        limits = XmlLimits.from_options(ctx.file.source.options)
        ctx.stage = "validate"
        too_large = size_finding(ctx.file.path.stat().st_size, limits)
        if too_large is not None:
            raise InvalidContent([too_large])
        with ctx.file.path.open("rb") as fh:
            head = fh.read(512)
        bom = sniff_bom(head)
        encoding = ctx.decide_encoding(declared=None if bom else declared_encoding(head))
        ctx.stage = "validate"
        refused = check_prolog(ctx.file.path, encoding.name, encoding.bom)
        if refused:
            raise InvalidContent(refused)
        if has_doctype(ctx.file.path, encoding.name, encoding.bom):
            entity = entity_scan(ctx.file.path, encoding.name, encoding.bom)
            if entity is not None:
                raise InvalidContent([entity])
        # libxml2 reads the declaration and BOM itself; what we inferred, Python decodes for it.
        inferred = encoding.method in {"configured", "detected"} or encoding.overrode is not None
        source: Path | Transcoded = ctx.file.path
        if inferred:
            source = Transcoded(ctx.file.path, encoding.name, encoding.bom)
        try:
            yield from _Walk(ctx, limits).run(iterparse(source, limits, "utf-8" if inferred else None))
        except (UnicodeDecodeError, LookupError) as exc:
            ctx.stage = "decode"
            why = exc.reason if isinstance(exc, UnicodeDecodeError) else "libxml2 does not support it"
            bad = first_error(ctx.file.path, encoding.name, encoding.bom) if inferred else None
            where: dict[str, Any] = {"line": bad[1], "column": bad[2]} if bad else {}
            ctx.add(Code.UNDECODABLE, f"the file cannot be read as {encoding.name}: {why}",
                    rule=f"encoding {encoding.name} ({encoding.method})", **where)  # fmt: skip
        except etree.XMLSyntaxError as exc:
            finding = syntax_finding(exc)
            if "encoding" in finding.message.lower() or "utf-8" in finding.message.lower():
                ctx.stage = "decode"
                why = finding.message.removeprefix("not well-formed XML: ")
                finding = Finding(
                    Code.UNDECODABLE,
                    f"the bytes are not valid {encoding.name}: {why}",
                    finding.location,
                    rule=f"encoding {encoding.name} ({encoding.method})",
                )
            ctx.add(finding.code, finding.message, rule=finding.rule, **finding.location)
        except LayoutError as exc:
            ctx.add(Code.LAYOUT_BROKEN, str(exc), rule="schemas/xml")
        finally:
            if isinstance(source, Transcoded):
                source.close()


class _Walk:
    """One pass over the parse events of one file."""

    def __init__(self, ctx: ReadContext, limits: XmlLimits) -> None:
        self.ctx = ctx
        self.limits = limits
        self.layout: XmlLayout | None = None
        self.pending: list[XmlLayout] = []
        self.root: Any = None
        self.documents = 0
        self.root_path: str | None = None
        self.plain_lineage: Source | None = None

    def run(self, events: Iterator[tuple[str, Any]]) -> Iterator[Record]:
        from lxml import etree

        depth = 0
        for event, element in events:
            if event == "start":
                depth += 1
                if depth > self.limits.max_depth:
                    found = depth_finding(depth, self.limits, element.sourceline)
                    raise InvalidContent([*self.ctx.findings, found])
                if depth == 1:
                    self.root = element
                    self._recognise(element)
                elif self.layout is None:
                    local = etree.QName(element).localname
                    chosen = [c for c in self.pending if c.contains == local]
                    if chosen:
                        self.layout = chosen[0]
                continue
            depth -= 1
            layout = self.layout
            if depth == 0:
                layout = layout or self._fallback()
                if layout is not None and not layout.streaming:
                    yield from self._document(layout, element, node_path(element))
            elif depth == 1 and layout is not None and layout.streaming and element.tag != layout.document:
                # Anything else under a streamed root would be silently skipped: say so.
                wanted = etree.QName(layout.document or "").localname
                step = _local_step(element)
                self.ctx.add(Code.UNEXPECTED_ELEMENT, f"<{step}> is not a <{wanted}> document",
                             line=element.sourceline, xpath=f"{node_path(self.root)}/{step}",
                             rule=f"{layout.name}: the root holds <{wanted}> elements")  # fmt: skip
            elif depth == 1 and layout is not None and layout.streaming:
                self.documents += 1
                if self.root_path is None:
                    self.root_path = node_path(self.root)
                path = f"{self.root_path}/{_local_step(element)}[{self.documents}]"
                yield from self._document(layout, element, path)
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del self.root[0]
        if self.root is None:
            raise InvalidContent(
                [Finding(Code.MALFORMED_XML, "the document has no root element", rule="XML 1.0")]
            )
        if self.layout is not None and self.layout.streaming and not self.documents:
            self.ctx.add(
                Code.NO_DOCUMENTS,
                f"no {etree.QName(self.layout.document or '').localname} element",
                line=self.root.sourceline,
                xpath=node_path(self.root),
                rule=self.layout.name,
            )

    def _recognise(self, root: Any) -> None:
        known = layouts()
        forced = self.ctx.file.source.options.get("xml_layout")
        where = {"line": root.sourceline, "xpath": "/" + _local_step(root)}
        if forced:
            if forced not in known:
                raise InvalidContent(
                    [
                        Finding(
                            Code.UNKNOWN_LAYOUT,
                            f"no XML layout named {forced!r}",
                            where,
                            rule="source xml_layout",
                        )
                    ]
                )
            self.layout = known[forced]
            if self.layout.root != root.tag:
                raise InvalidContent([self._wrong_root(root, [self.layout], where)])
            return
        found = candidates(root.tag, known)
        if not found:
            misses = near_misses(root.tag, known)
            if misses:
                raise InvalidContent([self._wrong_root(root, misses, where)])
            roots = sorted({layout.root_local for layout in known.values()})
            raise InvalidContent(
                [
                    Finding(
                        Code.UNKNOWN_LAYOUT,
                        f"no XML layout has the root element {_CLARK.sub('', root.tag)!r}",
                        where,
                        value=root.tag,
                        rule=f"layouts in schemas/xml: roots {', '.join(roots)}",
                    )
                ]
            )
        location = root.get(f"{{{XSI}}}schemaLocation") or root.get(f"{{{XSI}}}noNamespaceSchemaLocation")
        if location and len(found) > 1:
            named = [c for c in found if c.schema_location and c.schema_location in location]
            found = named or found
        if len(found) == 1 or not any(c.contains for c in found):
            self.layout = found[0]
        else:
            self.pending = found

    @staticmethod
    def _wrong_root(root: Any, expected: list[XmlLayout], where: dict[str, Any]) -> Finding:
        from lxml import etree

        qname = etree.QName(root)
        if all(c.root_local != qname.localname for c in expected):
            wanted = ", ".join(f"{c.name}: <{c.root_local}>" for c in expected)
            return Finding(
                Code.WRONG_ROOT,
                f"the root element is <{qname.localname}>, not the layout's",
                where,
                value=qname.localname,
                rule=wanted,
            )
        wanted = ", ".join(f"{c.name}: {c.namespace or 'no namespace'}" for c in expected)
        return Finding(
            Code.WRONG_NAMESPACE,
            f"the root element is in namespace {qname.namespace or 'none'}, not the layout's",
            where,
            value=qname.namespace,
            rule=wanted,
        )

    def _fallback(self) -> XmlLayout | None:
        plain = [c for c in self.pending if not c.contains]
        if plain:
            return plain[0]
        if self.pending:
            wanted = ", ".join(f"{c.contains} ({c.name})" for c in self.pending)
            self.ctx.add(
                Code.UNKNOWN_LAYOUT,
                f"the document holds none of: {wanted}",
                line=self.root.sourceline,
                xpath=node_path(self.root),
                rule="schemas/xml",
            )
        return None

    def _document(self, layout: XmlLayout, element: Any, path: str) -> Iterator[Record]:
        ctx = self.ctx
        ctx.stage = "validate"

        def path_of(node: Any) -> str:
            return node_path(node, element, path)

        entity = entity_finding(element, path)
        if entity is not None:
            ctx.add(entity.code, entity.message, rule=entity.rule, **entity.location)
            return
        if not self._valid(layout, element, path):
            return
        data, findings = read_document(layout, element, path_of)
        for f in findings:
            ctx.add(f.code, f.message, value=f.value, rule=f.rule, **f.location)
        if findings or ctx.findings:
            return
        # A layout may map the envelope's references (`source.message_ref`): a dict, never a Source.
        refs = data.pop("source", None)
        refs = refs if isinstance(refs, dict) else None
        if not data.get("doc_id"):
            ctx.add(
                Code.MISSING,
                "the document has no number (doc_id)",
                line=element.sourceline,
                xpath=path,
                rule=f"{layout.name}: doc_id",
            )
            return
        if refs:
            data["source"] = ctx.lineage(refs.get("message_ref"), refs.get("interchange_ref"))
        else:  # the same for every document of the file: build it once
            self.plain_lineage = self.plain_lineage or ctx.lineage()
            data["source"] = self.plain_lineage
        if self.documents <= MAX_KEYS:  # a catalogue's millionth SKU must not cost memory
            ctx.key(layout.doc_type, str(data["doc_id"]))
        ctx.stage = "map"
        try:
            yield record_from_dict(data)
        except (TypeError, ValueError) as exc:
            ctx.add(Code.UNMAPPABLE, str(exc), line=element.sourceline, xpath=path, rule=layout.name)
        ctx.stage = "validate"

    def _valid(self, layout: XmlLayout, element: Any, path: str) -> bool:
        """Validate against the layout's XSD; report every violation, not only the first."""
        schema = layout.schema
        if schema.validate(element):
            return True
        rule = f"{layout.name} {layout.schema_name}"
        for error in cast("Iterable[Any]", schema.error_log):
            message = _CLARK.sub("", error.message)
            self.ctx.add(
                Code.SCHEMA_VIOLATION,
                message,
                line=error.line,
                xpath=self._error_path(element, path, error.path),
                rule=rule,
            )
        return False

    def _error_path(self, element: Any, path: str, raw: str | None) -> str:
        """Turn libxml2's `/*/*[3]/cbc:Qty` into the readable path of the same node."""
        from lxml import etree

        if not raw:
            return path
        try:
            namespaces = {p: uri for p, uri in element.nsmap.items() if p}
            found = element.getroottree().xpath(raw, namespaces=namespaces) if element is self.root else None
        except etree.XPathError:
            found = None
        if found and isinstance(found, list) and isinstance(found[0], etree._Element):
            return node_path(found[0])
        # A streamed document was validated as if it were the root: re-anchor the path on it.
        rest = raw.split("/", 2)[2] if raw.count("/") >= 2 else ""
        return f"{path}/{rest}" if rest else path


def _local_step(element: Any) -> str:
    from lxml import etree

    local = etree.QName(element).localname
    return f"{element.prefix}:{local}" if element.prefix else local
