"""What `gateway status` and `gateway trace` tell an operator, read from the ledger and folders."""

from __future__ import annotations

import json
from typing import Any

from gateway import incidents, quarantine
from gateway.cli import health
from gateway.config import Config, TargetConfig
from gateway.errors import Finding, LedgerFull
from gateway.ledger.engines import has_ledger, open_ledger
from gateway.ledger.protocol import Backlog, BatchRow
from gateway.ledger.sqlite import NEARLY_FULL, Ledger, room
from gateway.ledger.states import BatchState, DeliveryState


def status(config: Config) -> dict[str, Any]:
    """Per source: reachable, last poll, files by state; quarantine size; last errors."""
    polls: dict[str, dict[str, Any]] = {}
    counts: dict[str, dict[str, int]] = {}
    batches: list[dict[str, Any]] = []
    orphans: dict[str, int] = {}
    pairs: dict[str, int] = {}
    postponed: list[dict[str, str]] = []
    warned: dict[str, dict[str, int]] = {}
    ops: dict[str, Any] = {}
    instances: list[dict[str, Any]] = []
    unopened = None
    ledger: Ledger | None = None
    if has_ledger(config):
        try:
            ledger = open_ledger(config)
        except LedgerFull as exc:  # what can be said without the ledger still is
            unopened = str(exc)
    if ledger is not None:
        try:
            instances = health.instances(ledger, config)
            postponed = incidents.postponed(ledger)
            ops = health.operations(config, ledger, postponed)
            polls, counts, warned = ledger.source_rows(), ledger.counts(), ledger.warning_counts()
            backlogs = ledger.backlogs()
            batched = [t for t in config.targets if t.batched or t.name in backlogs]
            batches = [_batches(ledger, t, backlogs) for t in batched]
            configured = {t.name for t in config.targets}
            orphans = {name: b.records for name, b in backlogs.items() if name not in configured}
            for case in ledger.deliveries(DeliveryState.REFUSED):
                pairs[case.target] = pairs.get(case.target, 0) + 1
        finally:
            ledger.close()
    sources = []
    for source in config.sources:
        poll = polls.get(source.name, {})
        local_ok = source.type == "local" and source.path.is_dir()
        reachable = bool(poll["reachable"]) if poll else local_ok
        sources.append({
            "name": source.name,
            "type": source.type,
            "side": source.side,
            "reachable": reachable,
            "last_poll": poll.get("last_poll"),
            "last_error": poll.get("last_error"),
            "files": counts.get(source.name, {}),
            "warnings": warned.get(source.name, {"files": 0, "warnings": 0}),
        })  # fmt: skip
    waiting = quarantine.entries(config)
    return {
        "state_dir": str(config.state_dir),
        # A full ledger disk stops all progress without a ledger row to say so: the free space
        # itself is the evidence.
        "disk_full": config.state_dir.is_dir() and room(config.state_dir) < NEARLY_FULL,
        "ledger_error": unopened,
        "ledger": (config.ledger or str(config.ledger_path)) if has_ledger(config) else None,
        "instances": instances,
        **ops,
        "sources": sources,
        "batches": batches,
        "batch_records_without_target": orphans,
        "quarantine": len([e for e in waiting if e.target is None]),
        "pair_cases": pairs,
        "postponed": postponed,
        "last_errors": [
            {"file_id": e.file_id, "target": e.target, "source": e.source, "stage": e.stage,
             "error": e.first_error}
            for e in waiting[-5:]
        ],
    }


def _batches(ledger: Ledger, target: TargetConfig, backlogs: dict[str, Backlog]) -> dict[str, Any]:
    backlog = backlogs.get(target.name, Backlog(0, None))
    open_batches = ledger.batches(BatchState.WRITING, BatchState.PUBLISHING)
    unpublished = [b for b in open_batches if b.target == target.name]
    return {
        "target": target.name,
        "batch_size": target.batch_size,
        "batch_window": target.batch_window,
        "waiting_records": backlog.records,
        "waiting_since": backlog.first_at,
        "unpublished_batches": [b.batch_id for b in unpublished],
        "refused_records": ledger.refused_items(target.name),
    }


