"""Alerts: the monitor that turns conditions (incidents.py) into incidents in the ledger and
tells the configured channels once when each is raised and once when it clears.

The running service calls `Monitor.check` every few seconds and once at the end of a drain.
An incident opens the first time its condition is seen and is raised when it has lasted its
threshold (`alert_delivery_minutes`, `alert_source_minutes`; the other kinds at once). Each
notice is recorded per channel after it was sent, so a restart resends nothing that went out;
a channel that fails (a webhook down, a command exiting non-zero) is tried again on the next
check, for a day. The same check marks interchanges whose acknowledgement is overdue.

A notice is one JSON object: `event` (`raised` or `cleared`), `kind`, `key`, `summary`,
`since` (when the condition was first seen), `at` and `state_dir`. A command gets it on its
standard input, a file gets it as one line appended, a webhook gets it POSTed; redirects are
not followed, so nothing is sent anywhere but the configured URL.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from gateway.config import Config
from gateway.incidents import Condition, conditions
from gateway.ledger.ops import Incident, parse_time
from gateway.ledger.sqlite import Ledger
from gateway.operations import AlertChannel

log = structlog.get_logger("gateway")

#: How long a notice that could not be sent is tried again.
RESEND_HOURS = 24


class NoticeFailed(Exception):
    """A channel did not take a notice."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the configured URL is the only destination


def send(channel: AlertChannel, notice: dict[str, Any]) -> None:
    """Give one notice to one channel; `NoticeFailed` when it did not take it."""
    body = json.dumps(notice, ensure_ascii=False)
    try:
        if channel.command:
            subprocess.run(list(channel.command), input=body.encode(), check=True,
                           timeout=channel.timeout_seconds, capture_output=True)  # fmt: skip
        elif channel.file is not None:
            channel.file.parent.mkdir(parents=True, exist_ok=True)
            with channel.file.open("a", encoding="utf-8") as fh:
                fh.write(body + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        elif channel.webhook is not None:
            request = urllib.request.Request(  # noqa: S310 - the URL is checked as http(s) by the config
                channel.webhook, data=body.encode(), method="POST",
                headers={"Content-Type": "application/json", "User-Agent": "gateway-alerts"},
            )  # fmt: skip
            # Anything but a 2xx answer raises (HTTPError, an OSError), a redirect included.
            with urllib.request.build_opener(_NoRedirect).open(request, timeout=channel.timeout_seconds):
                pass
    except (OSError, subprocess.SubprocessError) as exc:
        raise NoticeFailed(str(exc)) from exc


def _age_minutes(since: str, at: datetime) -> float:
    # An incident opened during this check is younger than `at`: it has lasted no time at all.
    return max(0.0, (at - parse_time(since)).total_seconds() / 60)


class Monitor:
    """Checks conditions against the ledger's incidents and sends the notices that are due."""

    def __init__(self, config: Config, ledger: Ledger) -> None:
        self.config = config
        self.ledger = ledger

    def check(self, at: datetime | None = None) -> None:
        """One round: overdue acknowledgements, incidents opened, raised and cleared, notices."""
        at = at or datetime.now(UTC)
        for sent in self.ledger.mark_overdue(at.isoformat(timespec="microseconds")):
            self.ledger.event(sent.file_id, "interchange_overdue", partner=sent.partner,
                              interchange=sent.control_ref, due_at=sent.due_at)  # fmt: skip
        found = conditions(self.config, self.ledger, at)
        now: dict[tuple[str, str], Condition] = {(c.kind, c.key): c for c in found}
        for incident in self.ledger.incidents():
            if (incident.kind, incident.key) not in now:
                self.ledger.incident_cleared(incident.seq)
        for condition in now.values():
            incident = self.ledger.incident_seen(condition.kind, condition.key, condition.summary)
            if incident.raised_at is None and _age_minutes(incident.seen_at, at) >= condition.minutes:
                self.ledger.incident_raised(incident.seq)
        since = (at - timedelta(hours=RESEND_HOURS)).isoformat(timespec="microseconds")
        for incident in self.ledger.incidents(cleared_since=since):
            if incident.raised_at is not None:
                self._notify(incident, at)

    def _notify(self, incident: Incident, at: datetime) -> None:
        done = self.ledger.notices(incident.seq)
        events = ["raised"] + (["cleared"] if incident.cleared_at else [])
        for channel in self.config.ops.alerts:
            if incident.kind not in channel.kinds:
                continue
            for event in events:
                if (channel.name, event) in done:
                    continue
                notice = {
                    "event": event, "kind": incident.kind, "key": incident.key, "summary": incident.summary,
                    "since": incident.seen_at, "at": at.isoformat(timespec="seconds"),
                    "state_dir": str(self.config.state_dir),
                }  # fmt: skip
                try:
                    send(channel, notice)
                except NoticeFailed as exc:
                    log.warning("alert_failed", channel=channel.name, kind=incident.kind, key=incident.key,
                                error=str(exc))  # fmt: skip
                    break  # `cleared` only after `raised` went out
                self.ledger.noticed(incident.seq, channel.name, event)
                log.info("alert_sent", channel=channel.name, alert=event, kind=incident.kind,
                         key=incident.key)  # fmt: skip
