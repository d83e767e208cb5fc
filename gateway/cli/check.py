"""Validate and convert single files without side effects: no claim, no ledger, no move.

`gateway validate` and `gateway convert` use these; they run the same detection, decoding,
reading and writing code as the service, so what they accept the service accepts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway import plugins
from gateway.canonical.records import Record
from gateway.config import Config, SourceConfig
from gateway.delivery.local import LocalDelivery
from gateway.errors import Finding, RejectedFile
from gateway.findings import Code
from gateway.formats.base import Inbound, ReadContext
from gateway.formats.detect import detect
from gateway.targets.base import FileInfo, Output


@dataclass
class Report:
    """The result of checking one file."""

    path: Path
    format: str | None = None
    encoding: str | None = None
    stage: str | None = None
    records: int = 0
    findings: list[Finding] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """No errors (warnings never make a file invalid)."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, shaped like `error.json`."""
        return {
            "file": str(self.path),
            "valid": self.valid,
            "format": self.format,
            "encoding": self.encoding,
            "stage": self.stage,
            "records": self.records,
            "errors": [f.to_dict() for f in self.findings],
            "warnings": [f.to_dict() for f in self.warnings],
            "outputs": self.outputs,
        }


def _inbound(path: Path, source: SourceConfig) -> Inbound:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    sha = digest.hexdigest()
    return Inbound(f"local-{sha[:12]}", path, path.name, source, sha, path.stat().st_size)


def _opened(path: Path, source: SourceConfig, report: Report) -> Inbound | None:
    """The file as the readers see it, or None (and a finding) when it cannot be read."""
    try:
        return _inbound(path, source)
    except OSError as exc:
        report.stage = "claim"
        report.findings.append(Finding(Code.UNREADABLE, f"cannot read the file: {exc.strerror}"))
        return None


def read(
    path: Path, config: Config, source: SourceConfig, report: Report, file: Inbound | None = None
) -> Iterator[Record]:
    """Yield the file's records, filling `report`; findings end up in the report, not raised."""
    file = file or _opened(path, source, report)
    if file is None:
        return
    ctx = ReadContext(file, config, format="unknown", stage="detect")
    try:
        ctx.format = report.format = detect(path, path.name, source.format_by_name)
        for record in plugins.reader(ctx.format)().read(ctx):
            report.records += 1
            yield ctx.warned(record)
        rejection = ctx.rejection()
        if rejection is not None:
            raise rejection
    except RejectedFile as exc:
        report.stage = exc.stage
        report.findings = exc.findings
    except Exception as exc:
        report.stage = ctx.stage
        report.findings = [*ctx.findings, Finding(Code.INTERNAL_ERROR, f"the reader failed: {exc!r}")]
    finally:
        report.encoding = ctx.encoding.name if ctx.encoding else None
        report.warnings = ctx.warnings


def validate(path: Path, config: Config, source: SourceConfig) -> Report:
    """Read the whole file and report every finding."""
    report = Report(path)
    for _ in read(path, config, source, report):
        pass
    return report


def convert_to_target(path: Path, config: Config, source: SourceConfig, target: str,
                      out: Path) -> Report:  # fmt: skip
    """Write the file's records as target `target` would, into `out`; nothing on findings."""
    report = Report(path)
    target_config = config.target(target)
    delivery = LocalDelivery(out)
    staged: list[tuple[str, str]] = []

    def open_output(name: str) -> Output:
        staged.append((str(delivery.staging_path(name)), name))
        return delivery.open(name)

    file = _opened(path, source, report)
    if file is None:
        return report
    writer = plugins.target(target_config.format)(target_config).writer(
        FileInfo(file.file_id, path.name), open_output
    )
    try:
        for record in read(path, config, source, report, file):
            report.findings.extend(writer.write(record))
    finally:
        writer.close()
    if not report.valid:
        report.stage = report.stage or "write"
        for tmp, _ in staged:
            delivery.discard(tmp)
        return report
    report.outputs = [delivery.publish(tmp, name) for tmp, name in staged]
    return report
