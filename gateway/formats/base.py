"""What a format reader is given and what it gives back.

A reader turns one claimed file into canonical records, streaming: it yields each document as
soon as it is complete and reports problems as `Finding`s on the context instead of raising, so
one run reports every problem in the file. The pipeline publishes nothing from a file whose
reader reported a finding. A problem that makes further reading pointless (undecodable bytes, a
broken envelope) is raised as a `RejectedFile` instead.

Adding a format is one package with a class satisfying `Reader`, and one entry point in the
`gateway.formats` group (see `gateway/plugins.py`); its `order` places it in detection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from gateway.canonical.records import Record, Source
from gateway.config import Config, SourceConfig
from gateway.errors import (
    DecodeError,
    Finding,
    InvalidContent,
    MappingError,
    RejectedFile,
    RoutingError,
    UnknownFormat,
    WriteRejected,
)
from gateway.findings import Code, Severity, Strictness, severity
from gateway.formats.encoding import Encoding, decide
from gateway.options import Option


@dataclass(frozen=True)
class Inbound:
    """A claimed file: its bytes are at `path` (in `work/`), its name is the original one."""

    file_id: str
    path: Path
    name: str
    source: SourceConfig
    sha256: str
    size: int


@dataclass(frozen=True)
class Acknowledgement:
    """A partner's answer (EDIFACT CONTRL) to an interchange the gateway sent: `partner` is
    who answers (that interchange's recipient), `sender` who sent it (us), `control_ref` its
    reference; `detail` says what was rejected, for people."""

    partner: str
    sender: str
    control_ref: str
    accepted: bool
    detail: str


class TooManyFindings(InvalidContent):
    """Raised once a file has more findings than anyone will read; stops the reader early."""


@dataclass
class ReadContext:
    """The reader's side of the pipeline: configuration, findings and lineage."""

    file: Inbound
    config: Config
    format: str
    stage: str = "decode"
    encoding: Encoding | None = None
    findings: list[Finding] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)
    unique_keys: list[tuple[str, str]] = field(default_factory=list)
    first_stage: str | None = None
    #: Findings that do not block the file (severity in gateway/findings.py); `findings` holds the errors.
    warnings: list[Finding] = field(default_factory=list)
    #: The sender the reader is reading now (UNB sender, SNDPRN): its `[[partner]]` strictness.
    partner: str | None = None
    #: Set aside by a reader that may accept part of a file (EDIFACT `edifact_partial`): each
    #: part is (file name, content, its findings); together they hold every finding.
    rejected_parts: list[tuple[str, bytes, list[Finding]]] = field(default_factory=list)
    _head: int | None = field(default=None, repr=False)
    _seen: int = field(default=0, repr=False)
    #: Partners' answers to what the gateway sent, found in the file (pipeline/acknowledgements.py).
    acknowledgements: list[Acknowledgement] = field(default_factory=list)

    def decide_encoding(self, declared: str | None = None) -> Encoding:
        """Choose the encoding in the design's order and remember it for lineage."""
        self.stage = "decode"
        self.encoding = decide(
            self.file.path,
            declared=declared,
            configured=self.file.source.encoding,
            threshold=self.config.encoding_confidence,
        )
        return self.encoding

    @property
    def encoding_name(self) -> str | None:
        """The decided encoding's name, once decided."""
        return self.encoding.name if self.encoding else None

    @property
    def strictness(self) -> Strictness:
        """The level the current sender's findings are judged by."""
        return self.config.strictness(self.file.source, self.partner)

    def add(
        self,
        code: Code,
        message: str,
        *,
        value: str | None = None,
        rule: str | None = None,
        **location: Any,
    ) -> None:
        """Report one finding at the current stage: an error, or a warning by the strictness."""
        level = severity(code, self.strictness)
        if level is Severity.WARNING:
            # Warnings never stop the reader; past the limit they are no longer kept.
            if len(self.warnings) < self.config.max_findings:
                self.warnings.append(Finding(code, message, location, value, rule, level))
            return
        self.first_stage = self.first_stage or self.stage
        self.findings.append(Finding(code, message, location, value, rule))
        if len(self.findings) >= self.config.max_findings:
            self.findings.append(Finding(
                Code.TOO_MANY_FINDINGS,
                f"stopped after {self.config.max_findings} findings",
                {},
                rule="max_findings",
            ))  # fmt: skip
            raise TooManyFindings(self.findings)

    def key(self, kind: str, value: str, *, unique: bool = False) -> None:
        """Note a business key for `trace`; a `unique` one (sender + UNB reference, DOCNUM)
        makes the file a duplicate when an accepted file already carried it."""
        self.keys.append((kind, value))
        if unique:
            self.unique_keys.append((kind, value))

    def warned(self, record: Record) -> Record:
        """`record` with, in `source.warnings`, the warnings reported before the file's first
        record (its envelope's) and those reported since the previous record (its own)."""
        if self._head is None:
            self._head = len(self.warnings)
        found = [*self.warnings[: self._head], *self.warnings[max(self._seen, self._head) :]]
        self._seen = len(self.warnings)
        if not found:
            return record
        kept = [{k: v for k, v in f.to_dict().items() if k != "severity"} for f in found]
        return replace(record, source=replace(record.source, warnings=kept))

    def lineage(self, message_ref: str | None = None, interchange_ref: str | None = None) -> Source:
        """The `source` block of a canonical record read from this file."""
        return Source(
            file_id=self.file.file_id,
            file_name=self.file.name,
            sha256=self.file.sha256,
            format=self.format,
            encoding=self.encoding_name,
            message_ref=message_ref,
            interchange_ref=interchange_ref,
        )

    def rejection(self) -> RejectedFile | None:
        """The findings so far as a rejection, or None when the file is clean."""
        if not self.findings:
            return None
        kind = STAGE_ERRORS.get(self.first_stage or self.stage, InvalidContent)
        # Column-wise checks find problems out of line order; people read files top down.
        return kind(sorted(self.findings, key=lambda f: int(f.location.get("line", 0))))


class Reader(Protocol):
    """A format: recognises its content and reads it into canonical records. **Protocol.**

    A reader may also set `offload = True` (see `offloaded`)."""

    name: ClassVar[str]
    #: Detection asks readers by this number, lowest first; a catch-all takes a high one.
    order: ClassVar[int]
    #: The `[[source]]` keys this reader reads, checked with the configuration.
    options: ClassVar[tuple[Option, ...]]

    @staticmethod
    def sniff(head: bytes) -> bool:
        """True when `head` (the first bytes, BOM and leading blanks removed) is this format."""
        ...

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        """Yield the file's documents; report problems on `ctx`."""
        ...


def offloaded(reader: type[Reader]) -> bool:
    """Whether a worker process reads this format (pipeline/readers.py): true where making a
    record costs much more than moving it to the main process; absent is false."""
    return bool(getattr(reader, "offload", False))


@runtime_checkable
class Acknowledging(Protocol):
    """A reader whose format answers its sender (EDIFACT CONTRL). **Protocol.**"""

    @staticmethod
    def acknowledgement(
        ctx: ReadContext, findings: list[Finding], sequence: Callable[[str], int], accepted: bool
    ) -> tuple[str, bytes] | None:
        """The answer to the file read with `ctx` as (file name, bytes), or None when it has
        nothing to answer; `accepted` when the file's records are being published."""
        ...


STAGE_ERRORS: dict[str, type[RejectedFile]] = {
    cls.stage: cls
    for cls in (
        UnknownFormat,
        DecodeError,
        InvalidContent,
        MappingError,
        RoutingError,
        WriteRejected,
    )
}
