"""The acknowledgement lifecycle of what the gateway sends: each EDIFACT interchange is recorded
as `sent` when its outputs are published, and a partner's CONTRL arriving later settles it as
`acknowledged` or `rejected`; one whose answer does not come within the target's `ack_hours`
becomes `overdue` (the monitor's check, alerts.py). Both sides leave events on the files'
timelines, so `trace` shows them.

X12 997/TA1 are not read: the gateway does not read X12 at all (detect.py names an ISA
interchange as foreign), so an X12 partner's acknowledgements cannot be tracked yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import structlog

from gateway.config import Config
from gateway.delivery.base import Delivery
from gateway.formats.base import Acknowledgement
from gateway.formats.edifact.contrl import headers
from gateway.ledger.sqlite import Ledger
from gateway.ledger.states import InterchangeState

log = structlog.get_logger("gateway")

#: Target formats whose interchanges a partner acknowledges with CONTRL.
ACKNOWLEDGED_FORMATS = ("edifact",)


def record_sent(
    config: Config, ledger: Ledger, deliveries: Mapping[str, Delivery], file_id: str, name: str
) -> None:
    """Before target `name`'s outputs of a file are published: note each interchange among them
    (read back from the staged file) as sent, due by the target's `ack_hours` (if set)."""
    target = next((t for t in config.targets if t.name == name), None)
    if target is None or target.format not in ACKNOWLEDGED_FORMATS or name not in deliveries:
        return
    delivery = deliveries[name]
    hours = target.options.get("ack_hours")
    for output in ledger.outputs(file_id, target.name):
        staged = Path(output.tmp_path)
        if not delivery.staged(output.tmp_path) or not staged.is_file():
            continue  # published before a crash: recorded then
        interchange, messages = headers(staged, "latin-1")
        if interchange is None:
            continue
        ledger.interchange_sent(
            file_id, target.name, interchange.recipient, interchange.sender, interchange.control_ref,
            [{"ref": m.ref, "type": m.type} for m in messages],
            None if hours is None else float(hours),
        )  # fmt: skip


def receive(ledger: Ledger, file_id: str, answers: list[Acknowledgement]) -> None:
    """Settle the interchanges a file's CONTRL messages answer; an answer to nothing we sent
    is noted on the file's timeline and otherwise ignored."""
    for ack in answers:
        state = InterchangeState.ACKNOWLEDGED if ack.accepted else InterchangeState.REJECTED
        sent = ledger.interchange_answered(ack.partner, ack.sender, ack.control_ref, state, file_id,
                                           ack.detail)  # fmt: skip
        what = {"partner": ack.partner, "interchange": ack.control_ref, "state": state, "detail": ack.detail}
        if sent is None:
            ledger.event(file_id, "acknowledgement_unmatched", **what)
            log.warning("acknowledgement_unmatched", **what)
            continue
        ledger.event(file_id, "acknowledgement_received", answers=sent.file_id, **what)
        ledger.event(sent.file_id, f"interchange_{state}", by=file_id, **what)
        log.info("acknowledgement_received", answers=sent.file_id, **what)

