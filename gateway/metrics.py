"""`/metrics` in the Prometheus text format, computed from the ledger at each scrape.

Any process that can open the ledger serves the same numbers (the service with
`metrics_listen`, the web console by mounting `exposition`), and the counters survive restarts
and retention (ledger/tallies.py). Labels are few and bounded: sources, formats, targets,
partners, rules, document types and outcomes; never a file name or a document id.

| metric | type | labels |
|---|---|---|
| gateway_files_total | counter | source, format, outcome |
| gateway_documents_total | counter | doc_type, direction (in, out), outcome |
| gateway_processing_seconds | histogram | (claim to outcome) |
| gateway_quarantine_files | gauge | |
| gateway_quarantine_oldest_age_seconds | gauge | |
| gateway_delivery_pending | gauge | target |
| gateway_source_up | gauge | source |
| gateway_last_success_timestamp_seconds | gauge | source |
| gateway_ack_overdue | gauge | partner |
| gateway_expected_file_late | gauge | rule |
| gateway_build_info | gauge (info) | version, python |
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from gateway import expectations
from gateway.cli import health
from gateway.config import Config
from gateway.ledger import engines
from gateway.ledger.ops import parse_time
from gateway.ledger.sqlite import Ledger
from gateway.ledger.states import InterchangeState
from gateway.ledger.tallies import BUCKETS
from gateway.operations import listen_address


class LedgerCollector(Collector):
    """Reads every metric from a ledger when Prometheus asks (`open_ledger` gives one for the
    scrape; it is closed afterwards when `close` is true)."""

    def __init__(self, config: Config, open_ledger: Callable[[], Ledger], *, close: bool) -> None:
        self.config = config
        self.open_ledger = open_ledger
        self.close = close

    def collect(self) -> Iterator[Metric]:
        """The metrics, as of now."""
        ledger = self.open_ledger()
        try:
            yield from self._collect(ledger, datetime.now(UTC))
        finally:
            if self.close:
                ledger.close()

    def _collect(self, ledger: Ledger, at: datetime) -> Iterator[Metric]:
        counts = ledger.tallies()
        files = CounterMetricFamily("gateway_files", "Files by source, detected format and outcome",
                                    labels=["source", "format", "outcome"])  # fmt: skip
        docs = CounterMetricFamily("gateway_documents", "Documents read (in) and written (out) by outcome",
                                   labels=["doc_type", "direction", "outcome"])  # fmt: skip
        for (metric, labels), value in sorted(counts.items()):
            if metric == "files":
                files.add_metric(list(labels), value)
            elif metric == "documents":
                docs.add_metric(list(labels), value)
        yield files
        yield docs
        buckets = [(str(b), counts.get(("seconds_bucket", (str(b),)), 0.0)) for b in BUCKETS]
        buckets.append(("+Inf", counts.get(("seconds_count", ()), 0.0)))
        total = counts.get(("seconds_sum", ()), 0.0)
        yield HistogramMetricFamily("gateway_processing_seconds", "Time from a file's claim to its outcome",
                                    buckets=buckets, sum_value=total)  # fmt: skip
        cases, oldest = ledger.quarantine_age()
        yield GaugeMetricFamily("gateway_quarantine_files", "Cases waiting in quarantine (files and pairs)",
                                value=cases)  # fmt: skip
        age = (at - parse_time(oldest)).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily("gateway_quarantine_oldest_age_seconds", "Age of the oldest quarantine case",
                                value=age)  # fmt: skip
        yield from self._health(ledger, at)

    def _health(self, ledger: Ledger, at: datetime) -> Iterator[Metric]:
        config = self.config
        pending = ledger.pending()
        waiting = GaugeMetricFamily("gateway_delivery_pending", "Outputs and batch records on their way",
                                    labels=["target"])  # fmt: skip
        for name in sorted({t.name for t in config.targets} | set(pending)):
            waiting.add_metric([name], pending.get(name, 0))
        yield waiting
        polls = ledger.source_rows()
        up = GaugeMetricFamily("gateway_source_up", "Whether the last poll reached the source",
                               labels=["source"])  # fmt: skip
        last = GaugeMetricFamily("gateway_last_success_timestamp_seconds",
                                 "When the source's latest file was accepted", labels=["source"])  # fmt: skip
        successes = ledger.last_success()
        for source in config.sources:
            poll = polls.get(source.name)
            reachable = bool(poll["reachable"]) if poll else source.type != "local" or source.path.is_dir()
            up.add_metric([source.name], float(reachable))
            if source.name in successes:
                last.add_metric([source.name], parse_time(successes[source.name]).timestamp())
        yield up
        yield last
        overdue = GaugeMetricFamily("gateway_ack_overdue", "Interchanges whose acknowledgement is overdue",
                                    labels=["partner"])  # fmt: skip
        for partner, states in sorted(ledger.ack_summary().items()):
            overdue.add_metric([partner], states.get(InterchangeState.OVERDUE, 0))
        yield overdue
        late = GaugeMetricFamily("gateway_expected_file_late", "1 while an expected file is late",
                                 labels=["rule"])  # fmt: skip
        for rule in config.ops.expect:
            late.add_metric([rule.name], float(expectations.check(rule, ledger, at).late))
        yield late
        # On a shared ledger, each live instance by name (one series per instance, so bounded).
        claims = GaugeMetricFamily("gateway_instance_claims", "Unfinished files a live instance holds",
                                   labels=["instance", "host"])  # fmt: skip
        beat = GaugeMetricFamily("gateway_instance_heartbeat_timestamp_seconds", "A live instance's latest"
                                 " heartbeat", labels=["instance", "host"])  # fmt: skip
        for live in health.instances(ledger, config):
            claims.add_metric([live["instance"], live["host"]], live["claims"])
            beat.add_metric([live["instance"], live["host"]], parse_time(live["heartbeat_at"]).timestamp())
        yield claims
        yield beat
        info = GaugeMetricFamily("gateway_build_info", "The gateway's version", labels=["version", "python"])
        info.add_metric([version("gateway"), platform.python_version()], 1)
        yield info


def exposition(config: Config, ledger: Ledger, accept: str = "") -> tuple[bytes, str]:
    """The `/metrics` page for this ledger: (body, content type), in the format the request's
    `Accept` header asks for (the classic text format without one). What the web console
    mounts at /metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(config, lambda: ledger, close=False))
    encode, content_type = choose_encoder(accept)
    return encode(registry), content_type


def serve(config: Config) -> tuple[WSGIServer, threading.Thread]:
    """Serve `/metrics` on `metrics_listen` in a thread; each scrape opens the ledger anew, so
    the service's own connection is never used from two threads."""
    assert config.ops.metrics_listen is not None
    host, port = listen_address(config.ops.metrics_listen)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(config, lambda: engines.open_ledger(config), close=True))
    return start_http_server(port, addr=host, registry=registry)
