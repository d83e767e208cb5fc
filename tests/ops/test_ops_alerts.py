"""Alerts from real services: a webhook on 127.0.0.1, a file and a command are each told once
when an incident is raised and once when it clears, and a restart tells them nothing again."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks.sshd import SSHD, Sshd
from gateway.alerts import NoticeFailed, send
from gateway.operations import KINDS, AlertChannel
from tests.conftest import run_cli, unavailable
from tests.ops.conftest import Start
from tests.ops.helpers_ops import Receiver, events, notices
from tests.waiting import wait_until

pytestmark = pytest.mark.service

BAD = "adjustment_id,sku,mode,quantity_change\nADJ-3,SKU-3,delta,many\n"
GOOD = "adjustment_id,sku,mode,quantity_change\nADJ-1,SKU-1,delta,4\n"
#: A command channel's program: the notice on stdin, appended to the file named by the argument.
PAGER = "import sys\nwith open(sys.argv[1], 'a') as fh:\n    fh.write(sys.stdin.read() + '\\n')\n"


def test_a_quarantine_is_alerted_once_and_its_discard_clears_it_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    pager = tmp_path / "pager.py"
    pager.write_text(PAGER)
    config = tmp_path / "gateway.toml"
    config.write_text(f"""
[[source]]
name = "inbound"
settle_seconds = 0.05
poll_seconds = 0.2

[[alert]]
name = "hook"
webhook = "{receiver.url}"
on = ["quarantine"]

[[alert]]
name = "log"
file = "alerts.jsonl"

[[alert]]
name = "pager"
command = ["{sys.executable}", "{pager}", "{tmp_path / 'paged.jsonl'}"]
""")
    (root / "inbound" / "bad.csv").write_text(BAD)
    (root / "inbound" / "good.csv").write_text(GOOD)
    first = run_cli("--config", config, "--root", root, "run", "--once")
    assert first.returncode == 0, first.stderr
    (hooked,) = receiver.notices()
    assert (hooked["event"], hooked["kind"]) == ("raised", "quarantine")
    assert "bad.csv" in hooked["summary"]
    case = hooked["key"]
    assert events(root / "alerts.jsonl", "quarantine") == [("raised", case)]
    assert events(tmp_path / "paged.jsonl", "quarantine") == [("raised", case)]

    again = run_cli("--config", config, "--root", root, "run", "--once")
    assert again.returncode == 0, again.stderr
    assert len(receiver.notices()) == 1  # a restart does not alert again

    discarded = run_cli("--config", config, "--root", root, "quarantine", "discard", case,
                        "--reason", "test data")  # fmt: skip
    assert discarded.returncode == 0, discarded.stderr
    for _ in range(2):
        assert run_cli("--config", config, "--root", root, "run", "--once").returncode == 0
    assert [(n["event"], n["key"]) for n in receiver.notices()] == [("raised", case), ("cleared", case)]
    assert events(root / "alerts.jsonl", "quarantine") == [("raised", case), ("cleared", case)]
    assert events(tmp_path / "paged.jsonl", "quarantine") == [("raised", case), ("cleared", case)]


def test_a_source_down_and_a_failing_delivery_are_alerted_after_their_threshold(
    tmp_path: Path, start: Start
) -> None:
    """The partner's SFTP server is not up yet (the source is down), then comes up (it clears);
    a delivery folder that is a file holds a file back (a failing delivery)."""
    if not SSHD.exists():
        unavailable(f"{SSHD} is missing: install openssh-server (tests/run.sh does)")
    (tmp_path / "sshd").mkdir()
    server = Sshd(tmp_path / "sshd")
    (tmp_path / "remote").mkdir()
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    (root / "outbound").mkdir()
    (root / "outbound" / "copy").write_text("not a folder")  # publishing there fails
    config = tmp_path / "gateway.toml"
    config.write_text(f"""
alert_source_minutes = 0.02
alert_delivery_minutes = 0

[[source]]
name = "inbound"
settle_seconds = 0.05
poll_seconds = 0.2

[[source]]
name = "partner"
type = "sftp"
{server.server_settings()}remote_dir = "{tmp_path / "remote"}"
timeout_seconds = 5
poll_seconds = 0.2

[[target]]
name = "copy"
format = "jsonl"

[[route]]
doc_type = "*"
from = ["inbound"]
to = ["copy"]

[[alert]]
file = "alerts.jsonl"
""")
    alerts = root / "alerts.jsonl"
    start(config, root)
    try:
        wait_until(lambda: events(alerts, "source"), what="the source alert", seen=lambda: notices(alerts))
        assert events(alerts, "source") == [("raised", "partner")]
        server.start()
        wait_until(lambda: len(events(alerts, "source")) == 2, what="the source alert to clear",
                   seen=lambda: notices(alerts))  # fmt: skip
    finally:
        server.remove()
    assert events(alerts, "source") == [("raised", "partner"), ("cleared", "partner")]

    (root / "inbound" / "good.csv").write_text(GOOD)
    wait_until(lambda: events(alerts, "delivery"), what="the delivery alert", seen=lambda: notices(alerts))
    (raised,) = [n for n in notices(alerts) if n["kind"] == "delivery"]
    assert raised["event"] == "raised"
    assert raised["summary"].startswith("good.csv waits for target copy: cannot")
    status = run_cli("--config", config, "--root", root, "status").stdout
    assert "target copy (jsonl): FAILING since" in status
    assert "target canonical (jsonl): ok" in status


def test_a_webhook_redirect_is_not_followed_and_counts_as_a_failure(receiver: Receiver) -> None:
    receiver.redirect = "/elsewhere"
    channel = AlertChannel("hook", webhook=receiver.url, timeout_seconds=10)
    with pytest.raises(NoticeFailed):
        send(channel, {"event": "raised", "kind": "quarantine", "key": "x"})
    assert [path for path, _ in receiver.requests] == ["/hook"]


def test_alert_settings_are_checked_with_the_configuration(tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text("""
[[alert]]
webhook = "ftp://example.invalid/x"
on = ["everything"]

[[alert]]
file = "a.jsonl"
command = ["true"]
""")
    checked = run_cli("--config", config, "--root", tmp_path, "config", "check")
    assert checked.returncode == 78
    assert "alert[0].webhook: expected an http:// or https:// URL" in checked.stderr
    assert "alert[0].on: unknown kind 'everything'" in checked.stderr
    assert "alert[1]: give exactly one of command, file, webhook" in checked.stderr
    schema = json.loads(run_cli("config", "schema").stdout)["properties"]
    assert schema["alert"]["items"]["properties"]["on"]["items"]["enum"] == list(KINDS)
    assert "by" in schema["expect"]["items"]["required"] and "metrics_listen" in schema
