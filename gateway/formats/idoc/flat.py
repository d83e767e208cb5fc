"""Flat IDoc files of an SAP file port: fixed-width control and data records, one a line.

Release 4.x writes EDI_DC40 (524 characters) and EDI_DD40 (63 + 1000) records; release 3.x
writes EDI_DC/EDI_DD with a 10-character segment name, so the data fields sit elsewhere. The
control record's TABNAM tells which. Real files are right-trimmed, use CRLF or LF, hold several
IDocs, and name segments by definition (`E2EDK01005`) or type (`E1EDK01`); all of that reads.
The hierarchy comes from PSGNUM where it is given, else from the schema's parents, and HLEVEL
only places a segment neither knows: real SAP files give HLEVEL values that disagree with both
(E1EDK01 at 01, the other top-level segments at 02), which is a warning (`hlevel_mismatch`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gateway.findings import Code, Report
from gateway.formats.idoc import schema as idoc_schema
from gateway.formats.idoc.model import Idoc, Segment
from gateway.formats.idoc.schema import SegmentDef

CONTROL_V3 = "EDI_DC40"
CONTROL_V2 = "EDI_DC"
#: The hierarchy level SAP gives top-level segments (the control record is level 1).
TOP_HLEVEL = 2
#: Characters that never occur in a text IDoc; their presence means binary junk.
_JUNK = re.compile("[\x00-\x08\x0a-\x1f\x7f\ufffd]")


def release_of(line: str) -> str | None:
    """'4' for an EDI_DC40 control record, '3' for EDI_DC, None for a data record."""
    if line.startswith(CONTROL_V3):
        return "4"
    if line.startswith(CONTROL_V2) and line[6:10].strip() == "":
        return "3"
    return None


def layouts(release: str) -> tuple[SegmentDef, SegmentDef]:
    """The control and data record layouts of a release."""
    recs = idoc_schema.records()
    return (recs["EDI_DC40"], recs["EDI_DD40"]) if release == "4" else (recs["EDI_DC"], recs["EDI_DD"])


@dataclass
class _Open:
    """The IDoc being read, with the state the hierarchy checks need."""

    idoc: Idoc
    data: SegmentDef
    last_number: int = 0
    hlevel_base: int | None = None
    docnum: str = ""
    hlevel_told: bool = False


class FlatParser:
    """Reads IDocs from lines; reports problems through `report`, with line numbers."""

    def __init__(
        self,
        report: Report,
        schema_parent: Callable[[str, str], str | None],
        on_control: Callable[[Idoc], None] = lambda idoc: None,
    ) -> None:
        self.report = report
        self.schema_parent = schema_parent
        #: Told of each IDoc as its control record is read, before anything of it is reported.
        self.on_control = on_control
        self.release: str | None = None

    def idocs(self, lines: Iterable[str]) -> Iterator[Idoc]:
        """Yield each IDoc once its last record has been read."""
        current: _Open | None = None
        for number, text in enumerate(lines, start=1):
            line = text.rstrip("\r\n")
            if not line.strip():
                continue
            junk = None if line.isprintable() else _JUNK.search(line)
            if junk is not None:
                at = junk.start()
                self.report(
                    Code.BINARY_CONTENT,
                    f"control character {ord(line[at]):#04x} at column {at + 1}",
                    rule="IDoc records are text",
                    line=number,
                    **({"record": current.idoc.docnum} if current else {}),
                )
                continue
            release = release_of(line)
            if release is not None:
                if current is not None:
                    yield current.idoc
                current = self._control(line, number, release)
            elif current is None:
                self.report(
                    Code.MISSING_CONTROL_RECORD,
                    "data record before any control record",
                    value=line[:30].strip(),
                    rule="an IDoc starts with EDI_DC40",
                    line=number,
                )
            else:
                self._data(current, line, number)
        if current is not None:
            yield current.idoc

    def _control(self, line: str, number: int, release: str) -> _Open:
        control_def, data_def = layouts(release)
        control = control_def.slice(line)
        idoc = Idoc(control, line=number, release=release)
        self.on_control(idoc)
        where: dict[str, Any] = {"record": idoc.docnum or "?", "segment": control_def.name, "line": number}
        if self.release is None:
            self.release = release
        elif release != self.release:
            self.report(
                Code.MIXED_RELEASES,
                f"{control_def.name} control record after {self._name()} ones",
                value=control_def.name,
                rule="one record-type version per file",
                **where,
            )
        for name in ("DOCNUM", "IDOCTYP", "MESTYP"):
            f = control_def.by_name[name]
            if control.get(name):
                continue
            if len(line) < f.offset + 1:
                self.report(
                    Code.SHORT_CONTROL_RECORD,
                    f"the control record ends at column {len(line)}, before {name}",
                    value=str(len(line)),
                    rule=f"{control_def.name} {f.rule}",
                    field=name,
                    **where,
                )
            elif name == "DOCNUM":
                blank_docnum(idoc, self.report, rule=f"{control_def.name} {f.rule}", **where)
            else:
                self.report(
                    Code.MISSING_CONTROL_FIELD,
                    f"{name} is empty",
                    rule=f"{control_def.name} {f.rule}",
                    field=name,
                    **where,
                )
        return _Open(idoc, data_def, docnum=idoc.docnum)

    def _name(self) -> str:
        return CONTROL_V3 if self.release == "4" else CONTROL_V2

    def _data(self, state: _Open, line: str, number: int) -> None:
        dd = state.data
        idoc = state.idoc
        values = dd.slice(line)
        segnam = values.get("SEGNAM", "")
        name = idoc_schema.type_name(segnam)
        where = {"record": state.docnum or "?", "segment": segnam, "line": number}
        segnum_def = dd.by_name["SEGNUM"]
        if len(line) < segnum_def.end:
            self.report(
                Code.SHORT_RECORD,
                f"the data record ends at column {len(line)}, before SEGNUM",
                value=str(len(line)),
                rule=f"{dd.name} {segnum_def.rule}",
                **where,
            )
            return
        docnum = values.get("DOCNUM", "")
        if docnum and docnum != state.docnum and docnum.lstrip("0") != state.docnum.lstrip("0"):
            self.report(
                Code.DOCNUM_MISMATCH,
                f"DOCNUM differs from the control record's {state.docnum}",
                value=docnum,
                rule=f"{dd.name} DOCNUM",
                field="DOCNUM",
                **where,
            )
        seg_no = self._number(values.get("SEGNUM", ""), "SEGNUM", dd, where)
        if seg_no is None:
            seg_no = state.last_number + 1
        elif seg_no != state.last_number + 1:
            self.report(
                Code.SEGMENT_SEQUENCE,
                f"SEGNUM {seg_no} follows {state.last_number}",
                value=values.get("SEGNUM"),
                rule="SEGNUM counts 1, 2, 3 … within an IDoc",
                field="SEGNUM",
                segment_index=seg_no,
                **where,
            )
        state.last_number = seg_no
        where["segment_index"] = seg_no
        psgnum = self._number(values.get("PSGNUM", ""), "PSGNUM", dd, where) or 0
        hlevel = self._number(values.get("HLEVEL", ""), "HLEVEL", dd, where)
        sdata_at = dd.by_name["SDATA"].offset
        sdata = line[sdata_at : sdata_at + 1000]
        seg = Segment(name, seg_no, 0, 1, segnam=segnam, line=number, raw=sdata.rstrip())
        self._place(state, seg, psgnum, hlevel, where)
        idoc.segments.append(seg)

    def _number(self, text: str, name: str, dd: SegmentDef, where: dict[str, object]) -> int | None:
        text = text.strip()
        if not text:
            return None
        if not text.isdigit():
            self.report(
                Code.NOT_NUMERIC,
                f"{name} is not a number",
                value=text,
                rule=f"{dd.name} {dd.by_name[name].rule}",
                field=name,
                **where,
            )
            return None
        return int(text)

    def _place(
        self, state: _Open, seg: Segment, psgnum: int, hlevel: int | None, where: dict[str, object]
    ) -> None:
        """Find the segment's parent from PSGNUM, else from the schema's order (the latest
        segment of its parent's type), else from HLEVEL; an HLEVEL that disagrees with the
        place found is reported once per IDoc (SAP itself writes HLEVEL 01 on E1EDK01 and 02 on
        the other top-level segments, all with PSGNUM 000000)."""
        idoc = state.idoc
        if hlevel is not None and state.hlevel_base is None:
            state.hlevel_base = min(hlevel, TOP_HLEVEL) if not psgnum else TOP_HLEVEL
        level = hlevel - (state.hlevel_base or TOP_HLEVEL) + 1 if hlevel is not None else None
        wanted = self.schema_parent(idoc.basic_type, seg.name)
        parent: Segment | None = None
        if psgnum:
            parent = next((s for s in reversed(idoc.segments) if s.number == psgnum), None)
            if parent is None:
                self.report(
                    Code.BAD_PARENT,
                    f"PSGNUM {psgnum} names no earlier segment of this IDoc",
                    value=str(psgnum),
                    rule="PSGNUM is the number of the parent segment",
                    field="PSGNUM",
                    **where,
                )
        elif wanted is not None:
            # The schema knows the segment: its parent is the latest segment of that type (none
            # found leaves it at the top, where the schema check reports it as orphaned).
            parent = next((s for s in reversed(idoc.segments) if s.name == wanted), None) if wanted else None
        elif level is not None and level > 1:
            parent = next((s for s in reversed(idoc.segments) if s.level == level - 1), None)
            if parent is None:
                self.report(
                    Code.BAD_PARENT,
                    f"no open segment at level {level - 1} for HLEVEL {hlevel}",
                    value=str(hlevel),
                    rule="HLEVEL is one more than the parent's",
                    field="HLEVEL",
                    **where,
                )
        seg.parent = parent.number if parent is not None else 0
        seg.level = parent.level + 1 if parent is not None else 1
        if level is not None and level != seg.level and not state.hlevel_told:
            state.hlevel_told = True
            by = "PSGNUM" if psgnum else "the schema" if wanted is not None else "its parent"
            self.report(
                Code.HLEVEL_MISMATCH,
                f"HLEVEL {hlevel} disagrees with the segment's place ({by} puts it at level"
                f" {seg.level + TOP_HLEVEL - 1:02d}), which is kept; later disagreements are not repeated",
                value=str(hlevel),
                rule="PSGNUM, else the schema's segment order, decides the hierarchy",
                field="HLEVEL",
                **where,
            )


def blank_docnum(idoc: Idoc, report: Report, *, rule: str, **where: Any) -> None:
    """A blank DOCNUM: an error from SAP, which always numbers its IDocs; from another sender a
    deviation, the IDoc then keyed by sender and file content (reader.py)."""
    if idoc.from_sap:
        report(Code.MISSING_CONTROL_FIELD, "DOCNUM is empty", rule=rule, field="DOCNUM", **where)
    else:
        report(
            Code.BLANK_DOCNUM,
            f"DOCNUM is empty (sender port {idoc.control.get('SNDPOR', '').strip() or 'blank'}, not SAP);"
            " the IDoc is keyed by sender and file content",
            rule=rule,
            field="DOCNUM",
            **where,
        )


def decode_fields(idoc: Idoc, layouts_by_type: dict[str, SegmentDef], report: Report) -> None:
    """Fill every segment's fields from its SDATA with its type's layout. Data past the part of
    a layout SAP publishes cannot be placed: an error, said once per segment type and IDoc."""
    told: set[str] = set()
    for seg in idoc.segments:
        layout = layouts_by_type.get(seg.name)
        if layout is None or seg.raw is None:
            continue
        raw = seg.raw
        size = len(raw)
        fields = {name: raw[start:end].rstrip() for name, start, end in layout.flat_spans if start < size}
        seg.fields = {k: v for k, v in fields.items() if v}
        end = layout.documented_end
        if end is not None and raw[end:].strip() and seg.name not in told:
            told.add(seg.name)
            after = next(f for f in layout.fields if f.end > end)
            where = f"from SDATA column {end + 1}, where SAP's published layout ends" if end else ""
            report(
                Code.UNDOCUMENTED_LAYOUT,
                f"{seg.name} holds data {where or 'and SAP publishes no flat layout of it'}; {after.name}"
                " and the fields after it are named in SAP's listing, but their flat widths are unpublished",
                value=raw[end:].strip()[:40],
                rule=f"schemas/idoc/_segments.toml {seg.name}: flat_documented_through",
                record=idoc.docnum or "?",
                **seg.where(),
            )


def format_idoc(idoc: Idoc, layouts_by_type: dict[str, SegmentDef]) -> list[str]:
    """The records of an IDoc, release 4 layout, each padded to its full length."""
    control_def, dd = layouts("4")
    control = {**idoc.control, "TABNAM": CONTROL_V3}
    lines = [control_def.pack(control, control_def.length)]
    mandt = control.get("MANDT", "")
    for seg in idoc.segments:
        layout = layouts_by_type[seg.name]
        record = {
            "SEGNAM": seg.name,
            "MANDT": mandt,
            "DOCNUM": idoc.docnum,
            "SEGNUM": f"{seg.number:06d}",
            "PSGNUM": f"{seg.parent:06d}",
            "HLEVEL": f"{seg.level + TOP_HLEVEL - 1:02d}",
            "SDATA": layout.pack(seg.fields, 1000),
        }
        lines.append(dd.pack(record, dd.length))
    return lines
