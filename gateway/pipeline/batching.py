"""Cross-file batches: one output for the records of many input files, by size or time window.

A target with `batch_size` or `batch_window` does not write at file time. The pipeline checks
each record against the target's writer (a refusal makes the file and the target a case of
their own, pairs.py) and keeps it in the ledger; the file is accepted. A batch closes when
`batch_size` records wait or the oldest has waited `batch_window` seconds (`run --once` closes
every open batch before it exits).
Closing gathers the records, writes them through the target's ordinary writer under the batch's
id, and publishes the outputs under the same staging, intent and publish steps as a file's:

```
pending records ─▶ close ─▶ writing ─▶ publishing ─▶ published
                    (ledger)  (staged)    (intents)     (renamed; files' timelines note it)
```

A crash while writing writes the batch again; one while publishing finishes the renames. A
record the writer refuses only in company (the same document twice, which the consumer would
merge) waits for the next batch; one refused outright (the configuration changed since its file
was accepted) is set aside, logged, noted in its file's timeline and counted by `status`, and
tried again when the service next starts, with the configuration fixed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from gateway.canonical.build import record_from_dict
from gateway.config import Config, TargetConfig
from gateway.delivery.base import Delivery
from gateway.errors import Finding, TransientError
from gateway.findings import Code
from gateway.ledger.protocol import BatchRow, new_file_id, now
from gateway.ledger.sqlite import Ledger
from gateway.ledger.states import BatchState, OutputState
from gateway.targets.base import FileInfo, Opener, Output, Target

log = structlog.get_logger("gateway")

#: Refusals that only say the record cannot share an output with another one.
DEFERRABLE = {Code.DUPLICATE_DOCUMENT}


class Discard:
    """An output that keeps nothing: the pipeline's trial write of a batched target."""

    def write(self, data: bytes, /) -> int:
        return len(data)

    def close(self) -> None:
        return None


def discard(_name: str) -> Output:
    """An `Opener` whose outputs go nowhere."""
    return Discard()


