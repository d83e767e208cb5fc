"""`/metrics`: scraped over 127.0.0.1 from a running service and parsed with prometheus_client's
own parser; the counters come from the ledger, so they survive a restart."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import load
from gateway.ledger.sqlite import SqliteLedger
from gateway.metrics import exposition
from tests.ops.conftest import Start
from tests.ops.helpers_ops import free_port, stop
from tests.waiting import wait_for_final, wait_until

pytestmark = pytest.mark.service

CONFIG = """
metrics_listen = "127.0.0.1:{port}"

[[source]]
name = "inbound"
settle_seconds = 0.05
poll_seconds = 0.2

[[expect]]
name = "yearly-adjustments"
source = "inbound"
pattern = "good*.csv"
by = "0 0 1 1 *"

[[expect]]
name = "never-sent"
source = "inbound"
pattern = "nothing-*.csv"
by = "0 0 1 1 *"
"""
GOOD = "adjustment_id,sku,mode,quantity_change\nADJ-1,SKU-1,delta,4\nADJ-2,SKU-2,delta,-1\n"
BAD = "adjustment_id,sku,mode,quantity_change\nADJ-3,SKU-3,delta,many\n"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape by (name, sorted labels)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(port: int) -> tuple[str, str] | None:
    """The page and its content type; None while nothing listens yet (a service starting)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
            return response.read().decode(), response.headers["Content-Type"]
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return None
        raise


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_a_running_service_serves_its_ledger_as_prometheus_metrics(tmp_path: Path, start: Start) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    port = free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG.format(port=port))
    proc = start(config, root)
    (root / "inbound" / "good.csv").write_text(GOOD)
    (root / "inbound" / "bad.csv").write_text(BAD)
    wait_for_final(root / "gateway.db", ["good.csv", "bad.csv"])

    text, content_type = wait_until(lambda: scrape(port), what="a scrape")
    assert content_type.startswith("text/plain; version=")
    samples = parse(text)
    assert value(samples, "gateway_files_total", source="inbound", format="csv", outcome="accepted") == 1
    assert value(samples, "gateway_files_total", source="inbound", format="csv", outcome="quarantined") == 1
    assert value(samples, "gateway_documents_total", doc_type="inventory_adjustment", direction="in",
                 outcome="accepted") == 2  # fmt: skip
    assert value(samples, "gateway_documents_total", doc_type="inventory_adjustment", direction="out",
                 outcome="published") == 2  # fmt: skip
    assert value(samples, "gateway_processing_seconds_count") == 2
    assert value(samples, "gateway_processing_seconds_bucket", le="+Inf") == 2
    assert value(samples, "gateway_processing_seconds_sum") > 0
    assert value(samples, "gateway_quarantine_files") == 1
    assert value(samples, "gateway_quarantine_oldest_age_seconds") >= 0
    assert value(samples, "gateway_source_up", source="inbound") == 1
    assert value(samples, "gateway_last_success_timestamp_seconds", source="inbound") > 1.7e9
    assert value(samples, "gateway_delivery_pending", target="canonical") == 0
    assert value(samples, "gateway_expected_file_late", rule="yearly-adjustments") == 0
    assert value(samples, "gateway_expected_file_late", rule="never-sent") == 1
    (info,) = [k for k in samples if k[0] == "gateway_build_info"]
    assert dict(info[1])["version"]
    # Low cardinality: no file name or id in any label.
    assert not [k for k in samples if any(".csv" in v or "T0" in v for _, v in k[1])]

    assert stop(proc) == 0
    start(config, root)
    again = parse(wait_until(lambda: scrape(port), what="a scrape after the restart")[0])
    assert value(again, "gateway_files_total", source="inbound", format="csv", outcome="accepted") == 1
    assert value(again, "gateway_processing_seconds_count") == 2

    # What the web console mounts gives the same families from its own ledger connection.
    ledger = SqliteLedger(root / "gateway.db")
    try:
        body, mounted_type = exposition(load(config, root), ledger)
    finally:
        ledger.close()
    assert mounted_type == content_type
    mounted = parse(body.decode())
    assert {k[0] for k in mounted} == {k[0] for k in again}
    assert value(mounted, "gateway_quarantine_files") == 1


def test_a_port_in_use_is_a_configuration_error(tmp_path: Path, start: Start) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    port = free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG.format(port=port))
    start(config, root)
    wait_until(lambda: scrape(port), what="the first service's metrics")
    second = tmp_path / "root2"
    (second / "inbound").mkdir(parents=True)
    other = start(config, second)
    assert other.wait(timeout=60) == 78
    assert f"cannot listen on 127.0.0.1:{port}" in (tmp_path / "service-1.log").read_text()