def render_status(data: dict[str, Any]) -> str:
    """The status for a person."""
    lines = [f"state: {data['state_dir']}"]
    if data.get("disk_full"):
        lines.append(f"disk FULL: less than {NEARLY_FULL >> 20} MiB free under the state root; files wait"
                     " (nothing is lost) until there is room")  # fmt: skip
    if data.get("ledger_error"):
        lines.append(f"ledger: {data['ledger_error']}")
    elif data["ledger"] is None:
        lines.append("ledger: none yet: no gateway has run on this root (`gateway run` creates it)")
    else:
        lines += health.render(data)
    for i in data.get("instances", []):
        lines.append(f"instance {i['instance']} (host {i['host']}, pid {i['pid']}): {i['claims']} claim(s),"
                     f" heartbeat {i['heartbeat_at']}")  # fmt: skip
    for s in data["sources"]:
        files = ", ".join(f"{n} {state}" for state, n in sorted(s["files"].items())) or "no files yet"
        reach = "reachable" if s["reachable"] else "UNREACHABLE"
        poll = s["last_poll"] or "never"
        warned = s.get("warnings") or {}
        if warned.get("warnings"):
            files += f"; {warned['warnings']} warning(s) in {warned['files']} file(s)"
        lines.append(f"source {s['name']} ({s['type']}, {s['side']}): {reach}, last poll {poll}; {files}")
        if s["last_error"]:
            lines.append(f"  last error: {s['last_error']}")
    for b in data.get("batches", []):
        since = f" since {b['waiting_since']}" if b["waiting_since"] else ""
        line = f"batches {b['target']}: {b['waiting_records']} record(s) waiting{since}"
        if b["unpublished_batches"]:
            line += f"; {len(b['unpublished_batches'])} batch(es) waiting to be published"
        if b["refused_records"]:
            line += f"; {b['refused_records']} record(s) REFUSED (see trace)"
        lines.append(line)
    for name, n in data.get("batch_records_without_target", {}).items():
        lines.append(f"batches {name}: {n} record(s) waiting for a target no longer configured")
    for p in data.get("postponed", []):
        lines.append(f"waiting: {p['file_id']} {p['name']} since {p['since']}: {p['error']}")
    lines.append(f"quarantine: {data['quarantine']} file(s)")
    for target, n in sorted(data["pair_cases"].items()):
        lines.append(f"  target {target}: {n} accepted file(s) it refused (pair cases)")
    for e in data["last_errors"]:
        case = e["file_id"] if e["target"] is None else f"{e['file_id']}/{e['target']}"
        lines.append(f"  {case} [{e['stage']}] {e['error']}")
    return "\n".join(lines)


def trace(ledger: Ledger, query: str) -> str:
    """Every matching file's (or batch's) timeline, outputs and keys; empty when nothing matches."""
    batch = ledger.batch(query)
    blocks = [] if batch is None else [_trace_batch(ledger, batch)]
    for row in ledger.find(query):
        lines = [
            f"{row.file_id}  {row.original_name}  ({row.source})  state {row.state}",
            f"  sha256 {row.sha256}  size {row.size}  format {row.format}  encoding {row.encoding}",
        ]
        if row.retry_of:
            lines.append(f"  retry of {row.retry_of}")
        for at, event, detail in ledger.events(row.file_id):
            extra = json.dumps(detail, ensure_ascii=False) if detail else ""
            lines.append(f"  {at}  {event}  {extra}".rstrip())
        for a in ledger.actions(row.file_id):
            outcome = f"{a.state} {a.done_at}: {a.result}" if a.done_at else str(a.state)
            lines.append(f"  operator {a.action} of {a.case_id} by {a.who} at {a.requested_at}"
                         f" because {a.reason!r}: {outcome}")  # fmt: skip
        for d in ledger.deliveries(file_id=row.file_id):
            lines.append(f"  delivery {d.target} #{d.attempt}: {d.state} ({d.records} records)")
        for output in ledger.outputs(row.file_id):
            lines.append(
                f"  output {output.state}: {output.path} ({output.target}, {output.records} records)"
            )
        for sent in ledger.interchanges(file_id=row.file_id):
            answer = f" by {sent.ack_file_id} at {sent.ack_at}: {sent.detail}" if sent.ack_file_id else ""
            due = f", due {sent.due_at}" if sent.due_at and not sent.ack_file_id else ""
            lines.append(f"  interchange {sent.control_ref} to {sent.partner} ({sent.target}):"
                         f" {sent.state.upper()}{due}{answer}")  # fmt: skip
        for target, batch_id, records in ledger.file_batches(row.file_id):
            lines.append(f"  batched for {target}: {batch_id or 'waiting for its batch'} ({records} records)")
        for warning in ledger.warnings(row.file_id):
            lines.append("  " + Finding.from_dict(warning).render(row.original_name))
        keys = ledger.keys(row.file_id)
        if keys:
            lines.append("  keys: " + ", ".join(f"{k}={v}" for k, v in keys))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _trace_batch(ledger: Ledger, batch: BatchRow) -> str:
    lines = [
        f"batch {batch.batch_id}  ({batch.target})  state {batch.state}  {batch.records} records",
        f"  first record {batch.first_at}  closed {batch.closed_at}  published {batch.published_at}",
    ]
    lines.extend(f"  file {file_id}" for file_id in ledger.batch_files(batch.batch_id))
    lines.extend(f"  output {state}: {path}" for path, _, state in ledger.batch_outputs(batch.batch_id))
    return "\n".join(lines)
