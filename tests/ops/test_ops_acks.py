"""The acknowledgement lifecycle with a running service: an interchange sent to a partner turns
overdue when its CONTRL does not come in time (a real wait), acknowledged when it comes late,
and a rejecting CONTRL is an alert; inbound CONTRL files are read, never quarantined, never
answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.errors import Finding
from gateway.findings import Code
from gateway.formats.edifact.contrl import acknowledge
from gateway.ledger.sqlite import SqliteLedger
from tests.conftest import SAMPLES, run_cli
from tests.ops.conftest import Start
from tests.ops.helpers_ops import events, notices
from tests.waiting import wait_for_final, wait_until

pytestmark = pytest.mark.service

PARTNER = "5412345000013"
CONFIG = f"""
[[source]]
name = "wms"
path = "inbound"
side = "wms"
settle_seconds = 0.05
poll_seconds = 0.2

[[source]]
name = "partner"
path = "inbound/partner"
settle_seconds = 0.05
poll_seconds = 0.2
acknowledge_to = "partner-contrl"

[[target]]
name = "partner-edi"
format = "edifact"
sender = "4012345000009"
receiver = "{PARTNER}"
ack_hours = 0.001

[[target]]
name = "partner-contrl"
format = "edifact_contrl"
deliver = "local:outbound/contrl"

[[route]]
doc_type = "shipment"
from = ["wms"]
to = ["partner-edi"]

[[alert]]
file = "alerts.jsonl"
on = ["ack"]
"""
DESADV = (SAMPLES / "inbound" / "edifact" / "desadv_d96a.edi").read_text(encoding="latin-1")


def interchanges(root: Path) -> list[tuple[str, str]]:
    ledger = SqliteLedger(root / "gateway.db")
    try:
        return [(i.control_ref, i.state) for i in ledger.interchanges()]
    finally:
        ledger.close()


def sent_file(root: Path, ref: str) -> Path:
    """The interchange the gateway published with this control reference."""
    for path in (root / "outbound" / "partner-edi").glob("*.edi"):
        if f"+{ref}'" in path.read_text(encoding="latin-1").splitlines()[1]:
            return path
    raise AssertionError(f"no interchange {ref} published")


def test_overdue_then_acknowledged_and_a_rejection_alert(tmp_path: Path, start: Start) -> None:
    root = tmp_path / "root"
    (root / "inbound" / "partner").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG)
    alerts = root / "alerts.jsonl"
    start(config, root)
    (root / "inbound" / "desadv-1.edi").write_text(DESADV, encoding="latin-1")
    wait_until(lambda: interchanges(root) == [("1", "sent")], what="the interchange sent",
               seen=lambda: interchanges(root))  # fmt: skip

    # 0.001 hours: the answer is due 3.6 s after sending; none comes.
    wait_until(lambda: events(alerts, "ack"), what="the overdue alert", seen=lambda: notices(alerts))
    assert events(alerts, "ack") == [("raised", f"overdue:{PARTNER}")]
    assert interchanges(root) == [("1", "overdue")]
    status = run_cli("--config", config, "--root", root, "status", "--json")
    assert json.loads(status.stdout)["acknowledgements"] == {PARTNER: {"overdue": 1}}

    # The partner answers late: the interchange is acknowledged and the alert clears.
    answer = acknowledge(sent_file(root, "1"), [], "900")
    assert answer is not None
    (root / "inbound" / "partner" / "contrl-900.edi").write_text(answer, encoding="latin-1")
    wait_until(lambda: len(events(alerts, "ack")) == 2, what="the overdue alert to clear",
               seen=lambda: notices(alerts))  # fmt: skip
    assert events(alerts, "ack")[1] == ("cleared", f"overdue:{PARTNER}")
    assert interchanges(root) == [("1", "acknowledged")]

    # A second shipment, and the partner rejects one of its messages.
    second = DESADV.replace("DESADV1", "DESADV2")
    (root / "inbound" / "desadv-2.edi").write_text(second, encoding="latin-1")
    wait_until(lambda: ("2", "sent") in interchanges(root), what="the second interchange",
               seen=lambda: interchanges(root))  # fmt: skip
    bad = Finding(Code.NOT_NUMERIC, "not numeric", {"segment": "QTY", "segment_index": 9, "element": 1,
                                                     "component": 2})  # fmt: skip
    rejection = acknowledge(sent_file(root, "2"), [bad], "901")
    assert rejection is not None
    (root / "inbound" / "partner" / "contrl-901.edi").write_text(rejection, encoding="latin-1")
    wait_until(lambda: (("raised", f"rejected:{PARTNER}") in events(alerts, "ack")),
               what="the rejection alert", seen=lambda: notices(alerts))  # fmt: skip
    assert ("2", "rejected") in interchanges(root)
    (rejected,) = [n for n in notices(alerts) if n["key"] == f"rejected:{PARTNER}"]
    assert "message 1 (DESADV) rejected (error 37)" in rejected["summary"]
    assert "element 1.2" in rejected["summary"]

    states = wait_for_final(root / "gateway.db", ["contrl-900.edi", "contrl-901.edi"])
    assert states["contrl-900.edi"] == states["contrl-901.edi"] == "accepted"
    assert not (root / "quarantine").exists() or not list((root / "quarantine").iterdir())
    # A CONTRL is never answered with a CONTRL.
    assert not list((root / "outbound").glob("contrl/*"))

    trace = run_cli("--config", config, "--root", root, "trace", "desadv-2.edi")
    assert f"interchange 2 to {PARTNER} (partner-edi): REJECTED by" in trace.stdout
    first = run_cli("--config", config, "--root", root, "trace", "desadv-1.edi")
    assert f"interchange 1 to {PARTNER} (partner-edi): ACKNOWLEDGED by" in first.stdout
    assert "interchange_overdue" in first.stdout
    contrl = run_cli("--config", config, "--root", root, "trace", "contrl-901.edi")
    assert "acknowledgement_received" in contrl.stdout
    status_text = run_cli("--config", config, "--root", root, "status").stdout
    assert f"partner {PARTNER}: interchanges 0 sent, 1 acknowledged, 1 rejected, 0 overdue" in status_text
    assert f"alert ack rejected:{PARTNER}" in status_text


def test_a_contrl_for_nothing_we_sent_is_noted_not_quarantined(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound" / "partner").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG)
    stray = tmp_path / "ours.edi"
    stray.write_text(DESADV.replace("DESADV1", "NEVER"), encoding="latin-1")
    answer = acknowledge(stray, [], "77")
    assert answer is not None
    (root / "inbound" / "partner" / "stray.edi").write_text(answer, encoding="latin-1")
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stderr
    trace = run_cli("--config", config, "--root", root, "trace", "stray.edi")
    assert "state accepted" in trace.stdout
    assert "acknowledgement_unmatched" in trace.stdout
