"""The operations part of the configuration: metrics endpoint, retention, expected files and
alerts, read from the top of gateway.toml, `[[expect]]` and `[[alert]]`.

```toml
metrics_listen = "127.0.0.1:9470"   # `gateway run` serves /metrics here
retention_days = 90                 # archive/ and settled ledger history older than this go
alert_delivery_minutes = 15         # a delivery failing this long is an alert
alert_source_minutes = 15           # a source unreachable this long is an alert

[[expect]]                          # "an inventory snapshot from the WMS by 06:00 on weekdays"
name = "wms-inventory"
source = "wms"
doc_type = "inventory_adjustment"   # or pattern = "INV_*.csv"
by = "0 6 * * 1-5"                  # cron (cronsim; a sixth leading field counts seconds)
count = 1
grace_minutes = 10
timezone = "Europe/Berlin"          # default UTC

[[alert]]
webhook = "https://hooks.example.com/gateway"   # or command = [...], or file = "..."
on = ["quarantine", "ack", "expect"]            # default: every kind
```
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

#: What an alert can be about: a quarantined case, a delivery failing, a source down, a late
#: expected file, an overdue or negative acknowledgement.
KINDS = ("quarantine", "delivery", "source", "expect", "ack")
OPS_KEYS = {"metrics_listen", "retention_days", "alert_delivery_minutes", "alert_source_minutes",
            "expect", "alert"}  # fmt: skip
EXPECT_KEYS = {"name", "source", "pattern", "doc_type", "by", "window_minutes", "count",
               "grace_minutes", "timezone"}  # fmt: skip
ALERT_KEYS = {"name", "on", "command", "file", "webhook", "timeout_seconds"}


@dataclass(frozen=True)
class ExpectRule:
    """Files that must have arrived by each time the cron expression `by` names."""

    name: str
    source: str
    by: str
    pattern: str | None = None
    doc_type: str | None = None
    count: int = 1
    grace_minutes: float = 0.0
    #: How far back before a deadline a file counts; None: since the deadline before.
    window_minutes: float | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class AlertChannel:
    """Where alerts go: exactly one of a command (JSON on stdin), a file (JSON Lines appended)
    or a webhook (JSON POSTed to that URL only)."""

    name: str
    kinds: tuple[str, ...] = KINDS
    command: tuple[str, ...] = ()
    file: Path | None = None
    webhook: str | None = None
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class OpsConfig:
    """Metrics, retention, expectations and alerts."""

    metrics_listen: str | None = None
    retention_days: float | None = None
    alert_delivery_minutes: float = 15.0
    alert_source_minutes: float = 15.0
    expect: tuple[ExpectRule, ...] = ()
    alerts: tuple[AlertChannel, ...] = ()


def listen_address(value: str) -> tuple[str, int]:
    """`host:port` as (host, port); ValueError when it is not one."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {value!r}")
    return host.strip("[]"), int(port)


class _Reader:
    """Typed values out of one TOML table, each problem noted under its key."""

    def __init__(self, raw: dict[str, Any], where: str, problems: list[str]) -> None:
        self.raw, self.where, self.problems = raw, where, problems

    def get(self, key: str, kinds: tuple[type, ...], default: Any) -> Any:
        value = self.raw.get(key, default)
        if value is default:
            return default
        if isinstance(value, bool) or not isinstance(value, kinds):
            self.problems.append(f"{self.where}{key}: expected {'/'.join(k.__name__ for k in kinds)}")
            return default
        return value

    def number(self, key: str, default: float | None, minimum: float = 0.0) -> float | None:
        value = self.get(key, (int, float), default)
        if value is not None and value < minimum:
            self.problems.append(f"{self.where}{key}: must be at least {minimum:g}")
            return default
        return None if value is None else float(value)

    def unknown(self, known: set[str]) -> None:
        self.problems.extend(f"{self.where}{k}: unknown setting" for k in sorted(set(self.raw) - known))


