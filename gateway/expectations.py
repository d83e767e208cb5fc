"""Expected files: is each `[[expect]]` rule met for its latest deadline?

A rule's deadlines are the times its cron expression `by` names, in its `timezone`. Each
deadline is checked `grace_minutes` after it, counting the matching files the source offered
from the window's start (the deadline before, or `window_minutes` before the deadline) until
now, so a file that comes late ends the alert. Until the next check the rule stays late or on
time; a file that comes late also counts for the next window when `window_minutes` does not
keep the windows apart. Retries are not new arrivals; a quarantined file did arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from zoneinfo import ZoneInfo

from cronsim import CronSim

from gateway.ledger.protocol import OpsLedger
from gateway.operations import ExpectRule


@dataclass(frozen=True)
class Check:
    """One rule's latest due deadline and what arrived for it."""

    rule: ExpectRule
    deadline: datetime
    since: datetime
    found: int

    @property
    def late(self) -> bool:
        """Fewer files than the rule asks for."""
        return self.found < self.rule.count

    def summary(self) -> str:
        """The check for people."""
        what = self.rule.doc_type or self.rule.pattern or "file"
        return (f"expected {self.rule.count} {what} from {self.rule.source} by"
                f" {self.deadline.isoformat(timespec='minutes')}: {self.found} arrived")  # fmt: skip


def _latest(expr: str, at: datetime) -> datetime:
    """The latest time `expr` names at or before `at` (cronsim's reverse walk is strict)."""
    return next(CronSim(expr, at.replace(microsecond=0) + timedelta(microseconds=1), reverse=True))


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def matches(rule: ExpectRule, name: str, kinds: list[str]) -> bool:
    """Whether a file of this name that carried keys of these kinds is one the rule expects."""
    if rule.pattern is not None and not fnmatch(name, rule.pattern):
        return False
    return rule.doc_type is None or rule.doc_type in kinds


def check(rule: ExpectRule, ledger: OpsLedger, at: datetime) -> Check:
    """The rule against the ledger at `at` (an aware time)."""
    local = at.astimezone(ZoneInfo(rule.timezone))
    deadline = _latest(rule.by, local - timedelta(minutes=rule.grace_minutes))
    if rule.window_minutes is not None:
        since = deadline - timedelta(minutes=rule.window_minutes)
    else:
        since = next(CronSim(rule.by, deadline, reverse=True))
    arrived = ledger.arrivals(rule.source, _iso(since), _iso(at))
    found = sum(matches(rule, name, kinds) for name, kinds in arrived)
    return Check(rule, deadline, since, found)
