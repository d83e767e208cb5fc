"""Routing to ERP/WMS targets: fan-out, partner and field matches, unrouted documents, ownership."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.canonical.build import record_from_dict
from gateway.canonical.records import Record
from gateway.config import Config
from gateway.errors import ConfigError
from gateway.pipeline.routing import Router

TARGETS = [
    {"name": "sage", "format": "sage100"},
    {"name": "netsuite", "format": "netsuite.item_fulfillment"},
    {"name": "sage-so", "format": "sage100.sales_order"},
]
SOURCES = [
    {"name": "wms", "side": "wms"},
    {"name": "erp", "side": "erp"},
    {"name": "edi", "side": "any"},
]


def shipment(**extra: object) -> Record:
    return record_from_dict({"doc_type": "shipment", "doc_id": "S1", "shipment_id": "S1", **extra})


def order(**extra: object) -> Record:
    return record_from_dict({"doc_type": "sales_order", "doc_id": "SO1", "order_number": "SO1", **extra})


@pytest.fixture(name="build")
def _build(make_config: Callable[..., Config]) -> Callable[..., tuple[Config, Router]]:
    def build(routes: list[dict[str, object]], **extra: object) -> tuple[Config, Router]:
        config = make_config(source=SOURCES, target=TARGETS, route=routes, **extra)
        return config, Router(config)

    return build


def test_fan_out_to_two_targets_in_route_order(build: Callable[..., tuple[Config, Router]]) -> None:
    config, router = build([
        {"doc_type": "shipment", "from": ["wms"], "to": ["sage", "netsuite"]},
        {"doc_type": "*", "to": ["canonical", "sage"]},
    ])  # fmt: skip
    targets, finding = router.route(shipment(), config.source("wms"))
    assert finding is None
    assert targets == ["sage", "netsuite", "canonical"]


def test_partner_matches_sender_or_receiver(build: Callable[..., tuple[Config, Router]]) -> None:
    config, router = build(
        [{"doc_type": "sales_order", "partner": ["5412345*"], "to": ["sage-so"]}], unrouted="quarantine"
    )
    source = config.source("edi")
    assert router.route(order(sender={"id": "5412345000013"}), source) == (["sage-so"], None)
    assert router.route(order(receiver={"id": "5412345000099"}), source)[0] == ["sage-so"]
    targets, finding = router.route(order(sender={"id": "4000000000000"}), source)
    assert targets == []
    assert finding is not None and finding.code == "unrouted"


def test_field_values_select_the_route(build: Callable[..., tuple[Config, Router]]) -> None:
    config, router = build([
        {"doc_type": "shipment", "where": {"warehouse": "DC1"}, "to": ["sage"]},
        {"doc_type": "shipment", "where": {"warehouse": "DC2", "carrier": "UPSN"}, "to": ["netsuite"]},
    ])  # fmt: skip
    wms = config.source("wms")
    assert router.route(shipment(warehouse="DC1"), wms)[0] == ["sage"]
    assert router.route(shipment(warehouse="DC2", carrier="UPSN"), wms)[0] == ["netsuite"]
    # Unmatched goes to canonical only (the default unrouted policy), never nowhere.
    assert router.route(shipment(warehouse="DC2", carrier="FDEG"), wms) == (["canonical"], None)


def test_unrouted_quarantine_policy_names_type_and_source(
    build: Callable[..., tuple[Config, Router]],
) -> None:
    config, router = build([{"doc_type": "shipment", "to": ["sage"]}], unrouted="quarantine")
    targets, finding = router.route(order(), config.source("erp"))
    assert targets == []
    assert finding is not None
    assert finding.code == "unrouted"
    assert "sales_order" in finding.message and "'erp'" in finding.message
    assert finding.location == {"record": "SO1"}


@pytest.mark.parametrize(
    ("record", "source", "owner"),
    [(shipment(), "erp", "WMS"), (order(), "wms", "ERP"),
     (record_from_dict({"doc_type": "price_list", "doc_id": "P1"}), "wms", "ERP")],
)  # fmt: skip
def test_domain_violation(
    build: Callable[..., tuple[Config, Router]], record: Record, source: str, owner: str
) -> None:
    config, router = build([{"doc_type": "*", "to": ["sage"]}])
    targets, finding = router.route(record, config.source(source))
    assert targets == []
    assert finding is not None and finding.code == "domain_violation"
    assert f"belongs to the {owner}" in finding.message


def test_any_side_source_may_send_both_domains(build: Callable[..., tuple[Config, Router]]) -> None:
    config, router = build([{"doc_type": "*", "to": ["sage"]}])
    for record in (shipment(), order()):
        assert router.route(record, config.source("edi")) == (["sage"], None)


def test_route_config_problems_are_reported(make_config: Callable[..., Config]) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(target=TARGETS, route=[{"doc_type": "shipment", "to": ["nowhere"], "partner": 7}])
    text = " ".join(caught.value.problems)
    assert "route[0].to: no target named 'nowhere'" in text
    assert "route[0].partner: expected a list of strings" in text
