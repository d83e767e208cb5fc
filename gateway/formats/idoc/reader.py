"""SAP IDoc flat files in; and the steps every IDoc takes whichever its syntax.

Each IDoc is checked against the schema of its basic type (and extension), its DOCNUM noted as
a unique business key per sender, and, when clean, mapped to one canonical record. Findings
name the IDoc (`record` = DOCNUM), the segment number and name, the field and its value.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, ClassVar

from gateway.canonical.build import record_from_dict
from gateway.canonical.records import Record
from gateway.errors import InvalidContent, reject
from gateway.findings import Code
from gateway.formats.base import ReadContext
from gateway.formats.idoc import schema as idoc_schema
from gateway.formats.idoc.flat import FlatParser, blank_docnum, decode_fields, release_of
from gateway.formats.idoc.mappings import OPTIONS, map_idoc
from gateway.formats.idoc.model import Idoc, check
from gateway.options import Option

MAX_LINE = 4096


class IdocReader:
    """Flat IDoc files (EDI_DC40/EDI_DD40, or release 3 EDI_DC/EDI_DD)."""

    name: ClassVar[str] = "idoc"
    order: ClassVar[int] = 30
    offload: ClassVar[bool] = True
    options: ClassVar[tuple[Option, ...]] = OPTIONS

    @staticmethod
    def sniff(head: bytes) -> bool:
        """A control record at the very start."""
        return release_of(head[:10].decode("latin-1")) is not None

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        """Yield one canonical record per IDoc in the file."""
        encoding = ctx.decide_encoding()
        with ctx.file.path.open("rb") as raw:
            raw.seek(encoding.bom)
            text = io.TextIOWrapper(raw, encoding=encoding.name, newline=None, errors="replace")
            try:
                ctx.stage = "validate"
                parser = FlatParser(ctx.add, _schema_parent, lambda idoc: _judge(ctx, idoc))
                yield from read_idocs(ctx, parser.idocs(_lines(text)))
            finally:
                text.detach()


def _lines(text: io.TextIOWrapper) -> Iterator[str]:
    while line := text.readline(MAX_LINE):
        if len(line) >= MAX_LINE and not line.endswith("\n"):
            raise reject(
                InvalidContent,
                Code.LINE_TOO_LONG,
                f"a record is longer than {MAX_LINE} characters",
                rule="EDI_DD40 records are 1063 characters",
            )
        yield line


def _judge(ctx: ReadContext, idoc: Idoc) -> None:
    """What follows is judged by the IDoc's sender's `[[partner]]` strictness."""
    ctx.partner = idoc.sender or None


def _schema_parent(basic_type: str, segment: str) -> str | None:
    schema = idoc_schema.basic_type(basic_type)
    node = schema.nodes.get(segment) if schema is not None else None
    return node.parent if node is not None else None


def read_idocs(ctx: ReadContext, idocs: Iterator[Idoc]) -> Iterator[Record]:
    """Check, key and map each IDoc; yield the records of clean ones."""
    options: dict[str, Any] = ctx.file.source.options
    seen = 0
    docnums: dict[str, Any] = {}
    for idoc in idocs:
        seen += 1
        _judge(ctx, idoc)
        ctx.stage = "validate"
        before = len(ctx.findings)
        if idoc.syntax == "xml":
            _check_xml_control(ctx, idoc)
        schema = idoc_schema.basic_type(idoc.basic_type, idoc.extension)
        if schema is None:
            if idoc.basic_type:
                ctx.add(
                    Code.UNKNOWN_BASIC_TYPE,
                    f"no schema for basic type {idoc.basic_type}",
                    value=idoc.basic_type,
                    rule=f"schemas/idoc: {', '.join(idoc_schema.shipped())}",
                    field="IDOCTYP",
                    **idoc.where(),
                )
            continue
        if idoc.syntax == "flat":
            decode_fields(idoc, schema.segments, ctx.add)
        root = idoc.root
        if root and root not in {idoc.basic_type, idoc.extension}:
            ctx.add(
                Code.ROOT_MISMATCH,
                f"the root element names {root}, the control record {schema.label}",
                value=root,
                rule="IDoc-XML root is the basic type or extension",
                **idoc.where(),
            )
        check(idoc, schema, ctx.add)
        key = f"{idoc.sender}:{idoc.docnum}"
        if idoc.docnum and key in docnums:
            ctx.add(Code.DUPLICATE_DOCNUM, f"IDoc {idoc.docnum} of sender {idoc.sender or '?'} occurs twice",
                    value=idoc.docnum, rule=f"DOCNUM is unique per sender (first at {docnums[key]})",
                    **idoc.where())  # fmt: skip
        docnums.setdefault(key, f"line {idoc.line}" if idoc.syntax == "flat" else idoc.xpath)
        if idoc.docnum:
            # Unique per sender (DOCNUMs are per SAP system); the bare number too, for `trace`.
            ctx.key("docnum", f"{idoc.sender}:{idoc.docnum}", unique=True)
            ctx.key("idoc_docnum", idoc.docnum)
        else:
            # A non-SAP sender's unnumbered IDoc (a blank_docnum warning): its file's content
            # and its place in the file stand in for the number.
            ctx.key("docnum", f"{idoc.sender}:sha256:{ctx.file.sha256}:{seen}", unique=True)
        if ctx.findings:
            continue  # the file is quarantined anyway; keep checking the rest of it
        ctx.stage = "map"
        data = map_idoc(idoc, options, ctx.add)
        if data is None or len(ctx.findings) > before:
            continue
        data["source"] = ctx.lineage(
            message_ref=idoc.docnum or None, interchange_ref=idoc.control.get("SERIAL") or None
        )
        try:
            record = record_from_dict(data)
        except (TypeError, ValueError) as exc:
            ctx.add(Code.UNMAPPABLE, str(exc), rule=f"mapping idoc/{schema.label}", **idoc.where())
            continue
        for kind, value in _business_keys(record):
            ctx.key(kind, value)
        yield record
    if seen == 0 and not ctx.findings:
        ctx.stage = "validate"
        ctx.add(
            Code.NO_IDOC, "the file holds no IDoc", rule="an IDoc starts with its control record EDI_DC40"
        )


def _check_xml_control(ctx: ReadContext, idoc: Idoc) -> None:
    """The control fields an IDoc cannot be read without (the flat parser checks its own)."""
    if not idoc.control:
        ctx.add(Code.MISSING_CONTROL_RECORD, "the IDOC has no EDI_DC40 control record",
                rule="<IDOC> starts with <EDI_DC40 SEGMENT=\"1\">", **idoc.where())  # fmt: skip
        return
    for name in ("DOCNUM", "IDOCTYP", "MESTYP"):
        if idoc.control.get(name):
            continue
        if name == "DOCNUM":
            blank_docnum(idoc, ctx.add, rule="EDI_DC40 DOCNUM", **idoc.where())
        else:
            ctx.add(Code.MISSING_CONTROL_FIELD, f"{name} is empty", rule=f"EDI_DC40 {name}", field=name,
                    **idoc.where())  # fmt: skip


def _business_keys(record: Record) -> list[tuple[str, str]]:
    return [(record.doc_type, record.doc_id)]
