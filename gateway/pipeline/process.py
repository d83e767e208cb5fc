"""One claimed file from detection to its single outcome: accepted, quarantined or duplicate.

```
detect ─▶ decode ─▶ parse+validate ─▶ map ─▶ route ─▶ write (staged) ─▶ intents ─▶ publish
                                                                      ─▶ commit ─▶ archive
            any finding ─────────────────────────▶ discard staged ─▶ quarantine
```

Every step that changes the world is recorded in the ledger before or after it in an order
that lets `process` be called again on the same file after a crash at any point: staged
outputs of an interrupted attempt are discarded and the file is read again; intents recorded
but not all published are completed; nothing already published is published again.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import structlog

from gateway import quarantine
from gateway.canonical.records import Record
from gateway.config import Config, SourceConfig
from gateway.delivery.local import fsync_dir
from gateway.delivery.registry import Delivery, delivery_for
from gateway.errors import Finding, RejectedFile, TransientError
from gateway.formats.base import Inbound, ReadContext
from gateway.formats.detect import detect
from gateway.formats.registry import FORMATS
from gateway.ledger.sqlite import FileRow, Ledger, OutputRow, now
from gateway.pipeline.batching import Batcher, discard
from gateway.pipeline.claim import claim as claim_file
from gateway.pipeline.routing import Router
from gateway.targets.base import FileInfo, Opener, Output, Writer
from gateway.targets.registry import TARGETS

log = structlog.get_logger("gateway")

#: Records staged for a batch per ledger transaction: few commits, bounded memory.
STAGE_CHUNK = 500


@dataclass
class Outcome:
    """What happened to one file."""

    state: str
    records: int = 0
    format: str | None = None
    doc_types: dict[str, int] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    findings: int = 0


class Pipeline:
    """Processes claimed files, durably, for one configuration."""

    def __init__(
        self, config: Config, ledger: Ledger, deliveries: Mapping[str, Delivery] | None = None
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.router = Router(config)
        self.targets = {t.name: TARGETS[t.format](t) for t in config.targets}
        for target in self.targets.values():
            # Targets that number their documents (IDoc DOCNUMs) draw the numbers from the ledger.
            bind = getattr(target, "bind_sequence", None)
            if bind is not None:
                bind(ledger.next_sequence)
        # `deliveries` stand in for configured ones by target name (in-memory ones, in tests).
        configured = {t.name: delivery_for(t) for t in config.targets}
        self.deliveries: dict[str, Delivery] = {**configured, **(deliveries or {})}
        #: Called between records, so a watchdog sees a long file as progress (service.py).
        self.heartbeat: Callable[[], None] = lambda: None
        self.batcher = Batcher(config, ledger, self.targets, self.deliveries)
        # A batched target's records are tried at file time on an instance of their own, so
        # that the trial never draws from the ledger's sequences.
        self.trials = {t.name: TARGETS[t.format](t) for t in config.targets if t.batched}

    def source_of(self, row: FileRow) -> SourceConfig:
        """The file's source as configured now (a source removed since is still served)."""
        try:
            return self.config.source(row.source)
        except StopIteration:
            return SourceConfig(name=row.source)

    def process(self, file_id: str) -> Outcome:
        """Take a file in `processing` or `publishing` state to its outcome."""
        row = self.ledger.get(file_id)
        if row is None or row.work_path is None:
            raise KeyError(file_id)
        started = time.monotonic()
        bound = log.bind(file_id=file_id, source=row.source, name=row.original_name)
        if row.state == "publishing":
            outcome = self._publish(row)
        else:
            outcome = self._attempt(row, bound)
        bound.info(
            "file_processed",
            outcome=outcome.state,
            format=outcome.format,
            records=outcome.records,
            doc_types=outcome.doc_types,
            outputs=len(outcome.outputs),
            findings=outcome.findings,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        return outcome

    def _attempt(self, row: FileRow, bound: Any) -> Outcome:
        self._discard_staged(row)
        source = self.source_of(row)
        assert row.work_path is not None and row.sha256 is not None
        file = Inbound(row.file_id, Path(row.work_path), row.original_name, source, row.sha256,
                       row.size or 0)  # fmt: skip
        same = self.ledger.accepted_with_sha(row.sha256, row.file_id)
        if same is not None:
            return self._duplicate(row, source, same, bound)
        ctx = ReadContext(file, self.config, format="unknown", stage="detect")
        try:
            ctx.format = detect(file.path, file.name, source.format_by_name)
            counts, doc_types = self._write(FORMATS[ctx.format]().read(ctx), ctx, file)
            rejection = ctx.rejection()
            if rejection is not None and not self._split(row, source, ctx, bound):
                raise rejection
        except RejectedFile as exc:
            self._acknowledge(ctx, file, exc.findings, bound, accepted=False)
            return self._reject(row, exc.stage, exc.findings, ctx.format, ctx.encoding_name, bound)
        except TransientError:
            self._discard_staged(row)
            raise
        except Exception as exc:
            bound.exception("reader_failed")
            finding = Finding("internal_error", f"the {ctx.format} reader failed: {exc!r}",
                              rule="a gateway bug: report it with this file")  # fmt: skip
            findings = [*ctx.findings, finding]
            return self._reject(row, ctx.stage, findings, ctx.format, ctx.encoding_name, bound)
        for kind, value in ctx.unique_keys:
            same = self.ledger.accepted_with_key(kind, value, row.file_id)
            if same is not None:
                self._discard_staged(row)
                return self._duplicate(row, source, same, bound, f"{kind} {value}")
        self._acknowledge(ctx, file, ctx.findings, bound, accepted=True)
        staged = [
            OutputRow(o.file_id, o.target, o.path, o.tmp_path, "intent", counts[o.target], o.at)
            for o in self.ledger.outputs(row.file_id)
        ]
        self.ledger.intend(
            row.file_id, staged, ctx.keys,
            format=ctx.format, encoding=ctx.encoding_name, records=sum(doc_types.values()),
        )  # fmt: skip
        outcome = self._publish(self.ledger.get(row.file_id))  # type: ignore[arg-type]
        outcome.doc_types = dict(doc_types)
        outcome.format = ctx.format
        return outcome

    def _split(self, row: FileRow, source: SourceConfig, ctx: ReadContext, bound: Any) -> bool:
        """Partial acceptance: when the reader set aside parts holding every finding, each part
        is quarantined as a file of its own (retry works on it) and the rest is accepted."""
        parts = ctx.rejected_parts
        if not parts or sum(len(found) for _, _, found in parts) != len(ctx.findings):
            return False
        work = self.config.folder("work")
        for name, data, found in parts:
            staged = work / f".{row.file_id}.{name}"
            with staged.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            stat = staged.stat()
            part = claim_file(
                self.ledger, work, source.name, staged, stat.st_size, stat.st_mtime_ns, name=name
            )
            self.ledger.event(part.file_id, "split_from", parent=row.file_id)
            self._reject(part, "validate", found, ctx.format, ctx.encoding_name, bound)
        bound.info("file_split", parts=len(parts))
        return True

    def _acknowledge(
        self, ctx: ReadContext, file: Inbound, findings: list[Finding], bound: Any, *, accepted: bool
    ) -> None:
        """Answer the sender when its source asks for it (`acknowledge_to` names the target whose
        delivery takes the answer) and the format can (EDIFACT CONTRL). An acceptance is staged
        with the file's other outputs; a rejection is published now, as the file is quarantined."""
        target = file.source.options.get("acknowledge_to")
        make = getattr(FORMATS.get(ctx.format), "acknowledgement", None)
        if not target or make is None or target not in self.deliveries:
            return
        if not accepted and self._answered(file, target):
            return
        try:
            answer = make(ctx, findings, self.ledger.next_sequence, accepted)
        except Exception:
            bound.exception("acknowledgement_failed")
            return
        if answer is None:
            return
        name, data = answer
        out = self._opener(file, target)(name)
        out.write(data)
        out.close()
        if not accepted:
            # A rejection goes out now, under the same intent protocol as any output.
            tmp = str(self.deliveries[target].staging_path(name))
            self.ledger.record_output(OutputRow(file.file_id, target, name, tmp, "intent", 0, ""))
            self._answered(file, target)
            bound.info("acknowledgement_published", target=target, name=name, accepted=False)

    def _answered(self, file: Inbound, target: str) -> bool:
        """Finish publishing a rejection's answer recorded by an earlier attempt of this file;
        True when there was one, so a crash and a second attempt never answer twice."""
        delivery = self.deliveries[target]
        for output in self.ledger.outputs(file.file_id):
            if output.target != target or output.state == "staging":
                continue
            if output.state == "intent":
                if delivery.staged(output.tmp_path):
                    delivery.publish(output.tmp_path, output.path)
                self.ledger.record_output(replace(output, state="published"))
            return True
        return False

    def _write(
        self, records: Iterable[Record], ctx: ReadContext, file: Inbound
    ) -> tuple[Counter[str], Counter[str]]:
        """Route every record to its targets' writers; return records per target and per type.

        A batched target's writer only tries each record (its refusals count like any other);
        the record itself is staged in the ledger for the target's next batch."""
        writers: dict[str, Writer] = {}
        batched: dict[str, list[str]] = {name: [] for name in self.trials}
        per_target: Counter[str] = Counter()
        per_type: Counter[str] = Counter()
        info = FileInfo(file.file_id, file.name)
        try:
            for record in records:
                self.heartbeat()
                per_type[record.doc_type] += 1
                names, finding = self.router.route(record, file.source)
                if finding is not None:
                    ctx.stage = "route"
                    ctx.add(finding.code, finding.message, value=finding.value, rule=finding.rule,
                            **finding.location)  # fmt: skip
                    continue
                for name in names:
                    if name not in writers:
                        writers[name] = self._writer(name, info, file)
                    for problem in writers[name].write(record):
                        ctx.stage = "write"
                        ctx.add(problem.code, problem.message, value=problem.value,
                                rule=problem.rule, **problem.location)  # fmt: skip
                    per_target[name] += 1
                    if name in batched:
                        waiting = batched[name]
                        waiting.append(record.to_json())
                        if len(waiting) >= STAGE_CHUNK:
                            self.ledger.stage_items(file.file_id, name, waiting, now())
                            waiting.clear()
            for name, waiting in batched.items():
                if waiting:
                    self.ledger.stage_items(file.file_id, name, waiting, now())
        finally:
            for writer in writers.values():
                writer.close()
        return per_target, per_type

    def _writer(self, name: str, info: FileInfo, file: Inbound) -> Writer:
        trial = self.trials.get(name)
        if trial is not None:
            return trial.writer(info, discard)
        return self.targets[name].writer(info, self._opener(file, name))

    def _opener(self, file: Inbound, target: str) -> Opener:
        delivery = self.deliveries[target]

        def open_output(name: str) -> Output:
            tmp = str(delivery.staging_path(name))
            row = OutputRow(file.file_id, target, name, tmp, "staging", 0, "")
            self.ledger.record_output(row)
            return delivery.open(name)

        return open_output

    def _discard_staged(self, row: FileRow) -> None:
        for output in self.ledger.outputs(row.file_id):
            if output.state == "staging":
                self.deliveries[output.target].discard(output.tmp_path)
        self.ledger.forget_outputs(row.file_id)

    def _publish(self, row: FileRow) -> Outcome:
        published = []
        for output in self.ledger.outputs(row.file_id):
            if output.state == "intent":
                delivery = self.deliveries[output.target]
                # Without its staged file the rename already happened before a crash.
                if delivery.staged(output.tmp_path):
                    delivery.publish(output.tmp_path, output.path)
            published.append(output.path)
        # Archiving before the commit is safe: a restart finds the file gone and moves on.
        archived = self._archive_file(row)
        self.ledger.accept(row.file_id, published, stage=None, work_path=None, detail=archived)
        return Outcome("accepted", row.records or 0, outputs=published)

    def _archive_file(self, row: FileRow) -> str | None:
        if row.work_path is None:
            return row.detail
        folder = self.config.folder("archive") / time.strftime("%Y-%m-%d", time.gmtime())
        folder.mkdir(parents=True, exist_ok=True)
        destination = folder / f"{row.file_id}.{row.original_name}"
        try:
            os.replace(row.work_path, destination)
            fsync_dir(folder)
        except FileNotFoundError:
            return row.detail  # archived before a crash; only the ledger was behind
        return str(destination)

    def archive(self, row: FileRow) -> None:
        """Move an accepted (or duplicate) original from work/ to archive/<date>/."""
        self.ledger.update(row.file_id, work_path=None, detail=self._archive_file(row))

    def _duplicate(
        self, row: FileRow, source: SourceConfig, same: str, bound: Any, what: str = "the same content"
    ) -> Outcome:
        bound.info("file_duplicate", same_as=same, what=what, policy=source.duplicates)
        if source.duplicates == "quarantine":
            finding = Finding(
                "duplicate", f"{what} was accepted before, as {same}", rule="source duplicates = quarantine"
            )
            return self._reject(row, "claim", [finding], row.format, row.encoding, bound)
        self.ledger.event(row.file_id, "duplicate_of", same_as=same, what=what)
        self.ledger.update(row.file_id, state="duplicate", detail=f"{what} as in {same}")
        self.archive(row)
        return Outcome("duplicate")

    def _reject(
        self,
        row: FileRow,
        stage: str,
        findings: list[Finding],
        fmt: str | None,
        encoding: str | None,
        bound: Any,
    ) -> Outcome:
        self._discard_staged(row)
        folder = quarantine.put(self.config, row, stage, findings, fmt, encoding)
        self.ledger.event(row.file_id, "file_quarantined", stage=stage,
                          errors=[f.to_dict() for f in findings[:50]])  # fmt: skip
        self.ledger.update(row.file_id, state="quarantined", stage=stage, work_path=None,
                           encoding=encoding, detail=str(folder))  # fmt: skip
        first = findings[0] if findings else Finding("unknown", "no finding")
        bound.warning("file_quarantined", stage=stage, errors=len(findings), code=first.code,
                      error=first.message)  # fmt: skip
        return Outcome("quarantined", findings=len(findings))
