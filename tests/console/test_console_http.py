"""The console over HTTP (Starlette's TestClient): pages, filters, the case page, actions with
their CSRF token, reason and dry run, the ledger record of who and why, and the guards."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from gateway.console.app import build
from gateway.errors import ConfigError
from gateway.ledger.actions import ActionState
from gateway.ledger.states import DeliveryState, FileState
from tests.conftest import run_cli
from tests.console.cases import FIXED, Scene
from tests.waiting import wait_until

pytestmark = pytest.mark.service

LOCAL = "http://127.0.0.1"


def client(scene: Scene, host: str = "127.0.0.1") -> TestClient:
    return TestClient(build(scene.config(), host), base_url=LOCAL, follow_redirects=False)


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def act(web: TestClient, token: str | None, **fields: str) -> httpx.Response:
    """POST an action form (with this token, or none)."""
    return web.post("/actions", data={**({"csrf": token} if token else {}), **fields})


def rows(page: str) -> list[str]:
    return re.findall(r'<td><a href="/cases/([^"]+)">', page)


class TestPages:
    def test_the_inbox_lists_every_case_with_what_an_operator_needs(self, scene: Scene) -> None:
        page = client(scene).get("/quarantine")
        assert page.status_code == 200
        assert sorted(rows(page.text)) == sorted(scene.cases.values())
        text = page.text
        # Partner and business keys of a file refused before acceptance come from the ledger.
        assert "5412345000013" in text  # the DESADV's sender, from its UNB
        assert all(code in text for code in ("not_numeric", "unmapped_value", "unknown_layout"))
        assert "shipment" in text  # the document type
        assert all(stage in text for stage in ("validate", "write"))

    def test_filters_narrow_the_inbox(self, scene: Scene) -> None:
        web = client(scene)
        assert rows(web.get("/quarantine", params={"stage": "write"}).text) == [scene.cases["north.csv"]]
        assert rows(web.get("/quarantine", params={"partner": "5412345000013"}).text) == [
            scene.cases["despatch.edi"]
        ]
        by_key = web.get("/quarantine", params={"key": "shp-500"}).text  # part of a key, any case
        assert rows(by_key) == [scene.cases["north.csv"]]
        unmapped = web.get("/quarantine", params={"code": "unmapped_value"}).text
        assert rows(unmapped) == [scene.cases["north.csv"]]
        assert rows(web.get("/quarantine", params={"min_age_hours": "5"}).text) == []
        assert len(rows(web.get("/quarantine", params={"source": "wms", "min_age_hours": "x"}).text)) == 3

    def test_the_case_page_marks_the_finding_on_its_segment_and_line(self, scene: Scene) -> None:
        web = client(scene)
        edi = web.get(f"/cases/{scene.cases['despatch.edi']}").text
        marked = re.search(r'<tr class="marked" id="segment-(\d+)">.*?<pre>([^<]*)</pre>', edi, re.S)
        assert marked and marked.group(1) == "17" and marked.group(2).startswith("QTY+12:x10")
        csv = web.get(f"/cases/{scene.cases['orders.csv']}").text
        assert re.search(r'<tr class="marked" id="line-1">', csv)
        assert "file_quarantined" in csv  # the timeline

    def test_files_are_found_by_business_key_sha256_and_name_quarantined_ones_too(self, scene: Scene) -> None:
        web = client(scene)
        ledger = scene.ledger()
        row = ledger.get(scene.cases["despatch.edi"])
        ledger.close()
        assert row is not None and row.sha256
        for query in (row.sha256, "despatch.edi", row.file_id):
            assert f'href="/files/{row.file_id}"' in web.get("/files", params={"q": query}).text, query
        unb = web.get("/files", params={"q": "5412345000013:DESADV1"}).text
        assert f'href="/files/{row.file_id}"' in unb
        north = scene.cases["north.csv"].split("/")[0]
        page = web.get(f"/files/{north}").text
        assert re.search(r"<td>sage</td><td>#1</td><td class=\"state refused\">refused", page)
        assert re.search(r"<td>canonical</td><td>#1</td><td class=\"state published\">published", page)

    def test_partners_and_targets(self, scene: Scene) -> None:
        web = client(scene)
        partners = web.get("/partners").text
        assert "5412345000013" in partners and "wms" in partners
        targets = web.get("/targets").text
        assert "sage100.shipment" in targets and "no warehouse mapping" in targets


class TestActions:
    def test_a_post_without_the_csrf_token_is_refused(self, scene: Scene) -> None:
        web = client(scene)
        web.get("/quarantine")
        sent = act(web, None, action="discard", case=scene.cases["orders.csv"], reason="x", operator="eve")
        assert sent.status_code == 403
        other = client(scene)  # another browser's token is not this session's
        token = csrf(other.get("/quarantine").text)
        sent = act(web, token, action="discard", case=scene.cases["orders.csv"], reason="x", operator="eve")
        assert sent.status_code == 403
        assert (scene.root / "quarantine" / scene.cases["orders.csv"]).is_dir()

    def test_a_reason_is_required_and_a_dry_run_changes_nothing(self, scene: Scene) -> None:
        web = client(scene)
        token = csrf(web.get("/quarantine").text)
        case = scene.cases["orders.csv"]
        refused = act(web, token, action="discard", case=case, reason=" ", operator="ann")
        assert refused.status_code == 400 and "a reason is required" in refused.text
        dry = act(web, token, action="discard", scope="filter", stage="validate", reason="junk",
                  operator="ann", dry_run="1")  # fmt: skip
        assert dry.status_code == 200
        listed = re.findall(r'<input type="hidden" name="case" value="([^"]+)">', dry.text)
        assert sorted(listed) == sorted([scene.cases["orders.csv"], scene.cases["despatch.edi"]])
        assert "archive/discarded/" in dry.text
        # Its confirmation carries the same who and why.
        assert 'name="operator" value="ann"' in dry.text and 'name="reason" value="junk"' in dry.text
        ledger = scene.ledger()
        assert ledger.actions() == []
        ledger.close()
        assert len(rows(web.get("/quarantine").text)) == 3

    def test_bulk_discard_over_a_filter_is_recorded_with_who_and_why(self, scene: Scene) -> None:
        web = client(scene)
        token = csrf(web.get("/quarantine").text)
        done = act(web, token, action="discard", scope="filter", stage="validate", reason="test files",
                   operator="ann")  # fmt: skip
        assert done.status_code == 200 and done.text.count(": discarded") == 2
        assert rows(web.get("/quarantine").text) == [scene.cases["north.csv"]]
        ledger = scene.ledger()
        recorded = ledger.actions()
        states = {scene.cases[n]: ledger.get(scene.cases[n]).state for n in ("orders.csv", "despatch.edi")}  # type: ignore[union-attr]
        ledger.close()
        assert [(a.action, a.who, a.reason, a.state) for a in recorded] == [
            ("discard", "ann (console)", "test files", ActionState.DONE)
        ] * 2
        assert set(states.values()) == {FileState.DISCARDED}
        trace = run_cli("--config", scene.config_path, "--root", scene.root, "trace", "orders.csv")
        assert "operator discard of" in trace.stdout and "by ann (console)" in trace.stdout
        assert "'test files'" in trace.stdout

    def test_retry_after_fixing_the_value_map_delivers_with_no_service_running(self, scene: Scene) -> None:
        web = client(scene)
        case = scene.cases["north.csv"]
        token = csrf(web.get(f"/cases/{case}").text)
        scene.value_map.write_text(FIXED, encoding="utf-8")
        done = act(web, token, action="retry", case=case, reason="DC2 and DC9 mapped", operator="bob")
        assert done.status_code == 200 and f"{case}: retried: published" in done.text
        ledger = scene.ledger()
        file_id = case.split("/")[0]
        latest = [d for d in ledger.deliveries(file_id=file_id) if d.target == "sage"][-1]
        (action,) = ledger.actions(file_id)
        ledger.close()
        assert latest.state is DeliveryState.PUBLISHED
        assert (action.who, action.reason) == ("bob (console)", "DC2 and DC9 mapped")
        assert action.state is ActionState.DONE
        assert not (scene.root / "quarantine" / case).exists()
        # The case is closed: its page now shows the file.
        assert web.get(f"/cases/{case}").headers["location"] == f"/files/{file_id}"

    def test_a_running_service_is_handed_the_retry_through_the_ledger(self, scene: Scene, service) -> None:  # type: ignore[no-untyped-def]
        service()
        web = client(scene)
        case = scene.cases["despatch.edi"]
        token = csrf(web.get("/quarantine").text)
        done = act(web, token, action="retry", case=case, reason="sender resent the values", operator="cy")
        assert "handed to the running service" in done.text

        def finished() -> list[object]:
            ledger = scene.ledger()
            try:
                return [a for a in ledger.actions(case) if a.state is not ActionState.REQUESTED]
            finally:
                ledger.close()

        (action,) = wait_until(finished, what="the service to perform the retry")
        # The same refusal again (nothing was fixed), now as a new attempt linked to the old one.
        assert action.state is ActionState.DONE and "retried as" in str(action.result)
        assert "quarantined" in str(action.result)
        # The command line hands its retries over the same way.
        new_case = rows(web.get("/quarantine", params={"partner": "5412345000013"}).text)[0]
        cli = run_cli("--config", scene.config_path, "--root", scene.root, "quarantine", "retry", new_case)
        assert f"{new_case}: retry handed to the running service" in cli.stdout


class TestGuards:
    def test_request_paths_never_reach_the_filesystem_unchecked(self, scene: Scene) -> None:
        web = client(scene)
        for path in ("/cases/..%2F..%2Fgateway.toml", "/cases/20260101T000000-000000000000",
                     "/cases/20260101T000000-000000000000/..", "/files/..%2Fgateway.db", "/files/x",
                     "/static/..%2F..%2Fconsole%2Fpages.py"):  # fmt: skip
            assert web.get(path).status_code == 404, path
        token = csrf(web.get("/quarantine").text)
        sent = act(web, token, action="discard", case="../../etc", reason="x", operator="eve")
        assert sent.status_code == 400 and "no case in quarantine matches" in sent.text

    def test_another_host_name_is_refused_on_the_loopback(self, scene: Scene) -> None:
        rebound = TestClient(build(scene.config()), base_url="http://attacker.example")
        assert rebound.get("/quarantine").status_code == 400

    def test_off_the_loopback_a_token_is_required(self, scene: Scene, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="console_token"):
            build(scene.config(), "0.0.0.0")
        token = "s3cret-s3cret-s3cret"
        scene.config_path.write_text(f'console_token = "{token}"\n' + scene.config_path.read_text())
        web = TestClient(build(scene.config(), "0.0.0.0"), base_url="http://gateway.example",
                         follow_redirects=False)  # fmt: skip
        assert web.get("/quarantine").headers["location"] == "/login"
        assert act(web, None).status_code == 403
        login = csrf(web.get("/login").text)
        assert web.post("/login", data={"csrf": login, "token": "wrong-wrong-wrong"}).status_code == 403
        assert web.post("/login", data={"csrf": login, "token": token}).status_code == 303
        assert web.get("/quarantine").status_code == 200
        bearer = TestClient(build(scene.config(), "0.0.0.0"), base_url="http://gateway.example")
        assert bearer.get("/targets", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_console_serves_the_metrics_prometheus_reads(scene: Scene) -> None:
    with client(scene) as http:
        page = http.get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(page.text)}
    (quarantined,) = families["gateway_quarantine_files"].samples
    assert quarantined.value == 3


def test_the_partner_page_shows_expected_files_and_acknowledgements(scene: Scene) -> None:
    with scene.config_path.open("a", encoding="utf-8") as config:
        config.write('\n[[expect]]\nname = "wms-inventory"\nsource = "wms"\npattern = "INV_*.csv"\n'
                     'by = "0 6 * * *"\ncount = 1\n')  # fmt: skip
    ledger = scene.ledger()
    try:
        ledger.interchange_sent("f-1", "edi-out", "RETAILER", "GATEWAY", "REF-1", [{"ref": "1"}], None)
    finally:
        ledger.close()
    page = client(scene).get("/partners")
    assert page.status_code == 200
    expected = page.text.split("<h1>Expected files")[1].split("<h1>")[0]
    assert "wms-inventory" in expected and "0 of 1" in expected and "LATE" in expected
    acks = page.text.split("<h1>Acknowledgements")[1]
    assert "<td>RETAILER</td>" in acks and "<td>1</td>" in acks
