"""What is wrong right now, read from the ledger and the configuration: the conditions that
alerts are sent about (alerts.py), each named by its kind and a key that stays the same for as
long as the condition lasts.

- `quarantine`: a refused file (key: its id) or a refused pair (`<file_id>/<target>`);
- `delivery`: a file whose outputs a destination would not take (key: the file id);
- `source`: a source the last poll could not reach (key: its name);
- `expect`: an `[[expect]]` rule whose latest deadline passed without its files (key: the rule);
- `ack`: a partner with overdue acknowledgements (`overdue:<partner>`), or whose last answer
  was a rejection (`rejected:<partner>`, until it acknowledges a later interchange).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway import expectations
from gateway.config import Config
from gateway.ledger.sqlite import Ledger
from gateway.ledger.states import DeliveryState, FileState, InterchangeState


@dataclass(frozen=True)
class Condition:
    """Something wrong now; an alert once it has lasted `minutes`."""

    kind: str
    key: str
    summary: str
    minutes: float = 0.0


def postponed(ledger: Ledger) -> list[dict[str, str]]:
    """Files waiting for a destination, the archive or the quarantine (full, read-only, down);
    `target` names the failing destination when it is known, else it is empty."""
    waiting = []
    for row in ledger.files(FileState.PROCESSING, FileState.PUBLISHING):
        events = ledger.events(row.file_id)
        if events and events[-1][1] == "file_postponed":
            at, _, detail = events[-1]
            waiting.append({"file_id": row.file_id, "name": row.original_name, "since": at,
                            "error": str(detail.get("error")),
                            "target": str(detail.get("target") or "")})  # fmt: skip
    return waiting


def _quarantine(ledger: Ledger) -> list[Condition]:
    found = [
        Condition("quarantine", row.file_id,
                  f"{row.original_name} from {row.source} quarantined at {row.stage}")
        for row in ledger.files(FileState.QUARANTINED)
    ]  # fmt: skip
    found += [
        Condition("quarantine", f"{d.file_id}/{d.target}",
                  f"target {d.target} refused {d.records} record(s) of {d.file_id}")
        for d in ledger.deliveries(DeliveryState.REFUSED)
    ]  # fmt: skip
    return found


def _acks(ledger: Ledger) -> list[Condition]:
    found = []
    last: dict[str, tuple[str, str, str]] = {}
    overdue: dict[str, int] = {}
    answered = (InterchangeState.ACKNOWLEDGED, InterchangeState.REJECTED, InterchangeState.OVERDUE)
    for sent in ledger.interchanges(*answered):
        if sent.state == InterchangeState.OVERDUE:
            overdue[sent.partner] = overdue.get(sent.partner, 0) + 1
        else:
            previous = last.get(sent.partner)
            if previous is None or previous[0] < sent.sent_at:
                last[sent.partner] = (sent.sent_at, sent.state, f"{sent.control_ref}: {sent.detail}")
    for partner, n in sorted(overdue.items()):
        found.append(Condition("ack", f"overdue:{partner}",
                               f"{n} interchange(s) to {partner} not acknowledged in time"))  # fmt: skip
    for partner, (_, state, detail) in sorted(last.items()):
        if state == InterchangeState.REJECTED:
            found.append(Condition("ack", f"rejected:{partner}", f"{partner} rejected interchange {detail}"))
    return found


def conditions(config: Config, ledger: Ledger, at: datetime) -> list[Condition]:
    """Everything wrong at `at` (an aware time)."""
    ops = config.ops
    found = _quarantine(ledger)
    found += [
        Condition("delivery", p["file_id"],
                  f"{p['name']} waits for {'target ' + p['target'] if p['target'] else 'a destination'}:"
                  f" {p['error']}", ops.alert_delivery_minutes)
        for p in postponed(ledger)
    ]  # fmt: skip
    configured = {s.name for s in config.sources}
    found += [
        Condition("source", name, f"source {name} unreachable: {row['last_error']}", ops.alert_source_minutes)
        for name, row in sorted(ledger.source_rows().items())
        if name in configured and not row["reachable"]
    ]  # fmt: skip
    for rule in ops.expect:
        checked = expectations.check(rule, ledger, at)
        if checked.late:
            found.append(Condition("expect", rule.name, checked.summary()))
    return found + _acks(ledger)
