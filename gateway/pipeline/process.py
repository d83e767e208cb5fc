"""One claimed file from detection to its single outcome: accepted, quarantined or duplicate;
then each target's share of an accepted file to its own outcome: published, batched or refused.

```
detect ─▶ decode ─▶ parse+validate ─▶ map ─▶ route ─▶ write (staged, per target) ─▶ commit
   any finding ─▶ quarantine                               ─▶ publish each target's share
                                                              a target's refusal ─▶ pair case
```

Every step that changes the world is recorded in the ledger before or after it in an order
that lets `process` be called again on the same file after a crash at any point: staged
outputs of an interrupted attempt are discarded and the file is read again; a committed file's
intents are completed; nothing already published is published again. A pair case (one target
refused a record of an accepted file) is reported under `quarantine/<file_id>/<target>/`;
`retry_pair` reads the archived original again and writes that target alone (pairs.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from structlog.contextvars import bound_contextvars

from gateway import plugins, quarantine
from gateway.canonical.records import Record
from gateway.config import Config, SourceConfig
from gateway.delivery.base import Deferring, Delivery, delivery_for
from gateway.delivery.local import fsync_dir, sync_files
from gateway.errors import ConfigError, Finding, RejectedFile, TransientError
from gateway.findings import Code, Severity
from gateway.formats.base import Acknowledging, Inbound, ReadContext, offloaded
from gateway.formats.detect import detect
from gateway.ledger.protocol import Commit, Share
from gateway.ledger.sqlite import FileRow, Ledger
from gateway.ledger.states import DeliveryState, FileState
from gateway.pipeline import acknowledgements
from gateway.pipeline.batching import Batcher
from gateway.pipeline.claim import claim as claim_file
from gateway.pipeline.group import Group, Prepared
from gateway.pipeline.readers import Readers
from gateway.pipeline.routing import Router
from gateway.pipeline.staging import Staged, Stager
from gateway.targets.base import Sequenced

log = structlog.get_logger("gateway")


@dataclass
class Outcome:
    """What happened to one file (or, for a pair's new attempt, to its one target)."""

    state: str
    records: int = 0
    format: str | None = None
    doc_types: dict[str, int] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    findings: int = 0
    refused: list[str] = field(default_factory=list)
    warnings: int = 0


def _processed(outcome: Outcome, started: float) -> None:
    log.info(
        "file_processed",
        outcome=outcome.state,
        format=outcome.format,
        records=outcome.records,
        doc_types=outcome.doc_types,
        outputs=len(outcome.outputs),
        findings=outcome.findings,
        warnings=outcome.warnings,
        refused_targets=outcome.refused,
        duration_ms=round((time.monotonic() - started) * 1000, 1),
    )


#: A file system name holds 255 bytes; an output or archived name adds the file id (29) and
#: a suffix to the input's name.
MAX_NAME_BYTES = 200


class Pipeline:
    """Processes claimed files, durably, for one configuration."""

    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        deliveries: Mapping[str, Delivery] | None = None,
        readers: Readers | None = None,
    ) -> None:
        self.config = config
        self.ledger = ledger
        #: Worker processes that read files ahead of the durable steps; None: read here.
        self.readers = readers
        #: Formats read_ahead detected for the files it left to this process (CSV).
        self.detected: dict[str, str] = {}
        self.targets = {t.name: plugins.target(t.format)(t) for t in config.targets}
        for target in self.targets.values():
            # Targets that number their documents (IDoc DOCNUMs) draw the numbers from the ledger.
            if isinstance(target, Sequenced):
                target.bind_sequence(ledger.next_sequence)
        # `deliveries` stand in for configured ones by target name (in-memory ones, in tests).
        configured = {t.name: delivery_for(t) for t in config.targets}
        self.deliveries: dict[str, Delivery] = {**configured, **(deliveries or {})}
        self.batcher = Batcher(config, ledger, self.targets, self.deliveries)
        # A batched target's records are tried at file time on an instance of their own, so
        # that the trial never draws from the ledger's sequences.
        trials = {t.name: plugins.target(t.format)(t) for t in config.targets if t.batched}
        router = Router(config)
        self.stager = Stager(ledger, router, self.targets, trials, self.deliveries, config.max_findings)

    def source_of(self, row: FileRow) -> SourceConfig:
        """The file's source as configured now (a source removed since is still served)."""
        try:
            return self.config.source(row.source)
        except ConfigError:
            return SourceConfig(name=row.source)

    def inbound(self, row: FileRow) -> Inbound:
        """A claimed file as its reader sees it."""
        assert row.work_path is not None and row.sha256 is not None
        return Inbound(row.file_id, Path(row.work_path), row.original_name, self.source_of(row),
                       row.sha256, row.size or 0)  # fmt: skip

    def read_ahead(self, rows: list[FileRow]) -> None:
        """Start reading claimed files in the worker processes, to be taken in this order: the
        files of formats whose records cost much less to move than to make (`offload`)."""
        self.detected.clear()  # the previous group's files have all been read
        if self.readers is None or self.readers.broken:
            return
        for row in rows:
            file = self.inbound(row)
            try:
                fmt = detect(file.path, file.name, file.source.format_by_name)
            except (RejectedFile, OSError):  # refused or postponed in its turn, here
                continue
            if offloaded(plugins.reader(fmt)):
                self.readers.submit(file, fmt)
            else:
                self.detected[file.file_id] = fmt

    def process(self, file_id: str) -> Outcome:
        """Take a file in `processing` or `publishing` state to its outcome."""
        outcome = self.join(file_id, None)
        assert outcome is not None
        return outcome

    def join(self, file_id: str, group: Group | None) -> Outcome | None:
        """`process`, except that a file to be accepted joins `group` instead (None):
        `complete` commits, publishes and archives the group's files together."""
        row = self.ledger.get(file_id)
        if row is None or row.work_path is None:
            raise KeyError(file_id)
        started = time.monotonic()
        with bound_contextvars(file_id=file_id, source=row.source, name=row.original_name):
            if row.state is FileState.PUBLISHING:
                outcome = self._finish([row])[0]
            else:
                attempt = self._attempt(row, started, group)
                if isinstance(attempt, Prepared) and group is not None:
                    group.add(attempt)
                    return None
                outcome = attempt if isinstance(attempt, Outcome) else self._commit([attempt])[0]
            if isinstance(outcome, Exception):
                raise outcome
            _processed(outcome, started)
        return outcome

    def complete(self, group: Group) -> None:
        """Commit, publish and archive the files of a group, each step once for all of them;
        a file that fails is handed to the group's `failed`."""
        pending, group.pending = group.pending, []
        unsynced, group.unsynced = group.unsynced, []
        group.shas.clear()
        group.keys.clear()
        if not pending:
            return
        for prepared, outcome in zip(pending, self._commit(pending, unsynced), strict=True):
            row = prepared.row
            with bound_contextvars(file_id=row.file_id, source=row.source, name=row.original_name):
                if isinstance(outcome, Exception):
                    group.failed(row.file_id, outcome)
                else:
                    _processed(outcome, prepared.started)

    def _attempt(self, row: FileRow, started: float, group: Group | None) -> Outcome | Prepared:
        """Read a file and stage its outputs: its outcome when it is refused, else what its
        commit will say."""
        if group is None or row.file_id not in group.fresh:  # fresh: no earlier attempt left anything
            self.stager.discard_staged(row.file_id)
        file = self.inbound(row)
        source = file.source
        assert row.sha256 is not None
        if group is not None and row.sha256 in group.shas:
            self.complete(group)  # the same content earlier in the group is accepted first
        same = self.ledger.accepted_with_sha(row.sha256, row.file_id)
        if same is not None:
            return self._duplicate(row, source, same)
        size = len(row.original_name.encode())
        if size > MAX_NAME_BYTES:
            finding = Finding(Code.NAME_TOO_LONG,
                              f"the file name is {size} bytes; outputs and the archive add the file id to it",
                              value=row.original_name, rule=f"at most {MAX_NAME_BYTES} bytes")  # fmt: skip
            return self._reject(row, "claim", [finding], None, None)
        ctx = ReadContext(file, self.config, format="unknown", stage="detect")
        try:
            with self._deferring(group):
                staged = self.stager.write(self._read(ctx), ctx, file)
            rejection = ctx.rejection()
            if rejection is not None and not self._split(row, source, ctx):
                raise rejection
        except RejectedFile as exc:
            self._acknowledge(ctx, file, exc.findings, None)
            findings = [*exc.findings, *ctx.warnings]
            return self._reject(row, exc.stage, findings, ctx.format, ctx.encoding_name, ctx.keys)
        except TransientError:
            self.stager.discard_staged(row.file_id)
            raise
        except Exception as exc:
            log.exception("reader_failed")
            finding = Finding(Code.INTERNAL_ERROR, f"the {ctx.format} reader failed: {exc!r}",
                              rule="a gateway bug: report it with this file")  # fmt: skip
            findings = [*ctx.findings, finding, *ctx.warnings]
            return self._reject(row, ctx.stage, findings, ctx.format, ctx.encoding_name, ctx.keys)
        if group is not None and group.keys.intersection(ctx.unique_keys):
            self.complete(group)
        for kind, value in ctx.unique_keys:
            same = self.ledger.accepted_with_key(kind, value, row.file_id)
            if same is not None:
                self.stager.discard_staged(row.file_id)
                return self._duplicate(row, source, same, f"{kind} {value}")
        self._acknowledge(ctx, file, ctx.findings, staged)
        acknowledgements.receive(self.ledger, row.file_id, ctx.acknowledgements)
        records = sum(staged.per_type.values())
        shares = self.stager.shares(row.file_id, staged)
        warnings = [w.to_dict() for w in ctx.warnings]
        commit = Commit(ctx.format, ctx.encoding_name, records, ctx.keys, shares, warnings)
        return Prepared(row, commit, dict(staged.per_type), list(ctx.unique_keys), started)

    def _read(self, ctx: ReadContext) -> Iterator[Record]:
        """The file's records, read in a worker process when there are workers."""
        remote = self.readers.take(ctx.file.file_id) if self.readers is not None else None
        if remote is not None:
            ctx.format = remote.format
            return remote.records(ctx)
        ctx.format = self.detected.pop(ctx.file.file_id, "") or detect(
            ctx.file.path, ctx.file.name, ctx.file.source.format_by_name
        )
        return plugins.reader(ctx.format)().read(ctx)

    @contextmanager
    def _deferring(self, group: Group | None) -> Iterator[None]:
        """While writing a file of `group`, its outputs leave their fsync to the group's commit."""
        deferring = [d for d in self.deliveries.values() if isinstance(d, Deferring)] if group else []
        for delivery in deferring:
            delivery.deferred = group.unsynced if group else None
        try:
            yield
        finally:
            for delivery in deferring:
                delivery.deferred = None

    def _commit(
        self, pending: list[Prepared], unsynced: list[Path] | None = None
    ) -> list[Outcome | Exception]:
        """Sync the outputs left `unsynced`, commit the files (one transaction), then publish,
        archive and accept them."""
        try:
            sync_files(unsynced or [])
            with self.ledger.group():
                for prepared in pending:
                    self.ledger.commit(prepared.row.file_id, prepared.commit)
        except Exception as exc:  # the files stay in processing, to be read again
            return [exc for _ in pending]
        rows = [self.ledger.get(p.row.file_id) for p in pending]
        outcomes = self._finish([row for row in rows if row is not None])
        for prepared, outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, Outcome):
                outcome.doc_types = prepared.doc_types
                outcome.format = prepared.commit.format
                outcome.warnings = len(prepared.commit.warnings)
        return outcomes

    def _split(self, row: FileRow, source: SourceConfig, ctx: ReadContext) -> bool:
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
            with bound_contextvars(file_id=part.file_id, name=name):
                self._reject(part, "validate", found, ctx.format, ctx.encoding_name)
        log.info("file_split", parts=len(parts))
        return True

    def _acknowledge(
        self, ctx: ReadContext, file: Inbound, findings: list[Finding], staged: Staged | None
    ) -> None:
        """Answer the sender when its source asks for it (`acknowledge_to` names the target whose
        delivery takes the answer) and the format can (EDIFACT CONTRL). An acceptance (with the
        attempt's `staged` outputs) is staged beside the file's other outputs; a rejection is
        published now, as the file is quarantined."""
        target = file.source.options.get("acknowledge_to")
        if not target or target not in self.deliveries or ctx.format not in plugins.names(plugins.FORMATS):
            return
        reader = plugins.reader(ctx.format)
        if not isinstance(reader, Acknowledging):
            return
        make = reader.acknowledgement
        if staged is None and self._answered(file.file_id, target):
            return
        try:
            answer = make(ctx, findings, self.ledger.next_sequence, staged is not None)
        except Exception:
            log.exception("acknowledgement_failed")
            return
        if answer is None:
            return
        name, data = answer
        out = self.stager.opener(file.file_id, target, staged)(name)
        out.write(data)
        out.close()
        if staged is None:
            # A rejection goes out now, as a delivery of its own under the same protocol.
            self.ledger.deliver(file.file_id, Share(target, DeliveryState.PUBLISHING))
            self._answered(file.file_id, target)
            log.info("acknowledgement_published", target=target, name=name, accepted=False)

    def _answered(self, file_id: str, target: str) -> bool:
        """Finish publishing a rejection's answer recorded by an earlier attempt of this file;
        True when there was one, so a crash and a second attempt never answer twice."""
        for delivery in self.ledger.deliveries(file_id=file_id):
            if delivery.target != target:
                continue
            if delivery.state is DeliveryState.PUBLISHING:
                self.stager.publish(file_id, target)
                self.ledger.delivered(file_id, target)
            return True
        return False

    def _finish(self, rows: list[FileRow]) -> list[Outcome | Exception]:
        """Publish every share the commits decided, report the refused ones, archive and accept
        the files: one fsync per folder and one transaction for all of them."""
        outcomes: list[Outcome | Exception] = []
        later: set[Deferring] = set()
        for row in rows:
            with bound_contextvars(file_id=row.file_id, source=row.source, name=row.original_name):
                try:
                    outcomes.append(self._publish(row, later))
                except Exception as exc:  # this file stays publishing, to be finished later
                    outcomes.append(exc)
        try:
            for delivery in later:
                delivery.sync()
        except Exception as exc:
            return [exc for _ in rows]
        folders: set[Path] = set()
        done = [row for row, outcome in zip(rows, outcomes, strict=True) if isinstance(outcome, Outcome)]
        try:
            archived = {row.file_id: self._archive_file(row, folders) for row in done}
            for folder in folders:
                fsync_dir(folder)
            # Archiving before the commit is safe: a restart finds the file gone and moves on.
            with self.ledger.group():
                for file_id, path in archived.items():
                    self.ledger.accept(file_id, path)
        except Exception as exc:  # published, not yet accepted: finished later (publishing)
            return [exc if isinstance(outcome, Outcome) else outcome for outcome in outcomes]
        return outcomes

    def _publish(self, row: FileRow, later: set[Deferring]) -> Outcome:
        published: list[str] = []
        refused: list[str] = []
        for delivery in self.ledger.deliveries(file_id=row.file_id):
            if delivery.state is DeliveryState.PUBLISHING:
                acknowledgements.record_sent(self.config, self.ledger, self.deliveries, row.file_id,
                                             delivery.target)  # fmt: skip
                published.extend(self.stager.publish(row.file_id, delivery.target, later))
            elif delivery.state is DeliveryState.REFUSED:
                refused.append(delivery.target)
                folder = quarantine.put_pair(self.config, row, delivery, self.ledger.keys(row.file_id))
                first = delivery.findings[0] if delivery.findings else {}
                log.warning("delivery_refused", target=delivery.target, errors=len(delivery.findings),
                            code=first.get("code"), error=first.get("message"), case=str(folder))  # fmt: skip
        return Outcome(FileState.ACCEPTED, row.records or 0, outputs=published, refused=refused)

    def _archive_file(self, row: FileRow, later: set[Path] | None = None) -> str | None:
        """Move the original into archive/<date>/; its folder is synced now, or by the caller
        when it gathers the folders in `later`."""
        if row.work_path is None:
            return row.detail
        folder = self.config.folder("archive") / time.strftime("%Y-%m-%d", time.gmtime())
        destination = folder / f"{row.file_id}.{row.original_name}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(row.work_path, destination)
            if later is None:
                fsync_dir(folder)
        except FileNotFoundError:
            return row.detail  # archived before a crash; only the ledger was behind
        except OSError as exc:
            # A full or read-only archive is the state root's state, not the file's fault.
            raise TransientError(f"cannot archive into {folder}: {exc.strerror}") from exc
        if later is not None:
            later.add(folder)
        return str(destination)

    def archive(self, row: FileRow) -> None:
        """Move an accepted (or duplicate) original from work/ to archive/<date>/."""
        self.ledger.archived(row.file_id, self._archive_file(row))

    def _duplicate(
        self, row: FileRow, source: SourceConfig, same: str, what: str = "the same content"
    ) -> Outcome:
        log.info("file_duplicate", same_as=same, what=what, policy=source.duplicates)
        if source.duplicates == "quarantine":
            finding = Finding(
                Code.DUPLICATE,
                f"{what} was accepted before, as {same}",
                rule="source duplicates = quarantine",
            )
            return self._reject(row, "claim", [finding], row.format, row.encoding)
        self.ledger.duplicate(row.file_id, same, what)
        self.archive(row)
        return Outcome(FileState.DUPLICATE)

    def _reject(
        self,
        row: FileRow,
        stage: str,
        findings: list[Finding],
        fmt: str | None,
        encoding: str | None,
        keys: list[tuple[str, str]] | None = None,
    ) -> Outcome:
        """Quarantine the file; the business keys read before the refusal go into its report
        and the ledger, so that `trace` and the quarantine filters find it by them."""
        self.stager.discard_staged(row.file_id)
        self.ledger.note_read(row.file_id, None if fmt == "unknown" else fmt, keys or [])
        folder = quarantine.put(self.config, row, stage, findings, fmt, encoding, keys or ())
        self.ledger.quarantine(row.file_id, stage, [f.to_dict() for f in findings], str(folder), encoding)
        first = findings[0] if findings else Finding(Code.UNKNOWN, "no finding")
        errors = [f for f in findings if f.severity is Severity.ERROR]
        log.warning("file_quarantined", stage=stage, errors=len(errors), code=first.code,
                    error=first.message, warnings=len(findings) - len(errors))  # fmt: skip
        return Outcome(FileState.QUARANTINED, findings=len(errors), warnings=len(findings) - len(errors))
