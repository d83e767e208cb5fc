"""The pipeline and service in process: outcomes, quarantine, duplicates, routing, recovery."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway import quarantine
from gateway.config import Config
from gateway.formats.base import Inbound
from gateway.ledger.engines import open_ledger
from gateway.ledger.sqlite import SqliteLedger
from gateway.ledger.states import DeliveryState, FileState, OutputState
from gateway.service import Service
from gateway.sources.base import Candidate
from tests.conftest import SAMPLES
from tests.waiting import wait_for_final, wait_until

#: The pipeline behaves the same on either ledger.
pytestmark = pytest.mark.usefixtures("engine")

CSV = SAMPLES / "inbound" / "csv"
FOUNDATION_SAMPLES = (
    "products.csv", "customers-windows1252.csv", "pricelist-excel-utf8-bom.csv", "sales-orders.csv",
    "purchase-orders.tsv", "shipments.csv", "adjustments.csv", "receipts.csv", "returns.csv",
    "transfers.csv", "broken-adjustment.csv", "broken-sales-order.csv", "broken-unterminated.csv",
)  # fmt: skip
ADJUSTMENT = "adjustment_id,sku,mode,quantity_change\nADJ-1,A,delta,-1\n"


def drain(config: Config) -> SqliteLedger:
    ledger = open_ledger(config)
    assert Service(config, ledger).run(once=True) == 0
    return ledger


def outputs(config: Config, target: str = "canonical") -> list[Path]:
    folder = config.state_dir / "outbound" / target
    return sorted(folder.glob("*")) if folder.exists() else []


def states(ledger: SqliteLedger) -> dict[str, str]:
    return {row.original_name: row.state for row in ledger.files()}


@pytest.fixture(name="cfg")
def _cfg(make_config: Callable[..., Config]) -> Config:
    return make_config()


class TestOutcomes:
    def test_accepted_file_is_published_and_archived(self, cfg: Config, root: Path) -> None:
        shutil.copy(CSV / "sales-orders.csv", root / "inbound")
        ledger = drain(cfg)
        (row,) = ledger.files()
        assert row.state == "accepted"
        (out,) = outputs(cfg)
        assert out.name == f"sales-orders.{row.file_id}.jsonl"
        assert [json.loads(line)["doc_id"] for line in out.read_text().splitlines()] == ["SO-5001", "SO-5002"]
        assert list(root.glob(f"archive/*/{row.file_id}.sales-orders.csv"))
        assert not list((root / "inbound").iterdir())
        assert not list((root / "work").iterdir())
        assert [o.state for o in ledger.outputs(row.file_id)] == ["published"]

    def test_bad_file_is_quarantined_with_both_reports(self, cfg: Config, root: Path) -> None:
        shutil.copy(CSV / "broken-sales-order.csv", root / "inbound")
        ledger = drain(cfg)
        (row,) = ledger.files()
        folder = root / "quarantine" / row.file_id
        assert sorted(p.name for p in folder.iterdir()) == [
            "broken-sales-order.csv",
            "error.json",
            "error.txt",
        ]
        report = json.loads((folder / "error.json").read_text())
        for key in (
            "file_id",
            "source",
            "original_name",
            "sha256",
            "received_at",
            "format",
            "encoding",
            "stage",
        ):
            assert key in report
        assert (report["stage"], report["format"], report["encoding"]) == ("validate", "csv", "utf-8")
        first = report["errors"][0]
        assert set(first) == {"code", "severity", "message", "location", "value", "rule"}
        assert first["severity"] == "error"
        text = (folder / "error.txt").read_text().splitlines()
        assert len(text) == len(report["errors"]) == 4
        assert text[2] == (
            "broken-sales-order.csv: line 2, column 'order_date': '2026-02-30': is not a valid date"
            " (canonical.sales_order.order_date: date, format %Y-%m-%d or %Y%m%d)"
        )
        assert outputs(cfg) == []

    @pytest.mark.parametrize(
        ("name", "data", "stage", "code"),
        [
            ("empty.csv", b"", "detect", "empty"),
            ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "detect", "binary"),
            (
                "mixed.csv",
                "sku,description\nA,Müller\nB,caf".encode() + b"\xe9\n",
                "decode",
                "mixed_encoding",
            ),
        ],
    )
    def test_bad_input_stages(
        self, cfg: Config, root: Path, name: str, data: bytes, stage: str, code: str
    ) -> None:
        (root / "inbound" / name).write_bytes(data)
        ledger = drain(cfg)
        (row,) = ledger.files()
        report = quarantine.show(cfg, row.file_id)
        assert (report["stage"], report["errors"][0]["code"]) == (stage, code)

    @pytest.mark.parametrize("name", ["with space.csv", "ünïcødé-€.csv", "--leading-dashes.csv", "-rf"])
    def test_awkward_names(self, cfg: Config, root: Path, name: str) -> None:
        (root / "inbound" / name).write_text(ADJUSTMENT)
        ledger = drain(cfg)
        assert states(ledger) == {name: "accepted"}
        (out,) = outputs(cfg)
        assert not out.name.startswith("-")

    def test_other_files_keep_flowing_past_bad_ones(self, cfg: Config, root: Path) -> None:
        for sample in FOUNDATION_SAMPLES:
            shutil.copy(CSV / sample, root / "inbound")
        ledger = drain(cfg)
        result = states(ledger)
        assert {n for n, s in result.items() if s == "quarantined"} == {
            "broken-adjustment.csv", "broken-sales-order.csv", "broken-unterminated.csv"
        }  # fmt: skip
        assert sum(s == "accepted" for s in result.values()) == 10
        assert len(outputs(cfg)) == 10


class TestDuplicates:
    def test_same_content_is_not_published_twice(self, cfg: Config, root: Path) -> None:
        (root / "inbound" / "a.csv").write_text(ADJUSTMENT)
        drain(cfg).close()
        (root / "inbound" / "a-again.csv").write_text(ADJUSTMENT)
        ledger = drain(cfg)
        assert states(ledger) == {"a.csv": "accepted", "a-again.csv": "duplicate"}
        assert len(outputs(cfg)) == 1

    def test_duplicate_policy_quarantine(self, make_config: Callable[..., Config], root: Path) -> None:
        cfg = make_config(source=[{"name": "inbound", "settle_seconds": 0.05, "duplicates": "quarantine"}])
        (root / "inbound" / "a.csv").write_text(ADJUSTMENT)
        drain(cfg).close()
        (root / "inbound" / "b.csv").write_text(ADJUSTMENT)
        ledger = drain(cfg)
        assert states(ledger)["b.csv"] == "quarantined"
        (entry,) = quarantine.entries(cfg)
        assert entry.stage == "claim"
        assert "was accepted before" in entry.first_error


class TestRouting:
    def test_domain_violation(self, make_config: Callable[..., Config], root: Path) -> None:
        cfg = make_config(source=[{"name": "wms", "side": "wms", "path": "inbound", "settle_seconds": 0.05}])
        shutil.copy(CSV / "pricelist-excel-utf8-bom.csv", root / "inbound")
        ledger = drain(cfg)
        (row,) = ledger.files()
        report = quarantine.show(cfg, row.file_id)
        assert report["stage"] == "route"
        assert report["errors"][0]["code"] == "domain_violation"
        assert outputs(cfg) == []

    def test_fan_out_and_unrouted_quarantine(self, make_config: Callable[..., Config], root: Path) -> None:
        cfg = make_config(
            unrouted="quarantine",
            target=[{"name": "wms-feed", "format": "jsonl"}],
            route=[{"doc_type": "sales_order", "to": ["wms-feed", "canonical"]}],
        )
        shutil.copy(CSV / "sales-orders.csv", root / "inbound")
        shutil.copy(CSV / "transfers.csv", root / "inbound")
        ledger = drain(cfg)
        assert states(ledger) == {"sales-orders.csv": "accepted", "transfers.csv": "quarantined"}
        assert len(outputs(cfg, "wms-feed")) == len(outputs(cfg)) == 1
        (entry,) = quarantine.entries(cfg)
        assert (entry.stage, entry.name) == ("route", "transfers.csv")

    def test_route_on_field_value(self, make_config: Callable[..., Config], root: Path) -> None:
        cfg = make_config(
            target=[{"name": "ups", "format": "jsonl"}],
            route=[{"doc_type": "sales_order", "where": {"carrier": "UPS"}, "to": ["ups"]}],
        )
        shutil.copy(CSV / "sales-orders.csv", root / "inbound")
        drain(cfg)
        (ups,) = outputs(cfg, "ups")
        assert [json.loads(x)["doc_id"] for x in ups.read_text().splitlines()] == ["SO-5001"]
        (rest,) = outputs(cfg)
        assert [json.loads(x)["doc_id"] for x in rest.read_text().splitlines()] == ["SO-5002"]


class TestQuarantineWorkflow:
    def test_retry_runs_todays_pipeline_and_links_attempts(
        self, make_config: Callable[..., Config], root: Path
    ) -> None:
        cfg = make_config(source=[{"name": "wms", "side": "wms", "path": "inbound", "settle_seconds": 0.05}])
        shutil.copy(CSV / "sales-orders.csv", root / "inbound")
        ledger = drain(cfg)
        (old,) = ledger.files()
        assert old.state == "quarantined"
        # Operations fix the configuration (the source is really ERP-side), then retry.
        fixed = make_config(
            source=[{"name": "wms", "side": "erp", "path": "inbound", "settle_seconds": 0.05}]
        )
        from gateway import actions

        (result,) = actions.ask(fixed, ledger, actions.RETRY, [old.file_id], "ops", "the source is ERP-side")
        assert not result.refused and result.state == "accepted"
        new = next(r for r in ledger.files() if r.retry_of == old.file_id)
        assert new.state == "accepted"
        assert ledger.get(old.file_id).state == "retried"  # type: ignore[union-attr]
        assert not (root / "quarantine" / old.file_id).exists()
        assert ("file_retried", {"new_file_id": new.file_id}) in [
            (e, d) for _, e, d in ledger.events(old.file_id)
        ]
        assert len(outputs(fixed)) == 1

    def test_discard_needs_a_reason_and_closes_the_case(self, cfg: Config, root: Path) -> None:
        shutil.copy(CSV / "broken-unterminated.csv", root / "inbound")
        ledger = drain(cfg)
        (row,) = ledger.files()
        moved = quarantine.discard(cfg, ledger, row.file_id, "partner resent a fixed file")
        assert (moved / "broken-unterminated.csv").exists()
        assert ledger.get(row.file_id).detail == "partner resent a fixed file"  # type: ignore[union-attr]
        assert quarantine.entries(cfg) == []


class TestRecovery:
    """Crash points of the durability protocol, reproduced by stopping between the steps."""

    def test_claimed_but_not_moved(self, cfg: Config, root: Path) -> None:
        path = root / "inbound" / "a.csv"
        path.write_text(ADJUSTMENT)
        ledger = open_ledger(cfg)
        ledger.claim("inbound", "a.csv", str(path), 1, 1, root / "work")
        ledger.close()
        ledger = drain(cfg)
        assert [r.state for r in ledger.files()] == ["accepted"]
        assert len(outputs(cfg)) == 1

    def test_staged_outputs_of_an_interrupted_attempt_are_discarded(self, cfg: Config, root: Path) -> None:
        (root / "inbound" / "a.csv").write_text(ADJUSTMENT)
        ledger = open_ledger(cfg)
        service = Service(cfg, ledger)
        source = service.sources["inbound"]
        stat = (root / "inbound" / "a.csv").stat()
        row = source.claim(
            ledger,
            root / "work",
            Candidate("a.csv", str(root / "inbound" / "a.csv"), stat.st_size, stat.st_mtime_ns),
        )
        # A crash while writing: a staged file and its ledger row, nothing published.
        inbound = Inbound(
            row.file_id, Path(row.work_path or ""), "a.csv", cfg.sources[0], row.sha256 or "", 1
        )
        opener = service.pipeline.stager.opener(inbound.file_id, "canonical")
        half = opener("a.half.jsonl")
        half.write(b"{partial")
        half.close()
        ledger.close()
        ledger = drain(cfg)
        assert [r.state for r in ledger.files()] == ["accepted"]
        names = [p.name for p in outputs(cfg)]
        assert names == [f"a.{row.file_id}.jsonl"]

    def test_intent_recorded_rename_pending_and_done(self, cfg: Config, root: Path) -> None:
        for name in ("a.csv", "b.csv"):
            (root / "inbound" / name).write_text(ADJUSTMENT.replace("ADJ-1", name))
        ledger = drain(cfg)
        rows = {r.original_name: r for r in ledger.files()}
        # Rewind both files to "publishing": a's temp file is back (crash before the rename),
        # b's is gone (crash after the rename, before the ledger heard of it).
        for name, row in rows.items():
            (output,) = ledger.outputs(row.file_id)
            if name == "a.csv":
                Path(output.tmp_path).write_bytes(
                    Path(cfg.target("canonical").local_dir / output.path).read_bytes()
                )
                (cfg.target("canonical").local_dir / output.path).unlink()
            ledger.db.execute(
                "UPDATE outputs SET state = ? WHERE file_id = ?", (OutputState.INTENT, row.file_id)
            )
            ledger.db.execute(
                "UPDATE deliveries SET state = ? WHERE file_id = ?", (DeliveryState.PUBLISHING, row.file_id)
            )
            archived = next(root.glob(f"archive/*/{row.file_id}.{name}"))
            archived.rename(root / "work" / archived.name)
            ledger.db.execute(
                "UPDATE files SET state = ?, work_path = ? WHERE file_id = ?",
                (FileState.PUBLISHING, str(root / "work" / archived.name), row.file_id),
            )
        ledger.close()
        ledger = drain(cfg)
        assert {r.state for r in ledger.files()} == {"accepted"}
        published = outputs(cfg)
        assert len(published) == 2
        assert not any(p.name.endswith(".tmp") for p in published)
        assert not list((root / "work").iterdir())


class TestVanished:
    def test_a_file_gone_before_claim_is_only_logged(self, cfg: Config, root: Path) -> None:
        ledger = open_ledger(cfg)
        service = Service(cfg, ledger)
        ghost = Candidate("ghost.csv", str(root / "inbound" / "ghost.csv"), 10, 1)
        service.handle(service.sources["inbound"], ghost)
        (row,) = ledger.files()
        assert row.state == "vanished"
        assert not (root / "quarantine").exists()


class TestClaimFailure:
    def test_a_move_that_fails_leaves_the_file_and_no_claim(self, cfg: Config, root: Path) -> None:
        (root / "inbound" / "a.csv").write_text(ADJUSTMENT)
        (root / "work").write_text("not a folder")  # the move into work/ cannot happen
        ledger = open_ledger(cfg)
        service = Service(cfg, ledger)
        stat = (root / "inbound" / "a.csv").stat()
        service.handle(
            service.sources["inbound"],
            Candidate("a.csv", str(root / "inbound" / "a.csv"), stat.st_size, stat.st_mtime_ns),
        )
        assert ledger.files() == []
        assert (root / "inbound" / "a.csv").exists()
        assert "claim failed" in ledger.source_rows()["inbound"]["last_error"]


class TestPostponed:
    def test_a_delivery_that_fails_is_retried_later_not_quarantined(
        self, make_config: Callable[..., Config], root: Path
    ) -> None:
        cfg = make_config(target=[{"name": "canonical", "format": "jsonl", "deliver": "local:blocked/out"}])
        (root / "blocked").write_text("a file where the target folder's parent should be")
        (root / "inbound" / "a.csv").write_text(ADJUSTMENT)
        ledger = drain(cfg)
        (row,) = ledger.files()
        assert row.state == "processing"
        assert quarantine.entries(cfg) == []
        (root / "blocked").unlink()
        service = Service(cfg, ledger)
        assert service.retry_postponed()
        assert ledger.get(row.file_id).state == "accepted"  # type: ignore[union-attr]
        assert len(list((root / "blocked" / "out").iterdir())) == 1


@pytest.mark.parametrize("where", ["source", "route"])
def test_an_ordered_source_holds_later_files_behind_a_postponed_one(
    make_config: Callable[..., Config], root: Path, where: str
) -> None:
    """`ordered = true` on the source, or on a route that takes from it."""
    config = make_config(
        source=[{"name": "inbound", "settle_seconds": 0.05, "poll_seconds": 0.2,
                 "ordered": where == "source"}],
        target=[{"name": "canonical", "format": "jsonl", "deliver": "local:blocked/out"}],
        route=[{"from": ["inbound"], "to": ["canonical"], "ordered": where == "route"}],
    )
    assert config.sources[0].ordered
    (root / "blocked").write_text("a file where the target folder's parent should be")
    for n, name in enumerate(["a.csv", "b.csv"]):
        path = root / "inbound" / name
        path.write_text(ADJUSTMENT.replace("ADJ-1", f"ADJ-{n}"), encoding="utf-8")
        os.utime(path, ns=(n * 10**9, n * 10**9))  # a.csv arrived first
    ledger = open_ledger(config)
    service = Service(config, ledger)
    wait_until(lambda: states(ledger), what="a.csv claimed", step=service.poll_once)
    service.poll_once()
    assert states(ledger) == {"a.csv": "processing"}  # b.csv waits behind the postponed a.csv
    (root / "blocked").unlink()
    assert service.retry_postponed()
    wait_for_final(ledger, ["a.csv", "b.csv"], step=service.poll_once)
    order = [r.original_name for r in sorted(ledger.files(), key=lambda r: r.updated_at)]
    assert order == ["a.csv", "b.csv"]
    ledger.close()
