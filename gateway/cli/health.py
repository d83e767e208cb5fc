"""The operations half of `gateway status`: whether a service holds the root and is alive,
each target's delivery health, partners' acknowledgements, expected files and open alerts.

A service is `running` when the kernel shows the root's lock held (rootlock.holder); its
heartbeat age tells a live loop from a stuck one. Without the lock the heartbeat row says
when the last service was seen and whether it stopped warmly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway import expectations, rootlock
from gateway.config import Config
from gateway.ledger.ops import parse_time
from gateway.ledger.sqlite import Ledger
from gateway.ledger.states import DeliveryState, InterchangeState

#: A heartbeat older than this while the lock is held: the loop is stuck.
STALE_SECONDS = 60.0


def service(config: Config, ledger: Ledger, at: datetime) -> dict[str, Any]:
    """Who serves the root, since when, and how long ago its loop last beat."""
    held = rootlock.holder(config.state_dir)
    beat = ledger.heartbeat() or {}
    # Only a running service's heartbeat ages; a stopped one's says when it was last seen.
    age = (at - parse_time(beat["beat_at"])).total_seconds() if beat and held else None
    return {
        "running": held is not None,
        "pid": held["pid"] if held else beat.get("pid"),
        "host": held["host"] if held else beat.get("host"),
        "since": held["since"] if held else beat.get("since"),
        "heartbeat_at": beat.get("beat_at"),
        "heartbeat_age_seconds": None if age is None else round(age, 1),
        "stale": held is not None and age is not None and age > STALE_SECONDS,
        "stopped_at": None if held else beat.get("stopped_at"),
        "version": beat.get("version"),
    }


def instances(ledger: Ledger, config: Config) -> list[dict[str, Any]]:
    """The live instances on a shared (PostgreSQL) ledger: host, pid, claims held, heartbeat;
    none on SQLite, where one service holds the root."""
    pool = getattr(ledger, "pool", None)
    if pool is None:
        return []
    from gateway.ledger.instances import live

    return live(pool, config.lease_seconds)


def operations(config: Config, ledger: Ledger, postponed: list[dict[str, str]]) -> dict[str, Any]:
    """Service, targets (with the files `postponed` for them), acknowledgements, expected files
    and open alerts, for `status`."""
    at = datetime.now(UTC)
    failing: dict[str, dict[str, str]] = {}
    for waiting in postponed:
        failing.setdefault(waiting["target"], waiting)  # the oldest says since when
    pending = ledger.pending()
    last = ledger.last_published()
    refused: dict[str, int] = {}
    for case in ledger.deliveries(DeliveryState.REFUSED):
        refused[case.target] = refused.get(case.target, 0) + 1
    targets = [
        {"name": t.name, "format": t.format, "deliver": t.deliver, "pending": pending.get(t.name, 0),
         "refused": refused.get(t.name, 0), "last_published": last.get(t.name),
         "failing_since": failing[t.name]["since"] if t.name in failing else None,
         "error": failing[t.name]["error"] if t.name in failing else None}
        for t in config.targets
    ]  # fmt: skip
    checks = [expectations.check(rule, ledger, at) for rule in config.ops.expect]
    expected = [{"rule": c.rule.name, "late": c.late, "deadline": c.deadline.isoformat(), "found": c.found,
                 "count": c.rule.count} for c in checks]  # fmt: skip
    alerts = [{"kind": i.kind, "key": i.key, "summary": i.summary, "since": i.seen_at, "raised": i.raised_at}
              for i in ledger.incidents()]  # fmt: skip
    return {
        "service": service(config, ledger, at),
        "targets": targets,
        "acknowledgements": ledger.ack_summary(),
        "expected": expected,
        "alerts": alerts,
    }


def _service_line(s: dict[str, Any]) -> str:
    if s["running"]:
        beat = s["heartbeat_age_seconds"]
        health = "no heartbeat yet" if beat is None else f"heartbeat {beat:g} s ago"
        stuck = " — STUCK? the loop has not beaten for a minute" if s["stale"] else ""
        return f"service: running, pid {s['pid']} on {s['host']} since {s['since']}; {health}{stuck}"
    if s["heartbeat_at"] is None:
        return "service: NOT RUNNING (no service has run on this root)"
    how = f"stopped at {s['stopped_at']}"
    if not s["stopped_at"]:
        how = f"last heartbeat {s['heartbeat_at']}, no clean stop"
    return f"service: NOT RUNNING ({how})"


def render(data: dict[str, Any]) -> list[str]:
    """The operations lines of the status, for a person."""
    lines = [_service_line(data["service"])]
    for t in data["targets"]:
        state = "ok"
        if t["refused"]:
            state = f"{t['refused']} pair case(s) REFUSED"
        if t["failing_since"]:
            state = f"FAILING since {t['failing_since']}: {t['error']}"
        last = t["last_published"] or "never"
        lines.append(f"target {t['name']} ({t['format']}): {state}; {t['pending']} pending;"
                     f" last published {last}")  # fmt: skip
    for partner, states in sorted(data["acknowledgements"].items()):
        counts = ", ".join(f"{states.get(s, 0)} {s}" for s in InterchangeState)
        attention = states.get(InterchangeState.REJECTED) or states.get(InterchangeState.OVERDUE)
        flag = " — ATTENTION" if attention else ""
        lines.append(f"partner {partner}: interchanges {counts}{flag}")
    for e in data["expected"]:
        verdict = "LATE" if e["late"] else "on time"
        lines.append(f"expect {e['rule']}: {verdict} ({e['found']} of {e['count']} by {e['deadline']})")
    raised = [a for a in data["alerts"] if a["raised"]]
    lines.extend(f"alert {a['kind']} {a['key']}: {a['summary']} (since {a['since']})" for a in raised)
    return lines
