"""The console's parts on their own: the quarantine filter, the original cut into segments, the
root's holder, the actions table (a migration step of its own) and the command line's record."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import rootlock
from gateway.console.original import read, segments
from gateway.ledger.actions import ACTIONS, ActionState
from gateway.ledger.schema import STEPS, VERSION
from gateway.ledger.sqlite import SqliteLedger
from gateway.quarantine_query import Filter, doc_types_of, partner_of
from tests.conftest import REPO, run_cli
from tests.console.cases import Scene


class TestFilter:
    def test_from_params_reads_every_field_and_ignores_an_unreadable_age(self) -> None:
        where = Filter.from_params({"source": " wms ", "code": "unmapped_value", "min_age_hours": "1.5"})
        assert (where.source, where.code, where.min_age_hours) == ("wms", "unmapped_value", 1.5)
        assert Filter.from_params({"min_age_hours": "soon"}).min_age_hours is None
        assert Filter.from_params({"min_age_hours": "nan"}).min_age_hours is None
        assert Filter.from_params({}).empty
        assert Filter.from_params(where.params()) == where
        assert where.query() == "source=wms&code=unmapped_value&min_age_hours=1.5"

    def test_partner_and_document_types_come_from_the_keys(self) -> None:
        keys = [("shipment", "SHP-1"), ("unb", "5412345000013:REF1"), ("shipment", "SHP-2")]
        assert partner_of(keys) == "5412345000013"
        assert partner_of([("docnum", "SAPPRD:0000001")]) == "SAPPRD"
        assert partner_of([("sales_order", "SO-1")]) == ""
        assert doc_types_of(keys) == ("shipment",)


class TestOriginal:
    def test_segments_keep_released_terminators_and_honour_the_una(self) -> None:
        text = "UNA:+.? 'UNB+UNOC:3+A+B'\nFTX+AAA+++it?'s fine'\r\nUNZ+1+1'"
        assert segments(text) == ["UNA:+.? '", "UNB+UNOC:3+A+B'", "FTX+AAA+++it?'s fine'", "UNZ+1+1'"]
        custom = "UNA:+.? !UNB+X!UNZ+1!"
        assert segments(custom) == ["UNA:+.? !", "UNB+X!", "UNZ+1!"]
        assert segments("UNB+X'UNZ+1'") == ["UNB+X'", "UNZ+1'"]

    def test_findings_are_placed_on_their_line_or_segment(self, tmp_path: Path) -> None:
        csv = tmp_path / "a.csv"
        csv.write_text("sku,qty\nA,1\nB,x\n", encoding="utf-8")
        finding = {"code": "not_numeric", "message": "no", "location": {"line": 3}}
        elsewhere = {"code": "unknown", "message": "whole file", "location": {}}
        shown = read(csv, "csv", "utf-8", [finding, elsewhere])
        assert shown.unit == "line" and [r.findings for r in shown.rows] == [[], [], [finding]]
        assert shown.unplaced == [elsewhere]
        edi = tmp_path / "a.edi"
        edi.write_bytes(b"UNB+UNOC:3+A+B'UNH+1+X'QTY+12:x'")
        on_qty = {"code": "not_numeric", "message": "no", "location": {"segment_index": 3}}
        shown = read(edi, None, "latin-1", [on_qty])
        assert shown.unit == "segment" and shown.rows[2].findings == [on_qty]


class TestRootHolder:
    def test_the_holder_is_named_while_a_service_holds_the_root(self, tmp_path: Path) -> None:
        assert rootlock.holder(tmp_path) is None
        code = (
            "import sys, time; from pathlib import Path; from gateway import rootlock\n"
            "with rootlock.hold(Path(sys.argv[1])):\n"
            "    print('held', flush=True); time.sleep(60)"
        )
        holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                                  text=True, cwd=REPO)  # fmt: skip
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            assert (rootlock.holder(tmp_path) or {}).get("pid") == str(holder.pid)
            with rootlock.attempt(tmp_path, "test") as held:
                assert not held
        finally:
            holder.kill()
            holder.wait(timeout=30)
        assert rootlock.holder(tmp_path) is None
        with rootlock.attempt(tmp_path, "test") as held:
            assert held


class TestLedger:
    def test_a_ledger_of_the_previous_version_gets_the_actions_table(self, tmp_path: Path) -> None:
        path = tmp_path / "g.db"
        SqliteLedger(path).close()
        old = sqlite3.connect(path)
        old.executescript(f"DROP TABLE actions; PRAGMA user_version = {STEPS.index(ACTIONS)};")
        old.close()
        ledger = SqliteLedger(path)
        assert ledger.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        seq = ledger.request_action("f1/sage", "retry", "ann", "fixed")
        assert [a.state for a in ledger.pending_actions()] == [ActionState.REQUESTED]
        ledger.finish_action(seq, ok=True, result="published")
        ledger.finish_action(seq, ok=False, result="a second finish changes nothing")
        (action,) = ledger.actions("f1")
        assert (action.case_id, action.state, action.result) == ("f1/sage", ActionState.DONE, "published")
        detail = {"case": "f1/sage", "who": "ann", "reason": "fixed"}
        assert ledger.events("f1")[0][1:] == ("operator_retry", detail)
        ledger.close()


@pytest.mark.service
def test_the_command_line_records_who_and_why_and_trace_finds_quarantined_keys(scene: Scene) -> None:
    case = scene.cases["despatch.edi"]
    found = run_cli("--config", scene.config_path, "--root", scene.root, "trace", "5412345000013:DESADV1")
    assert found.returncode == 0 and case in found.stdout
    retried = run_cli("--config", scene.config_path, "--root", scene.root, "quarantine", "retry", case,
                      "--reason", "sender fixed it")  # fmt: skip
    assert retried.returncode == 1 and f"{case}: retried as" in retried.stdout  # refused again
    trace = run_cli("--config", scene.config_path, "--root", scene.root, "trace", case).stdout
    assert "operator retry of" in trace and "because 'sender fixed it': done" in trace
    missing = run_cli("--config", scene.config_path, "--root", scene.root, "quarantine", "discard", case,
                      "--reason", "gone")  # fmt: skip
    assert missing.returncode == 1 and f"gateway: {case} is not in quarantine" in missing.stderr


def test_the_console_refuses_to_serve_off_the_loopback_without_a_token(tmp_path: Path) -> None:
    refused = run_cli("console", "--root", tmp_path, "--host", "0.0.0.0", "--port", "1")
    assert refused.returncode == 78 and "set console_token" in refused.stderr
    short = tmp_path / "gateway.toml"
    short.write_text('console_token = "guessable"\n', encoding="utf-8")
    weak = run_cli("--config", short, "console", "--root", tmp_path, "--host", "0.0.0.0", "--port", "1")
    assert weak.returncode == 78 and "console_token: must be at least 16 characters" in weak.stderr
