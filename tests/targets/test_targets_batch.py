"""Cross-file batches: several input files into one output, by size or time window, crash-safe."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway import config as config_module
from gateway.cli import report
from gateway.config import Config
from gateway.errors import ConfigError
from gateway.ledger.engines import open_ledger
from gateway.ledger.protocol import Backlog
from gateway.ledger.sqlite import SqliteLedger, new_file_id, now
from gateway.ledger.states import DeliveryState
from gateway.pipeline.batching import Ages
from gateway.service import Service
from tests.conftest import REPO, run_cli
from tests.targets.test_targets_golden import INBOUND
from tests.waiting import wait_for_batches, wait_for_final, wait_until

SHIPMENT = (INBOUND / "erp-shipment.csv").read_text(encoding="utf-8")
SOURCE = {"name": "wms", "side": "wms", "settle_seconds": 0.05, "poll_seconds": 0.1}
NETSUITE = {"format": "netsuite", "adjustment_account": "Inventory Adjustment"}


def shipment(n: int) -> str:
    """The sample shipment file with its two shipments renumbered (SHP-n01, SHP-n02)."""
    return SHIPMENT.replace("SHP-50", f"SHP-{n}0")


#: The ledger of the in-process tests ("" for SQLite), set per engine by `over_both_engines`.
LEDGER = ""


@pytest.fixture(name="over_both_engines")
def _over_both_engines(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "LEDGER", engine)


def configure(root: Path, *targets: dict[str, Any]) -> Config:
    to = [t["name"] for t in targets]
    raw = {"source": [SOURCE], "target": list(targets),
           "route": [{"doc_type": "shipment", "from": ["wms"], "to": to}]}  # fmt: skip
    return config_module.parse({**raw, "ledger": LEDGER} if LEDGER else raw, root)


def drop(root: Path, *files: tuple[str, str]) -> None:
    for name, text in files:
        (root / "inbound" / name).write_text(text, encoding="utf-8")


def drain(config: Config) -> SqliteLedger:
    ledger = open_ledger(config)
    assert Service(config, ledger).run(once=True) == 0
    return ledger


def published(config: Config, target: str) -> list[Path]:
    folder = config.target(target).local_dir
    return sorted(p for p in folder.iterdir() if not p.name.endswith(".tmp")) if folder.exists() else []


def accept_one(config: Config) -> tuple[SqliteLedger, Service]:
    """A service that has accepted one shipment file and closed no batch yet."""
    drop(config.state_dir, ("s1.csv", shipment(1)))
    ledger = open_ledger(config)
    service = Service(config, ledger)
    assert wait_for_final(ledger, ["s1.csv"], step=service.poll_once) == {"s1.csv": "accepted"}
    return ledger, service


class TestConfig:
    def test_batch_options_are_checked_with_the_rest(self, root: Path) -> None:
        raw = {"target": [
            {"name": "a", **NETSUITE, "batch_size": 0},
            {"name": "b", **NETSUITE, "batch_window": "soon"},
            {"name": "c", **NETSUITE, "batch_size": 10, "split": "document",
             "file_name": "{layout}.{doc_id}.{file_id}.csv"},
        ]}  # fmt: skip
        with pytest.raises(ConfigError) as caught:
            config_module.parse(raw, root)
        text = str(caught.value)
        assert "target[0].batch_size: must be greater than 0" in text
        assert "target[1].batch_window: expected float" in text
        assert "target[2].batch_size: one file per document (split) and batches exclude each other" in text

    def test_a_size_alone_still_has_a_window(self, root: Path) -> None:
        config = configure(root, {"name": "ns", **NETSUITE, "batch_size": 50})
        target = config.target("ns")
        assert (target.batched, target.batch_size, target.batch_window) == (True, 50, 300.0)
        assert not configure(root, {"name": "ns", **NETSUITE}).target("ns").batched


@pytest.mark.usefixtures("over_both_engines")
class TestBatches:
    def test_a_batch_is_the_per_file_outputs_joined_under_one_header(self, root: Path) -> None:
        config = configure(
            root,
            {"name": "each", **NETSUITE},
            {"name": "joined", **NETSUITE, "batch_window": 3600},
            {"name": "sage", "format": "sage100.shipment", "value_map": "wms_to_sage100",
             "done_file": True, "batch_window": 3600},
        )  # fmt: skip
        drop(root, *((f"ship{n}.csv", shipment(n)) for n in range(3)))
        ledger = drain(config)
        assert [row.state for row in ledger.files()] == ["accepted"] * 3
        # One output per file for the plain target, in the order the files were accepted.
        by_file = {p.name.split(".")[-2]: p for p in published(config, "each")}
        each = [by_file[row.file_id] for row in ledger.files()]
        header, *_ = each[0].read_bytes().splitlines(keepends=True)
        bodies = b"".join(p.read_bytes().removeprefix(header) for p in each)
        (joined,) = published(config, "joined")
        assert joined.read_bytes() == header + bodies
        data, done = published(config, "sage")
        assert done.name == data.name + ".ok"
        text = data.read_text(encoding="cp1252")
        assert text.count("RecordType,") == 3  # the three header rows once, not per file
        assert text.count("\nH,") == 6

    def test_batch_size_cuts_batches_and_every_record_goes_out_once(self, root: Path) -> None:
        config = configure(root, {"name": "lines", "format": "jsonl", "batch_size": 2})
        drop(root, *((f"s{n}.csv", shipment(n)) for n in range(5)))  # two shipments each
        ledger = drain(config)
        outputs = published(config, "lines")
        sizes = sorted(len(p.read_text().splitlines()) for p in outputs)
        assert sizes == [2, 2, 2, 2, 2]
        ids = sorted(json.loads(line)["doc_id"] for p in outputs for line in p.read_text().splitlines())
        assert ids == sorted(f"SHP-{n}00{k}" for n in range(5) for k in (1, 2))
        assert [b.records for b in ledger.batches("published")] == [2] * 5

    def test_drain_closes_a_partial_batch(self, root: Path) -> None:
        config = configure(root, {"name": "lines", "format": "jsonl", "batch_size": 4})
        drop(root, *((f"s{n}.csv", shipment(n)) for n in range(3)))
        drain(config)
        assert sorted(len(p.read_text().splitlines()) for p in published(config, "lines")) == [2, 4]

    def test_the_window_holds_a_batch_open_until_it_passes(self, root: Path) -> None:
        # Long enough that a loaded machine does not close it before the first look.
        window = 4.0
        config = configure(root, {"name": "lines", "format": "jsonl", "batch_window": window})
        ledger, service = accept_one(config)
        service.pipeline.batcher.flush()
        assert published(config, "lines") == []
        assert report.status(config)["batches"][0]["waiting_records"] == 2
        due = service.pipeline.batcher.next_due()
        assert due is not None and 0 < due <= window
        wait_until(
            lambda: published(config, "lines"),
            what="the batch of lines published once its window closed",
            step=service.pipeline.batcher.flush,
            seen=lambda: report.status(config)["batches"],
        )
        assert service.pipeline.batcher.next_due() is None
        (row,) = ledger.files()
        text = report.trace(ledger, row.file_id)
        (batch,) = ledger.batches("published")
        assert f"batched for lines: {batch.batch_id} (2 records)" in text
        assert "batch_published" in text
        assert f"file {row.file_id}" in report.trace(ledger, batch.batch_id)

    def test_a_refused_record_is_a_pair_case_and_leaves_nothing_waiting(self, root: Path) -> None:
        config = configure(root, {"name": "sage", "format": "sage100.shipment", "value_map": "wms_to_sage100",
                                  "batch_window": 3600})  # fmt: skip
        drop(root, ("long.csv", shipment(1).replace("0001240", "SO-00001240")), ("ok.csv", shipment(2)))
        ledger = drain(config)
        assert {row.original_name: row.state for row in ledger.files()} == {
            "long.csv": "accepted", "ok.csv": "accepted"}  # fmt: skip
        (case,) = ledger.deliveries(DeliveryState.REFUSED)
        long = next(row for row in ledger.files() if row.original_name == "long.csv")
        assert (case.file_id, case.target) == (long.file_id, "sage")
        error = json.loads((root / "quarantine" / long.file_id / "sage" / "error.json").read_text())
        assert (error["stage"], error["target"]) == ("write", "sage")
        (batch,) = ledger.batches("published")
        assert batch.records == 2
        assert ledger.backlogs().get("sage", Backlog(0, None)).records == 0
        assert ledger.db.execute("SELECT COUNT(*) FROM batch_items WHERE state = 'staged'").fetchone()[0] == 0

    def test_the_same_document_twice_waits_for_the_next_batch(self, root: Path) -> None:
        # NetSuite would merge two rows groups with one external id; a replacement waits its turn.
        config = configure(root, {"name": "ns", **NETSUITE, "batch_window": 3600})
        drop(root, ("a.csv", shipment(1)), ("b.csv", shipment(1).replace(",10,10,", ",9,10,")))
        ledger = drain(config)
        batches = ledger.batches("published")
        assert [b.records for b in batches] == [2, 2]
        config_dir = config.target("ns").local_dir
        first, second = (config_dir / f"item_fulfillment.batch.{b.batch_id}.csv" for b in batches)
        assert ",widget-1,DC1,10," in first.read_text() and ",widget-1,DC1,9," in second.read_text()

    def test_an_edifact_batch_is_one_interchange_with_every_message(self, root: Path) -> None:
        # Plain UN/EDIFACT (no association): the sample's lines have no GTIN for EANCOM's LIN.
        config = configure(root, {"name": "edi", "format": "edifact", "sender": "4012345000009",
                                  "receiver": "5412345000013", "association": "",
                                  "batch_window": 3600})  # fmt: skip
        drop(root, ("a.csv", shipment(1)), ("b.csv", shipment(2)))
        drain(config)
        (output,) = published(config, "edi")
        segments = output.read_text(encoding="latin-1").replace("\n", "").split("'")
        assert [s[:3] for s in segments].count("UNB") == 1
        assert [s.split("+")[1] for s in segments if s.startswith("BGM")] == [
            "351", "351", "351", "351"]  # fmt: skip
        (unz,) = [s for s in segments if s.startswith("UNZ")]
        assert unz.split("+")[1] == "4"

    def test_records_gathered_before_batching_was_switched_off_still_go_out(self, root: Path) -> None:
        batched = configure(root, {"name": "lines", "format": "jsonl", "batch_window": 3600})
        ledger, _ = accept_one(batched)
        ledger.close()
        plain = configure(root, {"name": "lines", "format": "jsonl"})
        ledger = drain(plain)
        (output,) = published(plain, "lines")
        assert output.name.startswith("batch.") and len(output.read_text().splitlines()) == 2
        assert ledger.backlogs().get("lines", Backlog(0, None)).records == 0

    def test_records_of_a_target_no_longer_configured_are_shown_not_dropped(self, root: Path) -> None:
        batched = configure(root, {"name": "lines", "format": "jsonl", "batch_window": 3600})
        ledger, _ = accept_one(batched)
        ledger.close()
        other = configure(root, {"name": "other", "format": "jsonl"})
        ledger = drain(other)
        assert ledger.backlogs().get("lines", Backlog(0, None)).records == 2
        data = report.status(other)
        assert data["batch_records_without_target"] == {"lines": 2}
        assert "batches lines: 2 record(s) waiting for a target no longer configured" in (
            report.render_status(data)
        )

    def test_records_refused_under_a_changed_configuration_are_kept_and_tried_again(self, root: Path) -> None:
        sage = {"name": "sage", "format": "sage100.shipment", "value_map": "wms_to_sage100",
                "batch_window": 3600}  # fmt: skip
        ledger, _ = accept_one(configure(root, sage))
        ledger.close()
        narrow = configure(root, {**sage, "lengths": {"ShipVia": 3}})
        ledger = drain(narrow)
        assert published(narrow, "sage") == []
        (waiting,) = report.status(narrow)["batches"]
        assert waiting["refused_records"] == 2
        (row,) = ledger.files()
        assert report.trace(ledger, row.file_id).count("batch_record_refused") == 2
        ledger.close()
        ledger = drain(configure(root, sage))  # the configuration fixed, the service started again
        (output,) = published(configure(root, sage), "sage")
        assert output.read_text(encoding="cp1252").count("\nH,") == 2
        assert ledger.refused_items("sage") == 0


@pytest.mark.usefixtures("over_both_engines")
class TestRecovery:
    def test_a_crash_while_writing_writes_the_batch_again(self, root: Path) -> None:
        config = configure(root, {"name": "lines", "format": "jsonl", "batch_window": 3600})
        ledger, service = accept_one(config)
        batch = ledger.close_batch(new_file_id(), "lines", None, now())
        assert batch is not None
        half = service.pipeline.batcher._opener(batch)("half.jsonl")
        half.write(b"{partial")
        half.close()
        ledger.close()
        ledger = drain(config)
        (output,) = published(config, "lines")
        assert output.name == f"batch.{batch.batch_id}.jsonl"
        assert len(output.read_text().splitlines()) == 2
        assert [b.state for b in ledger.batches("published")] == ["published"]

    def test_a_crash_while_publishing_finishes_without_publishing_twice(self, root: Path) -> None:
        config = configure(root, {"name": "sage", "format": "sage100.shipment", "value_map": "wms_to_sage100",
                                  "done_file": True, "batch_window": 3600})  # fmt: skip
        ledger, service = accept_one(config)
        batch = ledger.close_batch(new_file_id(), "sage", None, now())
        assert batch is not None
        batcher = service.pipeline.batcher
        batcher._write(batch)
        # The data file was renamed, then the process died before the done-file and the ledger.
        (data, tmp, _), _done = ledger.batch_outputs(batch.batch_id)
        batcher.deliveries["sage"].publish(tmp, data)
        ledger.close()
        ledger = drain(config)
        assert [p.name for p in published(config, "sage")] == [data, data + ".ok"]
        (row,) = ledger.files()
        assert [e for _, e, _ in ledger.events(row.file_id)].count("batch_published") == 1

    def test_an_unreachable_destination_postpones_the_batch_not_the_file(self, root: Path) -> None:
        config = configure(root, {"name": "lines", "format": "jsonl", "deliver": "local:blocked/out",
                                  "batch_window": 3600})  # fmt: skip
        (root / "blocked").write_text("a file where the target folder's parent should be")
        drop(root, ("s1.csv", shipment(1)), ("s2.csv", shipment(2)))
        ledger = drain(config)
        assert {row.state for row in ledger.files()} == {"accepted"}
        (waiting,) = report.status(config)["batches"]
        assert len(waiting["unpublished_batches"]) == 1
        (root / "blocked").unlink()
        assert Service(config, ledger).retry_postponed()
        (output,) = (root / "blocked" / "out").iterdir()
        assert len(output.read_text().splitlines()) == 4


@contextmanager
def service(tmp_path: Path, config_text: str) -> Iterator[tuple[Path, Path, subprocess.Popen[str]]]:
    """`gateway run` as a real process on a fresh root; killed at the end if still running."""
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text(config_text, encoding="utf-8")
    assert run_cli("--config", config, "--root", root, "config", "check").returncode == 0
    with (tmp_path / "service.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(config), "--root", str(root), "run"],
            stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )  # fmt: skip
        try:
            yield root, config, proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


@pytest.mark.service
def test_the_service_publishes_a_batch_when_its_window_closes_and_stops_warmly(tmp_path: Path) -> None:
    text = (
        '[[source]]\nname = "wms"\nside = "wms"\nsettle_seconds = 0.1\npoll_seconds = 0.2\n\n'
        '[[target]]\nname = "ns"\nformat = "netsuite"\nadjustment_account = "Adj"\nbatch_window = 2\n\n'
        '[[route]]\ndoc_type = "shipment"\nfrom = ["wms"]\nto = ["ns"]\n'
    )
    with service(tmp_path, text) as (root, config, proc):
        drop(root, ("a.csv", shipment(1)), ("b.csv", shipment(2)))
        final = wait_for_final(root / "gateway.db", ["a.csv", "b.csv"])
        assert set(final.values()) == {"accepted"}
        # One batch as a rule; two when the machine is so slow that b.csv came after the window.
        sizes = wait_for_batches(root / "gateway.db", "ns", records=4)
        outputs = sorted((root / "outbound" / "ns").glob("*.csv"))
        assert len(outputs) == len(sizes)
        texts = [output.read_text() for output in outputs]
        assert sum(text.count("SHP-") for text in texts) == 6  # both files' three lines
        header = texts[0].splitlines()[0]
        assert [text.splitlines().count(header) for text in texts] == [1] * len(texts)
        status = run_cli("--config", config, "--root", root, "status", "--json")
        (batches,) = json.loads(status.stdout)["batches"]
        assert batches["waiting_records"] == 0 and batches["unpublished_batches"] == []
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


@pytest.mark.service
def test_sigkill_while_batches_are_written_then_restart_sends_every_record_once(tmp_path: Path) -> None:
    text = (
        '[[source]]\nname = "inbound"\nsettle_seconds = 0.1\npoll_seconds = 0.2\n\n'
        '[[target]]\nname = "lines"\nformat = "jsonl"\nbatch_size = 4\n\n'
        '[[route]]\ndoc_type = "inventory_adjustment"\nto = ["lines"]\n'
    )
    names = [f"adj{i:02}" for i in range(30)]
    with service(tmp_path, text) as (root, config, proc):
        for name in names:
            rows = "".join(f"{name},SKU-{k},delta,{k}\n" for k in range(2000))
            (root / "inbound" / f"{name}.csv").write_text("adjustment_id,sku,mode,quantity_change\n" + rows)
        outbound = root / "outbound" / "lines"
        wait_until(lambda: list(outbound.glob("*.jsonl")), what="a first published batch")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    result = run_cli("--config", config, "--root", root, "run", "--once")
    assert result.returncode == 0, result.stderr
    assert not list(outbound.glob("*.tmp"))
    sent = [
        json.loads(line)["doc_id"] for p in outbound.glob("*.jsonl") for line in p.read_text().splitlines()
    ]
    assert sorted(sent) == names
    ledger = SqliteLedger(root / "gateway.db")
    try:
        assert {row.state for row in ledger.files()} == {"accepted"}
        assert ledger.batches("writing", "publishing") == []
        assert ledger.backlogs().get("lines", Backlog(0, None)).records == 0
    finally:
        ledger.close()


class TestWindowClock:
    """Batch windows run on the monotonic clock: a wall clock stepped back never stalls them."""

    def test_a_stamp_from_the_future_waits_from_now(self) -> None:
        ticks = [1000.0]
        ages = Ages(clock=lambda: ticks[0])
        # The record was stamped, then the wall clock was stepped back an hour.
        stamp = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert ages(stamp) == 0.0
        ticks[0] += 5.0
        assert ages(stamp) == 5.0

    def test_a_wall_clock_age_is_read_once_then_the_monotonic_clock_counts(self) -> None:
        ticks = [50.0]
        ages = Ages(clock=lambda: ticks[0])
        stamp = (datetime.now(UTC) - timedelta(seconds=100)).isoformat()
        first = ages(stamp)
        assert 99.0 <= first <= 110.0
        ticks[0] += 30.0
        assert ages(stamp) == first + 30.0
        ages.forget(stamp)
        assert stamp not in ages.first_seen
