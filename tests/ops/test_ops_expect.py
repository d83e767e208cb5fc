"""Expected files: a running service really waits for a short cron window to pass without the
file, alerts, and clears the alert when the file comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.config import parse
from gateway.expectations import check
from gateway.ledger.sqlite import SqliteLedger
from tests.conftest import run_cli
from tests.ops.conftest import Start
from tests.ops.helpers_ops import events, notices
from tests.waiting import wait_for_final, wait_until

pytestmark = pytest.mark.service

INVENTORY = "adjustment_id,sku,mode,counted_quantity\nINV-{n},SKU-1,count,12\n"


def test_a_missing_file_is_alerted_when_its_window_ends_and_cleared_when_it_comes(
    tmp_path: Path, start: Start
) -> None:
    root = tmp_path / "root"
    (root / "inbound" / "wms").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    # Every 20 seconds (cronsim's optional seconds field), a snapshot within the last 20 s.
    config.write_text("""
[[source]]
name = "inbound"
settle_seconds = 0.05
poll_seconds = 0.2

[[source]]
name = "wms"
path = "inbound/wms"
settle_seconds = 0.05
poll_seconds = 0.2

[[expect]]
name = "wms-inventory"
source = "wms"
doc_type = "inventory_adjustment"
by = "*/20 * * * * *"
grace_minutes = 0.02

[[alert]]
file = "alerts.jsonl"
on = ["expect"]
""")
    alerts = root / "alerts.jsonl"
    (root / "inbound" / "wms" / "INV-0.csv").write_text(INVENTORY.format(n=0))
    start(config, root)
    wait_for_final(root / "gateway.db", ["INV-0.csv"])
    on_time = run_cli("--config", config, "--root", root, "status")
    assert "expect wms-inventory: on time (1 of 1 by" in on_time.stdout
    # Another source's file does not count: the next window ends without one from the WMS.
    (root / "inbound" / "INV-1.csv").write_text(INVENTORY.format(n=1))
    wait_for_final(root / "gateway.db", ["INV-1.csv"])
    raised = wait_until(lambda: events(alerts, "expect"), what="the late-file alert", timeout=90,
                        seen=lambda: notices(alerts))  # fmt: skip
    assert raised == [("raised", "wms-inventory")]
    (notice,) = notices(alerts)
    assert "expected 1 inventory_adjustment from wms by" in notice["summary"]
    assert notice["summary"].endswith(": 0 arrived")
    status = run_cli("--config", config, "--root", root, "status")
    assert "expect wms-inventory: LATE (0 of 1 by" in status.stdout
    assert "alert expect wms-inventory: expected 1 inventory_adjustment" in status.stdout

    (root / "inbound" / "wms" / "INV-2.csv").write_text(INVENTORY.format(n=2))
    wait_until(lambda: ("cleared", "wms-inventory") in events(alerts, "expect"), what="the alert to clear",
               timeout=90, seen=lambda: notices(alerts))  # fmt: skip
    assert events(alerts, "expect")[:2] == [("raised", "wms-inventory"), ("cleared", "wms-inventory")]


def test_deadlines_follow_the_rule_time_zone_and_window(tmp_path: Path) -> None:
    """By 06:00 Berlin on weekdays, a file in the two hours before counts; one earlier does not."""
    config = parse({
        "source": [{"name": "wms"}],
        "expect": [{"name": "inv", "source": "wms", "pattern": "INV_*.csv", "by": "0 6 * * 1-5",
                    "timezone": "Europe/Berlin", "window_minutes": 120, "grace_minutes": 10}],
    }, tmp_path)  # fmt: skip
    (rule,) = config.ops.expect
    ledger = SqliteLedger(config.ledger_path)
    try:
        monday_9 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
        checked = check(rule, ledger, monday_9)
        assert checked.deadline.isoformat() == "2026-12-07T06:00:00+01:00"
        assert checked.since.isoformat() == "2026-12-07T04:00:00+01:00"
        assert checked.late
        # Before Monday's check (06:10 Berlin), Friday's deadline is the one in force.
        sunday = check(rule, ledger, monday_9 - timedelta(hours=4))
        assert sunday.deadline.isoformat() == "2026-12-04T06:00:00+01:00"
    finally:
        ledger.close()


def test_rules_are_checked_with_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text("""
[[expect]]
source = "nowhere"
doc_type = "invoice"
by = "every morning"
timezone = "Mars/Olympus"
""")
    checked = run_cli("--config", config, "--root", tmp_path, "config", "check")
    assert checked.returncode == 78
    for problem in ("expect[0].source: no source named 'nowhere'",
                    "expect[0].doc_type: unknown document type 'invoice'",
                    "expect[0].by: not a cron expression",
                    "expect[0].timezone: unknown time zone 'Mars/Olympus'"):  # fmt: skip
        assert problem in checked.stderr