def _expect(
    raw: dict[str, Any], i: int, sources: set[str], doc_types: set[str], problems: list[str]
) -> ExpectRule:
    r = _Reader(raw, f"expect[{i}].", problems)
    r.unknown(EXPECT_KEYS)
    rule = ExpectRule(
        name=r.get("name", (str,), f"expect{i}"),
        source=r.get("source", (str,), ""),
        by=r.get("by", (str,), ""),
        pattern=r.get("pattern", (str,), None),
        doc_type=r.get("doc_type", (str,), None),
        count=int(r.number("count", 1, 1) or 1),
        grace_minutes=r.number("grace_minutes", 0.0) or 0.0,
        window_minutes=r.number("window_minutes", None),
        timezone=r.get("timezone", (str,), "UTC"),
    )
    if rule.source not in sources:
        problems.append(f"expect[{i}].source: no source named {rule.source!r}")
    if rule.doc_type is not None and rule.doc_type not in doc_types:
        problems.append(f"expect[{i}].doc_type: unknown document type {rule.doc_type!r}")
    try:
        zone = ZoneInfo(rule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"expect[{i}].timezone: unknown time zone {rule.timezone!r}")
        zone = ZoneInfo("UTC")
    try:
        CronSim(rule.by, datetime.now(zone))
    except CronSimError as exc:
        problems.append(f"expect[{i}].by: not a cron expression ({exc})")
    return rule


def _alert(raw: dict[str, Any], i: int, problems: list[str]) -> AlertChannel:
    r = _Reader(raw, f"alert[{i}].", problems)
    r.unknown(ALERT_KEYS)
    kinds = r.get("on", (list,), list(KINDS))
    for kind in kinds:
        if kind not in KINDS:
            problems.append(f"alert[{i}].on: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    command = r.get("command", (list,), [])
    if not all(isinstance(c, str) for c in command):
        problems.append(f"alert[{i}].command: expected a list of strings (the program and its arguments)")
    file = r.get("file", (str,), None)
    webhook = r.get("webhook", (str,), None)
    url = urlsplit(webhook or "")
    if webhook is not None and (url.scheme not in ("http", "https") or not url.netloc):
        problems.append(f"alert[{i}].webhook: expected an http:// or https:// URL")
    if sum(map(bool, (command, file, webhook))) != 1:
        problems.append(f"alert[{i}]: give exactly one of command, file, webhook")
    return AlertChannel(
        name=r.get("name", (str,), f"alert{i}"),
        kinds=tuple(k for k in kinds if k in KINDS),
        command=tuple(str(c) for c in command),
        file=Path(file) if file else None,
        webhook=webhook,
        timeout_seconds=r.number("timeout_seconds", 10.0, 0.1) or 10.0,
    )


def parse_ops(raw: dict[str, Any], state_dir: Path, sources: set[str], doc_types: set[str],
              problems: list[str]) -> OpsConfig:  # fmt: skip
    """The operations settings of a parsed gateway.toml, every problem noted in `problems`."""
    r = _Reader(raw, "", problems)
    listen = r.get("metrics_listen", (str,), None)
    if listen is not None:
        try:
            listen_address(listen)
        except ValueError as exc:
            problems.append(f"metrics_listen: {exc}")
    tables: dict[str, list[dict[str, Any]]] = {}
    for key in ("expect", "alert"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            problems.append(f"{key}: expected an array of tables ([[{key}]])")
            value = []
        tables[key] = value
    channels = tuple(_alert(t, i, problems) for i, t in enumerate(tables["alert"]))
    channels = tuple(
        AlertChannel(c.name, c.kinds, c.command, state_dir / c.file, c.webhook, c.timeout_seconds)
        if c.file is not None else c
        for c in channels
    )  # fmt: skip
    rules = tuple(_expect(t, i, sources, doc_types, problems) for i, t in enumerate(tables["expect"]))
    for kind, names in (("expect", [r.name for r in rules]), ("alert", [c.name for c in channels])):
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.append(f"{kind}: name {name!r} is used more than once")
    return OpsConfig(
        metrics_listen=listen,
        retention_days=r.number("retention_days", None, 1),
        alert_delivery_minutes=r.number("alert_delivery_minutes", 15.0) or 0.0,
        alert_source_minutes=r.number("alert_source_minutes", 15.0) or 0.0,
        expect=rules,
        alerts=channels,
    )
