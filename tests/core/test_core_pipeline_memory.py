"""The pipeline over the in-memory doubles: what happens to a file, without drop or outbound folders.

Files come from a MemorySource and outputs go to MemoryDelivery instances, so these tests say
what the pipeline does (accept, quarantine, duplicate, postpone) and leave folders to the tests
where folders are the point (test_core_pipeline.py, the service and SFTP tests).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from gateway import quarantine
from gateway.config import Config
from gateway.delivery.memory import MemoryDelivery
from gateway.errors import DeliveryFailed
from gateway.ledger.sqlite import SqliteLedger
from gateway.pipeline.process import Outcome, Pipeline
from gateway.sources.memory import MemorySource
from tests.waiting import file_states

ADJUSTMENT = "adjustment_id,sku,mode,quantity_change\n{id},A,delta,-1\n"
SALES_ORDER = (
    "order_number,order_date,customer_id,line_no,sku,quantity,unit_price,currency\n"
    "SO-1,2026-11-02,C-1,1,A,2,9.50,EUR\n"
)


@dataclass
class Gateway:
    """A pipeline wired to a memory source and memory deliveries."""

    config: Config
    ledger: SqliteLedger
    source: MemorySource
    deliveries: dict[str, MemoryDelivery]
    pipeline: Pipeline

    def run(self) -> dict[str, Outcome]:
        """Claim and process every file the source offers; outcomes by name."""
        outcomes = {}
        for candidate in self.source.poll():
            row = self.source.claim(self.ledger, self.config.folder("work"), candidate)
            outcomes[candidate.name] = self.pipeline.process(row.file_id)
        return outcomes

    def records(self, target: str = "canonical") -> list[dict[str, object]]:
        """Every record published to `target`, in output-name order."""
        published = self.deliveries[target].published
        return [json.loads(line) for name in sorted(published) for line in published[name].splitlines()]


@pytest.fixture(name="wire")
def _wire(make_config: Callable[..., Config]) -> Iterator[Callable[..., Gateway]]:
    opened: list[SqliteLedger] = []

    def wire(**raw: object) -> Gateway:
        config = make_config(**raw)
        ledger = SqliteLedger(config.ledger_path)
        opened.append(ledger)
        deliveries = {t.name: MemoryDelivery(t.name) for t in config.targets}
        pipeline = Pipeline(config, ledger, deliveries)
        return Gateway(config, ledger, MemorySource(config.sources[0]), deliveries, pipeline)

    yield wire
    for ledger in opened:
        ledger.close()


class TestAccepted:
    def test_records_are_published_and_nothing_stays_staged(self, wire: Callable[..., Gateway]) -> None:
        gateway = wire()
        gateway.source.put("a.csv", ADJUSTMENT.format(id="ADJ-1").encode())
        outcome = gateway.run()["a.csv"]
        assert (outcome.state, outcome.records, outcome.format) == ("accepted", 1, "csv")
        assert [r["doc_id"] for r in gateway.records()] == ["ADJ-1"]
        (row,) = gateway.ledger.files()
        assert list(gateway.deliveries["canonical"].published) == [f"a.{row.file_id}.jsonl"]
        assert gateway.deliveries["canonical"].staging == {}
        assert [o.state for o in gateway.ledger.outputs(row.file_id)] == ["published"]

    def test_a_route_sends_each_record_to_its_target(self, wire: Callable[..., Gateway]) -> None:
        gateway = wire(target=[{"name": "wms", "format": "jsonl"}],
                       route=[{"doc_type": "sales_order", "to": ["wms"]}])  # fmt: skip
        gateway.source.put("orders.csv", SALES_ORDER.encode())
        gateway.source.put("adj.csv", ADJUSTMENT.format(id="ADJ-1").encode())
        outcomes = gateway.run()
        assert {name: o.state for name, o in outcomes.items()} == dict.fromkeys(outcomes, "accepted")
        assert sorted(outcomes) == ["adj.csv", "orders.csv"]
        assert [r["doc_id"] for r in gateway.records("wms")] == ["SO-1"]
        assert [r["doc_id"] for r in gateway.records()] == ["ADJ-1"]  # unrouted: canonical

    def test_an_unreachable_destination_postpones_the_file_until_it_is_back(
        self, wire: Callable[..., Gateway]
    ) -> None:
        gateway = wire()
        canonical = gateway.deliveries["canonical"]
        canonical.reachable = False
        gateway.source.put("a.csv", ADJUSTMENT.format(id="ADJ-1").encode())
        with pytest.raises(DeliveryFailed):
            gateway.run()
        assert file_states(gateway.ledger) == {"a.csv": "processing"}
        assert canonical.published == {}
        canonical.reachable = True
        (row,) = gateway.ledger.files()
        assert gateway.pipeline.process(row.file_id).state == "accepted"
        assert [r["doc_id"] for r in gateway.records()] == ["ADJ-1"]
        assert canonical.staging == {}


class TestQuarantined:
    def test_findings_quarantine_the_file_and_discard_what_was_staged(
        self, wire: Callable[..., Gateway]
    ) -> None:
        gateway = wire()
        gateway.source.put("bad.csv", b"adjustment_id,sku,mode,quantity_change\nADJ-1,A,delta,lots\n")
        outcome = gateway.run()["bad.csv"]
        assert (outcome.state, outcome.findings) == ("quarantined", 1)
        (row,) = gateway.ledger.files()
        report = quarantine.show(gateway.config, row.file_id)
        assert (report["stage"], report["original_name"]) == ("validate", "bad.csv")
        assert gateway.deliveries["canonical"].published == {}
        assert gateway.deliveries["canonical"].staging == {}

    def test_a_document_no_route_takes_is_quarantined_when_configured(
        self, wire: Callable[..., Gateway]
    ) -> None:
        gateway = wire(unrouted="quarantine", target=[{"name": "wms", "format": "jsonl"}],
                       route=[{"doc_type": "sales_order", "to": ["wms"]}])  # fmt: skip
        gateway.source.put("adj.csv", ADJUSTMENT.format(id="ADJ-1").encode())
        assert gateway.run()["adj.csv"].state == "quarantined"
        (row,) = gateway.ledger.files()
        assert quarantine.show(gateway.config, row.file_id)["stage"] == "route"
        assert all(d.published == {} for d in gateway.deliveries.values())


class TestDuplicates:
    def test_the_same_content_again_is_a_duplicate_and_not_published_twice(
        self, wire: Callable[..., Gateway]
    ) -> None:
        gateway = wire()
        content = ADJUSTMENT.format(id="ADJ-1").encode()
        gateway.source.put("a.csv", content)
        gateway.run()
        gateway.source.put("a-again.csv", content)
        assert gateway.run()["a-again.csv"].state == "duplicate"
        assert file_states(gateway.ledger) == {"a.csv": "accepted", "a-again.csv": "duplicate"}
        assert len(gateway.deliveries["canonical"].published) == 1

    def test_a_source_that_quarantines_duplicates(self, wire: Callable[..., Gateway]) -> None:
        gateway = wire(source=[{"name": "inbound", "duplicates": "quarantine"}])
        content = ADJUSTMENT.format(id="ADJ-1").encode()
        gateway.source.put("a.csv", content)
        gateway.run()
        gateway.source.put("b.csv", content)
        assert gateway.run()["b.csv"].state == "quarantined"
        (entry,) = quarantine.entries(gateway.config)
        assert (entry.stage, entry.name) == ("claim", "b.csv")
        assert "was accepted before" in entry.first_error
        assert len(gateway.deliveries["canonical"].published) == 1
