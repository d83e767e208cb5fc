"""XML out: canonical records written through the same declarative layouts the reader uses.

Every document is built from the layout's mapping and validated against the layout's XSD
before a byte of it is written; a record that fails becomes a located finding instead, so the
pipeline quarantines the input and the gateway never publishes a file that fails its own schema.

A layout whose document is the root (UBL DespatchAdvice, ReceiptAdvice) gives one file per
record; a layout whose documents repeat under a root (generic ERP XML) gives one file per input
file, written incrementally so a large batch never sits in memory as one tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar, cast

from gateway.canonical.records import Record
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.findings import Code
from gateway.formats.xml.layout import LayoutError, XmlLayout, layouts
from gateway.formats.xml.mapping import node_path, write_document
from gateway.options import Option, text
from gateway.targets.base import FileInfo, Opener, Output, SingleFormat

# lxml is imported by the functions that parse or write XML: detection imports every reader's
# module, and a file that is not XML must not pay for lxml.

PER_DOCUMENT_NAME = "{stem}.{file_id}.{n}.xml"
PER_FILE_NAME = "{stem}.{file_id}.xml"
_CLARK = re.compile(r"\{[^}]*\}")


class XmlWriter:
    """Writes one input file's records in one XML layout."""

    def __init__(self, layout: XmlLayout, file: FileInfo, open_output: Opener, pattern: str) -> None:
        self.layout = layout
        self.file = file
        self.open_output = open_output
        self.pattern = pattern
        self.count = 0
        self.out: Output | None = None

    def write(self, record: Record) -> list[Finding]:
        """Build, validate, then write the record's document; findings if it cannot be."""
        from lxml import etree

        self.count += 1
        rule = f"{self.layout.name} (outbound)"
        if record.doc_type != self.layout.doc_type:
            message = f"a {record.doc_type} cannot be written as {self.layout.name}"
            return [Finding(Code.NOT_REPRESENTABLE, message,
                            {"record": self.count}, value=record.doc_id, rule=rule)]  # fmt: skip
        try:
            element = write_document(self.layout, record.to_dict())
        except ValueError as exc:  # lxml refuses text XML 1.0 cannot hold: control characters
            return [Finding(Code.NOT_REPRESENTABLE, f"a value cannot be written in XML ({exc})",
                            {"record": self.count}, value=record.doc_id, rule=rule)]  # fmt: skip
        self.layout.order.apply(element)
        schema = self.layout.schema
        if not schema.validate(element):
            rule = f"{self.layout.name} {self.layout.schema_name} (outbound)"
            return [
                Finding(
                    Code.SCHEMA_VIOLATION,
                    f"the written document would fail its schema: {_CLARK.sub('', e.message)}",
                    {"record": self.count, "xpath": self._path(element, e.path)},
                    value=record.doc_id,
                    rule=rule,
                )
                for e in cast("Iterable[Any]", schema.error_log)
            ]
        data = etree.tostring(element, encoding="UTF-8", pretty_print=True)
        if not self.layout.streaming:
            out = self.open_output(self.file.output_name(self.pattern, n=self.count))
            out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n' + data)
            out.close()
            return []
        if self.out is None:
            self.out = self.open_output(self.file.output_name(self.pattern, n=1))
            self.out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n' + self._root_tag(close=False))
        self.out.write(data)
        return []

    def close(self) -> None:
        """Close the root element of a per-file output; a file without records writes nothing."""
        if self.out is not None:
            self.out.write(self._root_tag(close=True))
            self.out.close()
            self.out = None

    def _root_tag(self, close: bool) -> bytes:
        from lxml import etree

        local = etree.QName(self.layout.root).localname
        if close:
            return f"</{local}>\n".encode()
        namespace = f' xmlns="{self.layout.namespace}"' if self.layout.namespace else ""
        return f"<{local}{namespace}>\n".encode()

    def _path(self, element: Any, raw: str | None) -> str:
        from lxml import etree

        try:
            found = element.getroottree().xpath(raw, namespaces=self.layout.namespaces) if raw else None
        except etree.XPathError:
            found = None
        if found and isinstance(found, list) and isinstance(found[0], etree._Element):
            return node_path(found[0])
        return raw or node_path(element)


class XmlTarget(SingleFormat):
    """Target format `xml`: option `layout` names a writable layout of `schemas/xml/`."""

    format: ClassVar[str] = "xml"
    options: ClassVar[tuple[Option, ...]] = (
        text("layout", None, "the XML layout written (required), a folder of schemas/xml/"),
        text("file_name", None, "the output file name pattern; must contain {file_id}, and {n} per document"),
    )

    def __init__(self, config: TargetConfig) -> None:
        self.layout = layouts()[str(config.options["layout"])]
        default = PER_FILE_NAME if self.layout.streaming else PER_DOCUMENT_NAME
        self.pattern = str(config.options.get("file_name", default))

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """`layout` is required and must be writable; `file_name` must be deterministic."""
        problems: list[str] = []
        name = config.options.get("layout")
        try:
            known = layouts()
        except LayoutError as exc:
            return [*problems, f"layout: {exc}"]
        if not name:
            problems.append(f"layout: required, one of {', '.join(sorted(known))}")
            return problems
        layout = known.get(str(name))
        if layout is None:
            problems.append(f"layout: no XML layout named {name!r} (have {', '.join(sorted(known))})")
            return problems
        pattern = str(config.options.get("file_name", PER_DOCUMENT_NAME))
        if "{file_id}" not in pattern:
            problems.append("file_name: must contain {file_id}, so that names are deterministic")
        if not layout.streaming and "{n}" not in pattern:
            problems.append("file_name: must contain {n}: this layout writes one file per document")
        try:
            _ = layout.schema
        except LayoutError as exc:
            problems.append(f"layout: {exc}")
        return problems

    def writer(self, file: FileInfo, open_output: Opener) -> XmlWriter:
        """A writer for one input file."""
        return XmlWriter(self.layout, file, open_output, self.pattern)
