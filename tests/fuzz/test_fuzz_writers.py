"""Every target under hostile records, and decode ∘ encode where a format is read back.

Writers: any record gives an output or findings naming the record, never an exception. Round
trips: the records of a valid sample, their text fields replaced by drawn values full of the
format's own separators and escapes, written by a target and read back by the gateway's reader,
are either refused by the writer with findings or come back with the same business fields.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gateway import plugins
from gateway.canonical.build import record_from_dict
from gateway.canonical.records import Record
from gateway.cli import check
from gateway.config import Config, SourceConfig, TargetConfig, parse
from gateway.findings import Code
from gateway.targets.base import FileInfo
from tests.conftest import SAMPLES
from tests.fuzz.bounds import bounded
from tests.targets.test_targets_hostile import documents
from tests.targets.test_targets_rules import Memory

PARTNER = {"sender": "5412345000013", "receiver": "4012345000009"}
#: The targets test_targets_hostile does not cover, each with what it needs to be configured.
TARGETS: list[tuple[str, dict[str, Any]]] = [
    ("jsonl", {}),
    ("edifact", PARTNER),
    ("edifact", {**PARTNER, "syntax": "UNOA"}),
    ("idoc", {"syntax": "flat"}),
    ("idoc", {}),
    ("xml", {"layout": "ubl.despatch_advice"}),
    ("xml", {"layout": "ubl.order"}),
    ("xml", {"layout": "erp.products"}),
    ("xml", {"layout": "erp.inventory_adjustments"}),
]


@pytest.fixture(name="config", scope="module")
def _config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return parse({"source": [{"name": "fuzz"}]}, tmp_path_factory.mktemp("root"))


def write(fmt: str, options: dict[str, Any], records: list[Record]) -> tuple[Memory, list[Any]]:
    target = plugins.target(fmt)(TargetConfig("t", fmt, "local:out", options))
    memory = Memory()
    with bounded():
        writer = target.writer(FileInfo("F1", "in.csv"), memory)
        findings = [f for record in records for f in writer.write(record)]
        writer.close()
    return memory, findings


@pytest.mark.parametrize(("fmt", "options"), TARGETS, ids=[f"{f}-{o}" for f, o in TARGETS])
@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents())
def test_every_target_writes_or_refuses(fmt: str, options: dict[str, Any], doc: dict[str, Any]) -> None:
    record = record_from_dict(doc)
    memory, findings = write(fmt, options, [record])
    for finding in findings:
        assert finding.code != Code.INTERNAL_ERROR and finding.message
        # The record, by its id (the XML target counts documents and gives the id as the value).
        assert record.doc_id in (finding.location.get("record"), finding.value), finding
        finding.render("in.csv")
    for name, data in memory.data.items():
        assert len(data) < 200_000, name


#: Compared apart from the envelope, and from doc_id, which a reader derives from the id fields
#: (a product's is its sku) that are compared themselves.
ENVELOPE = ("source", "sender", "receiver", "issued_at", "extensions", "doc_id")
#: Where partners' free text goes: ids, codes, numbers and dates stay as the sample has them.
FREE_TEXT = frozenset({"carrier", "description", "sku", "lot", "name", "buyer_sku", "supplier_sku",
                       "tracking_numbers", "customer_po", "reference", "notes", "address_lines", "city"})
TEXT = st.text(alphabet="AZaz09-_/.,;:+?'*\"<>&=#@!%()[]{}|\\~^`$Ééüß€", min_size=1, max_size=17).filter(
    # Formula guards quote a leading =+-@; SAP's ALPHA conversion pads an all-digit material number.
    lambda s: s.strip() == s and not s.startswith(("=", "+", "-", "@")) and not s.isdigit()
)


def business(record: Record) -> dict[str, Any]:
    data = record.to_dict()
    for key in ENVELOPE:
        data.pop(key, None)
    data["lines"] = sorted(data.get("lines", []), key=lambda line: str(line.get("line_no")))
    for line in data["lines"]:
        line.pop("extensions", None)
    return data


def replaced(data: Any, draw: st.DrawFn, free: frozenset[str], key: str = "") -> Any:
    """`data` with some of its `free` text values replaced by drawn ones."""
    if isinstance(data, dict):
        return {k: replaced(v, draw, free, k) for k, v in data.items()}
    if isinstance(data, list):
        return [replaced(v, draw, free, key) for v in data]
    if isinstance(data, str) and key in free and draw(st.booleans()):
        return draw(TEXT)
    return data


def read_back(config: Config, name: str, data: bytes) -> tuple[list[Record], check.Report]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        report = check.Report(path)
        with bounded():
            records = list(check.read(path, config, SourceConfig(name="back"), report))
    return records, report


#: DELVRY carries a shipment's tracking numbers on its handling units (E1EDL37-EXIDV2) and one more
#: in its bill of lading (E1EDL20-BOLNR): a drawn list that no package holds is refused, so the IDoc
#: trips keep them; and a line read from an IDoc keeps its SAP material number, which the writer
#: prefers to the sku.
KEPT_BY_IDOC = frozenset({"tracking_numbers", "sku"})
ROUND_TRIPS: list[tuple[str, str, dict[str, Any], frozenset[str]]] = [
    ("edifact/desadv_d96a.edi", "edifact", PARTNER, frozenset()),
    ("edifact/recadv_d01b_bom.edi", "edifact", PARTNER, frozenset()),
    ("idoc/delvry07-delivery-hu-batches.idoc", "idoc", {}, KEPT_BY_IDOC),
    ("csv/sales-orders.csv", "canonical_csv", {}, frozenset()),
    ("csv/shipments.csv", "canonical_csv", {}, frozenset()),
    ("csv/products.csv", "canonical_csv", {}, frozenset()),
]


@pytest.mark.parametrize(("sample", "fmt", "options", "kept"), ROUND_TRIPS, ids=[t[0] for t in ROUND_TRIPS])
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_written_then_read_back_is_the_same(
    sample: str, fmt: str, options: dict[str, Any], kept: frozenset[str], config: Config, data: st.DataObject
) -> None:
    originals, report = read_back(config, Path(sample).name, (SAMPLES / "inbound" / sample).read_bytes())
    assert originals and report.valid, report.findings
    records = [record_from_dict(replaced(r.to_dict(), data.draw, FREE_TEXT - kept)) for r in originals]
    # A product is known by its sku: two with one sku in a file are one product said twice.
    assume(len({getattr(r, "sku", None) or r.doc_id for r in records}) == len(records))
    memory, findings = write(fmt, options, records)
    if findings:  # refused, each with a reason: what the other records did is another test's
        assert all(f.message and f.code != Code.INTERNAL_ERROR for f in findings), findings
        return
    back: list[Record] = []
    for name, output in memory.data.items():
        got, report = read_back(config, name, output)
        assert report.valid, (name, report.findings, output[:2000])
        back.extend(got)
    for got, sent in zip([business(r) for r in back], [business(r) for r in records], strict=True):
        assert got == sent, {k: (got.get(k), sent.get(k)) for k in got.keys() | sent.keys()
                             if got.get(k) != sent.get(k)}  # fmt: skip