class Batcher:
    """Closes, writes and publishes the batches of the batched targets of one configuration."""

    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        targets: Mapping[str, Target],
        deliveries: Mapping[str, Delivery],
    ) -> None:
        self.ledger = ledger
        self.targets = targets
        self.deliveries = deliveries
        self.age = Ages()
        waiting = ledger.backlogs()
        # A target whose batching was switched off still sends what it had gathered, at once.
        self.batched: dict[str, TargetConfig] = {
            t.name: t for t in config.targets if t.batched or t.name in waiting
        }
        for name in sorted(set(waiting) - {t.name for t in config.targets}):
            log.warning("batch_target_gone", target=name, records=waiting[name].records,
                        hint="restore the target to send these records")  # fmt: skip

    def next_due(self) -> float | None:
        """Seconds until the earliest open batch's window closes (0 when one is due now)."""
        if not self.batched:
            return None
        due = []
        blocked = self._blocked()
        backlogs = self.ledger.backlogs()
        for name, target in self.batched.items():
            backlog = backlogs.get(name)
            if backlog is None or backlog.first_at is None or name in blocked:
                continue
            due.append(max(0.0, (target.batch_window or 0.0) - self.age(backlog.first_at)))
        return min(due, default=None)

    def flush(self, *, force: bool = False) -> None:
        """Close and publish every batch that is full or whose window has passed (every open
        one with `force`). A target whose earlier batch still waits for `resume` (its
        destination was down) closes none, so its batches go out in order."""
        if not self.batched:
            return
        blocked = self._blocked()
        for name, target in self.batched.items():
            if name in blocked:
                continue
            try:
                self._flush(name, target, force)
            except TransientError as exc:
                log.warning("batch_postponed", target=name, error=str(exc))
            except Exception:
                log.exception("batch_failed", target=name)

    def _flush(self, name: str, target: TargetConfig, force: bool) -> None:
        while True:
            backlog = self.ledger.backlogs().get(name)
            if backlog is None or not backlog.records or backlog.first_at is None:
                return
            full = target.batch_size is not None and backlog.records >= target.batch_size
            late = self.age(backlog.first_at) >= (target.batch_window or 0.0)
            if not (force or full or late):
                return
            batch = self.ledger.close_batch(new_file_id(), name, target.batch_size, now())
            if batch is None:
                return
            self.age.forget(backlog.first_at)
            log.info("batch_closed", batch_id=batch.batch_id, target=name, records=batch.records,
                     reason="full" if full else "window" if late else "drain")  # fmt: skip
            self.finish(batch)

    def requeue(self) -> None:
        """At start-up, give the records refused under an earlier configuration another try:
        they passed the target's checks when their file was accepted, so only a configuration
        change refuses them, and the configuration is read at start."""
        for name in self.batched:
            count = self.ledger.requeue_refused(name)
            if count:
                log.warning("batch_records_requeued", target=name, records=count)

    def resume(self) -> bool:
        """Finish the batches a crash or an unreachable destination left half done; True when
        every one went out."""
        clean = True
        for batch in self.ledger.batches(BatchState.WRITING, BatchState.PUBLISHING):
            try:
                self.finish(batch)
            except TransientError as exc:
                log.warning("batch_postponed", batch_id=batch.batch_id, target=batch.target, error=str(exc))
                clean = False
            except Exception:
                log.exception("batch_failed", batch_id=batch.batch_id, target=batch.target)
                clean = False
        return clean

    def _blocked(self) -> set[str]:
        return {batch.target for batch in self.ledger.batches(BatchState.WRITING, BatchState.PUBLISHING)}

    def finish(self, batch: BatchRow) -> None:
        """Take a closed batch to published (raises TransientError when delivery is down)."""
        if batch.state is BatchState.WRITING:
            self._write(batch)
        self._publish(batch)

    def _write(self, batch: BatchRow) -> None:
        # Each pass that refuses a record writes the batch again without it: an output is
        # never published with half a document in it.
        while True:
            self._discard_staged(batch)
            refused = self._write_once(batch)
            if not refused:
                break
            deferred = [item for item, _, found in refused if {f.code for f in found} <= DEFERRABLE]
            self.ledger.set_aside(batch.batch_id, deferred, [i for i, _, _ in refused if i not in deferred])
            for item, file_id, found in refused:
                if item in deferred:
                    continue
                errors = [f.to_dict() for f in found]
                log.error("batch_record_refused", batch_id=batch.batch_id, target=batch.target,
                          file_id=file_id, errors=errors)  # fmt: skip
                self.ledger.event(file_id, "batch_record_refused", target=batch.target,
                                  batch_id=batch.batch_id, errors=errors)  # fmt: skip
        self.ledger.intend_batch(batch.batch_id)

    def _write_once(self, batch: BatchRow) -> list[tuple[int, str, list[Finding]]]:
        writer = self.targets[batch.target].writer(FileInfo(batch.batch_id, "batch"), self._opener(batch))
        refused = []
        try:
            for item, file_id, text in self.ledger.batch_records(batch.batch_id):
                found = writer.write(record_from_dict(json.loads(text)))
                if found:
                    refused.append((item, file_id, found))
        finally:
            writer.close()
        return refused

    def _opener(self, batch: BatchRow) -> Opener:
        delivery = self.deliveries[batch.target]

        def open_output(name: str) -> Output:
            tmp = str(delivery.staging_path(name))
            self.ledger.stage_batch_output(batch.batch_id, batch.target, name, tmp)
            return delivery.open(name)

        return open_output

    def _discard_staged(self, batch: BatchRow) -> None:
        delivery = self.deliveries[batch.target]
        for _, tmp, state in self.ledger.batch_outputs(batch.batch_id):
            if state is OutputState.STAGING:
                delivery.discard(tmp)
        self.ledger.forget_batch_outputs(batch.batch_id)

    def _publish(self, batch: BatchRow) -> None:
        delivery = self.deliveries[batch.target]
        published = []
        for path, tmp, _ in self.ledger.batch_outputs(batch.batch_id):
            # Without its staged file the rename already happened before a crash.
            if delivery.staged(tmp):
                delivery.publish(tmp, path)
            published.append(path)
        detail = json.dumps({"batch_id": batch.batch_id, "target": batch.target, "outputs": published})
        files = self.ledger.batch_files(batch.batch_id)
        self.ledger.publish_batch(batch.batch_id, now(), [(f, detail) for f in files])
        log.info("batch_published", batch_id=batch.batch_id, target=batch.target, files=len(files),
                 outputs=published)  # fmt: skip


class Ages:
    """How long a batch's oldest record has waited, on a clock that never jumps.

    The ledger's stamps are wall time, which NTP or an operator can step backwards (a window
    would stall) or forwards. A stamp's wall-clock age is read once, when this process first
    sees it (never below zero), and from then on only the monotonic clock adds to it.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.first_seen: dict[str, tuple[float, float]] = {}  # stamp -> (clock then, age then)

    def __call__(self, stamp: str) -> float:
        """Seconds since `stamp` (an ISO 8601 ledger time)."""
        seen = self.first_seen.get(stamp)
        if seen is None:
            wall = (datetime.fromisoformat(now()) - datetime.fromisoformat(stamp)).total_seconds()
            seen = self.first_seen[stamp] = (self.clock(), max(0.0, wall))
        return seen[1] + self.clock() - seen[0]

    def forget(self, stamp: str) -> None:
        """Forget a stamp whose batch has closed."""
        self.first_seen.pop(stamp, None)
