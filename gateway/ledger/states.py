"""The states of files, deliveries, outputs and batches, and the moves the ledger allows.

The values are the strings stored in the ledger's `state` columns, so a ledger written before
these types existed reads the same. Only the ledger changes a state, one method per move; a
move not listed here is a gateway bug and raises `IllegalTransition`.

A file:

```
claimed ─▶ processing ─▶ publishing ─▶ accepted
   │            ├──────────────────────▶ quarantined ─▶ retried | discarded
   └─▶ vanished └──────────────────────▶ duplicate
```

A delivery, one per (accepted file, target), with its own outcome:

```
(file committed) ─▶ publishing ─▶ published
                 ├─▶ batched                      (the target's batch takes it from here)
                 └─▶ refused ─▶ retried ─▶ writing ─▶ publishing | batched | refused
                            └─▶ discarded          (a new attempt of the same pair)
```

An output file: `staging ─▶ intent ─▶ published`; a batch: `writing ─▶ publishing ─▶
published`; a record waiting for a batch: see batches.py; an interchange sent to a partner
that acknowledges: see `InterchangeState`.
"""

from __future__ import annotations

from enum import StrEnum


class FileState(StrEnum):
    """Where an input file is between its claim and its single outcome."""

    CLAIMED = "claimed"
    PROCESSING = "processing"
    PUBLISHING = "publishing"
    ACCEPTED = "accepted"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"
    VANISHED = "vanished"
    RETRIED = "retried"
    DISCARDED = "discarded"


class DeliveryState(StrEnum):
    """Where one target's share of an accepted file is."""

    WRITING = "writing"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    BATCHED = "batched"
    REFUSED = "refused"
    RETRIED = "retried"
    DISCARDED = "discarded"


class OutputState(StrEnum):
    """One outbound file: written under a temporary name, intended, renamed."""

    STAGING = "staging"
    INTENT = "intent"
    PUBLISHED = "published"


class BatchState(StrEnum):
    """A batch of a batched target."""

    WRITING = "writing"
    PUBLISHING = "publishing"
    PUBLISHED = "published"


class ItemState(StrEnum):
    """A record waiting for, or held by, a batch."""

    STAGED = "staged"
    PENDING = "pending"
    BATCHED = "batched"
    REFUSED = "refused"


class InterchangeState(StrEnum):
    """An interchange the gateway sent, as its partner's acknowledgement (CONTRL) settles it:
    `sent ─▶ acknowledged | rejected`, or `sent ─▶ overdue` past its deadline (still settled by
    a late answer)."""

    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    OVERDUE = "overdue"


#: Files a previous run left between claim and outcome.
UNFINISHED = (FileState.CLAIMED, FileState.PROCESSING, FileState.PUBLISHING)
#: Pair attempts a crash (or a destination that was down) may have interrupted.
UNFINISHED_DELIVERIES = (DeliveryState.WRITING, DeliveryState.PUBLISHING)


class IllegalTransition(RuntimeError):
    """The ledger was asked for a move its state machine does not have: a gateway bug."""

    def __init__(self, what: str, key: str, found: str | None, to: str, allowed: tuple[str, ...]) -> None:
        where = "no such row" if found is None else f"it is {found}"
        super().__init__(
            f"{what} {key}: cannot move to {to} ({where}; only from {', '.join(allowed) or 'nothing'})"
        )
