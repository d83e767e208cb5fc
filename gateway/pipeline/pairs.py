"""Pair cases: one target's share of an accepted file, refused, retried or finished on its own.

A retry is a new attempt of the pair, linked to the refused one in the ledger: the archived
original is read again with today's schemas and configuration, its records are routed again,
and only those for the pair's target are written, under the same staging, intent and publish
steps as a file's outputs. A route changed since (the remedy "route it elsewhere") may leave
nothing for the target: the pair is then done with nothing to publish.

```
refused ─▶ retried          (the old attempt)
           writing ─▶ publishing ─▶ published
                   ├─▶ batched
                   └─▶ refused   (its case is reported again, with today's findings)
```

A crash in `writing` makes the attempt again; one in `publishing` finishes the renames.
"""

from __future__ import annotations

from pathlib import Path

import structlog
from structlog.contextvars import bound_contextvars

from gateway import plugins, quarantine
from gateway.errors import Finding, RejectedFile, TransientError
from gateway.findings import Code
from gateway.formats.base import Inbound, ReadContext
from gateway.formats.detect import detect
from gateway.ledger.protocol import DeliveryRow, FileRow, Share
from gateway.ledger.states import UNFINISHED_DELIVERIES, DeliveryState, FileState
from gateway.pipeline import acknowledgements
from gateway.pipeline.process import Outcome, Pipeline

log = structlog.get_logger("gateway")


def retry(pipeline: Pipeline, file_id: str, target: str) -> Outcome:
    """A new attempt of a refused pair; KeyError when there is no such case."""
    row = pipeline.ledger.get(file_id)
    cases = pipeline.ledger.deliveries(DeliveryState.REFUSED, file_id=file_id)
    if row is None or row.state is not FileState.ACCEPTED or target not in {c.target for c in cases}:
        raise KeyError(f"{file_id}/{target}")
    if target not in pipeline.deliveries:
        raise KeyError(f"{file_id}/{target}: no target {target!r} is configured")
    attempt = pipeline.ledger.retry_delivery(file_id, target)
    return finish(pipeline, row, attempt)


def resume(pipeline: Pipeline) -> bool:
    """Finish the pairs' attempts a crash or a destination that was down left half done (those
    of accepted files: a file still publishing finishes its own); True when all went through."""
    clean = True
    for delivery in pipeline.ledger.deliveries(*UNFINISHED_DELIVERIES):
        row = pipeline.ledger.get(delivery.file_id)
        if row is None or row.state is not FileState.ACCEPTED or delivery.target not in pipeline.deliveries:
            continue
        try:
            finish(pipeline, row, delivery)
        except TransientError as exc:
            log.warning("delivery_postponed", file_id=row.file_id, target=delivery.target, error=str(exc))
            clean = False
    return clean


def finish(pipeline: Pipeline, row: FileRow, delivery: DeliveryRow) -> Outcome:
    """Take one attempt of a pair from `writing` or `publishing` to its outcome."""
    target = delivery.target
    with bound_contextvars(file_id=row.file_id, source=row.source, name=row.original_name, target=target):
        if delivery.state is DeliveryState.WRITING:
            share = _write(pipeline, row, target)
            pipeline.ledger.deliver(row.file_id, share)
        else:
            share = Share(target, delivery.state, delivery.records)
        outputs: list[str] = []
        state = share.state
        if share.state is DeliveryState.REFUSED:
            refreshed = pipeline.ledger.deliveries(DeliveryState.REFUSED, file_id=row.file_id)
            case = next(d for d in refreshed if d.target == target)
            quarantine.put_pair(pipeline.config, row, case, pipeline.ledger.keys(row.file_id))
            log.warning("delivery_refused", errors=len(share.findings), code=share.findings[0].get("code"))
        else:
            if share.state is DeliveryState.PUBLISHING:
                acknowledgements.record_sent(pipeline.config, pipeline.ledger, pipeline.deliveries,
                                             row.file_id, target)  # fmt: skip
                outputs = pipeline.stager.publish(row.file_id, target)
                pipeline.ledger.delivered(row.file_id, target)
                state = DeliveryState.PUBLISHED
            quarantine.close_pair(pipeline.config, row.file_id, target)
            log.info("delivery_finished", outcome=state, records=share.records, outputs=len(outputs))
    return Outcome(state, share.records, row.format, outputs=outputs, findings=len(share.findings))


def _write(pipeline: Pipeline, row: FileRow, target: str) -> Share:
    """Read the archived original again and write the pair's target alone."""
    pipeline.stager.discard_staged(row.file_id, target)
    original = Path(row.detail or "")
    if not row.detail or not original.is_file():
        finding = Finding(Code.ORIGINAL_MISSING, f"the archived original {row.detail} is gone",
                          rule="a pair is retried from the file's archived original")  # fmt: skip
        return Share(target, DeliveryState.REFUSED, 0, [finding.to_dict()])
    source = pipeline.source_of(row)
    file = Inbound(row.file_id, original, row.original_name, source, row.sha256 or "", row.size or 0)
    ctx = ReadContext(file, pipeline.config, format="unknown", stage="detect")
    try:
        ctx.format = detect(file.path, file.name, source.format_by_name)
        staged = pipeline.stager.write(plugins.reader(ctx.format)().read(ctx), ctx, file, only=target)
        rejection = ctx.rejection()
        if rejection is not None:
            raise rejection
    except RejectedFile as exc:
        pipeline.stager.discard_staged(row.file_id, target)
        return Share(target, DeliveryState.REFUSED, 0, [f.to_dict() for f in exc.findings])
    except TransientError:
        pipeline.stager.discard_staged(row.file_id, target)
        raise
    shares = pipeline.stager.shares(row.file_id, staged)
    return shares[0] if shares else Share(target, DeliveryState.PUBLISHING, 0)
