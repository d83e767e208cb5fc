"""Staging: one attempt's records routed to their targets' writers, each output under a
temporary name recorded in the ledger, each target's refusals kept apart.

A target that refuses a record does not stop the others: what it refused becomes its share's
findings (a pair case), and its staged outputs are dropped when the file is committed. A
batched target's writer only tries each record; the record itself is staged in the ledger for
the target's next batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from gateway.canonical.records import Record
from gateway.delivery.base import Deferring, Delivery
from gateway.errors import DeliveryFailed, Finding
from gateway.formats.base import Inbound, ReadContext
from gateway.ledger.protocol import Share, now
from gateway.ledger.sqlite import Ledger
from gateway.ledger.states import DeliveryState, OutputState
from gateway.pipeline.batching import discard
from gateway.pipeline.routing import Router
from gateway.targets.base import FileInfo, Opener, Output, Target, Writer

#: Records staged for a batch per ledger transaction: few commits, bounded memory.
STAGE_CHUNK = 500


@dataclass
class Staged:
    """What one attempt wrote: records per target and per type, and each target's refusals."""

    per_target: Counter[str] = field(default_factory=Counter)
    per_type: Counter[str] = field(default_factory=Counter)
    refusals: dict[str, list[Finding]] = field(default_factory=dict)
    opened: set[str] = field(default_factory=set)


class Stager:
    """Writes the routed records of one attempt of a file (or of one pair) into staging."""

    def __init__(
        self,
        ledger: Ledger,
        router: Router,
        targets: Mapping[str, Target],
        trials: Mapping[str, Target],
        deliveries: Mapping[str, Delivery],
        max_findings: int,
    ) -> None:
        self.ledger = ledger
        self.router = router
        self.targets = targets
        self.trials = trials
        self.deliveries = deliveries
        self.max_findings = max_findings
        #: Called between records, so a watchdog sees a long file as progress (service.py).
        self.heartbeat: Callable[[], None] = lambda: None

    def write(
        self, records: Iterable[Record], ctx: ReadContext, file: Inbound, only: str | None = None
    ) -> Staged:
        """Route every record to its targets' writers (to `only`, for a pair's new attempt,
        where routing findings are the whole file's business and not the pair's)."""
        staged = Staged()
        writers: dict[str, Writer] = {}
        batched: dict[str, list[str]] = {name: [] for name in self.trials if only in (None, name)}
        info = FileInfo(file.file_id, file.name)
        # Routing findings join the reader's once it is done: a reader stops mapping at its own
        # findings, so that where it reads (here or in a worker) changes nothing it reports.
        unrouted: list[Finding] = []
        try:
            for read in records:
                self.heartbeat()
                record = ctx.warned(read)
                staged.per_type[record.doc_type] += 1
                names, finding = self.router.route(record, file.source)
                if finding is not None:
                    if only is None and len(unrouted) <= self.max_findings:
                        unrouted.append(finding)
                    continue
                for name in names if only is None else [n for n in names if n == only]:
                    if name not in writers:
                        writers[name] = self._writer(name, info, file, staged)
                    problems = writers[name].write(record)
                    if problems:
                        kept = staged.refusals.setdefault(name, [])
                        kept.extend(problems[: max(0, self.max_findings - len(kept))])
                    staged.per_target[name] += 1
                    if name in batched:
                        waiting = batched[name]
                        waiting.append(record.to_json())
                        if len(waiting) >= STAGE_CHUNK:
                            self.ledger.stage_items(file.file_id, name, waiting, now())
                            waiting.clear()
            for name, waiting in batched.items():
                if waiting:
                    self.ledger.stage_items(file.file_id, name, waiting, now())
            for found in unrouted:
                ctx.stage = "route"
                ctx.add(found.code, found.message, value=found.value, rule=found.rule, **found.location)
        finally:
            for writer in writers.values():
                writer.close()
        return staged

    def shares(self, file_id: str, staged: Staged) -> list[Share]:
        """Each touched target's share: a refusing one's staged outputs are deleted now (the
        ledger forgets them at the commit), a batched one waits for its batch."""
        shares = []
        for name in sorted(set(staged.per_target) | staged.opened | set(staged.refusals)):
            records = staged.per_target[name]
            refused = staged.refusals.get(name)
            if refused:
                self.discard_staged(file_id, name)
                findings = [f.to_dict() for f in refused]
                shares.append(Share(name, DeliveryState.REFUSED, records, findings))
            elif name in self.trials and name not in staged.opened:
                shares.append(Share(name, DeliveryState.BATCHED, records))
            else:
                shares.append(Share(name, DeliveryState.PUBLISHING, records))
        return shares

    def _writer(self, name: str, info: FileInfo, file: Inbound, staged: Staged) -> Writer:
        trial = self.trials.get(name)
        if trial is not None:
            return trial.writer(info, discard)
        return self.targets[name].writer(info, self.opener(file.file_id, name, staged))

    def opener(self, file_id: str, target: str, staged: Staged | None = None) -> Opener:
        """Opens a target's outputs for a file, each recorded as staging before it exists."""
        delivery = self.deliveries[target]

        def open_output(name: str) -> Output:
            self.ledger.stage_output(file_id, target, name, str(delivery.staging_path(name)))
            if staged is not None:
                staged.opened.add(target)
            try:
                return delivery.open(name)
            except DeliveryFailed as exc:
                exc.target = target
                raise

        return open_output

    def discard_staged(self, file_id: str, target: str | None = None) -> None:
        """Delete the temporary files of an attempt's staged outputs, then forget them."""
        for output in self.ledger.outputs(file_id, target):
            if output.state is OutputState.STAGING and output.target in self.deliveries:
                self.deliveries[output.target].discard(output.tmp_path)
        self.ledger.forget_staged(file_id, target)

    def publish(self, file_id: str, target: str, later: set[Deferring] | None = None) -> list[str]:
        """Rename a target's intended outputs for a file (again after a crash: a missing
        temporary file means the rename already happened); their names. A delivery that can
        defer its sync joins `later`, whose syncs the caller makes before the ledger hears."""
        delivery = self.deliveries[target]
        names = []
        for output in self.ledger.outputs(file_id, target):
            if output.state is OutputState.INTENT and delivery.staged(output.tmp_path):
                try:
                    if later is not None and isinstance(delivery, Deferring):
                        delivery.rename(output.tmp_path, output.path)
                        later.add(delivery)
                    else:
                        delivery.publish(output.tmp_path, output.path)
                except DeliveryFailed as exc:
                    exc.target = target
                    raise
            names.append(output.path)
        return names
