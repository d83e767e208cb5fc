"""The in-memory doubles: a source fed from a dict and a delivery that keeps outputs in one.

The delivery contract runs against the local folder delivery too, so the double cannot drift
from the real thing: whatever the pipeline may rely on holds for both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import Config
from gateway.delivery.base import Delivery
from gateway.delivery.local import LocalDelivery
from gateway.delivery.memory import MemoryDelivery
from gateway.errors import DeliveryFailed, FileVanished
from gateway.ledger.sqlite import SqliteLedger
from gateway.sources.memory import MemorySource


def published(delivery: Delivery, name: str) -> bytes | None:
    """What a consumer sees under `name`: the bytes, or None when nothing is there."""
    if isinstance(delivery, MemoryDelivery):
        return delivery.published.get(name)
    assert isinstance(delivery, LocalDelivery)
    path = delivery.folder / name
    return path.read_bytes() if path.exists() else None


@pytest.fixture(name="delivery", params=["memory", "local"])
def _delivery(request: pytest.FixtureRequest, tmp_path: Path) -> Delivery:
    return MemoryDelivery() if request.param == "memory" else LocalDelivery(tmp_path / "out")


class TestDeliveryContract:
    def test_nothing_is_seen_before_publish_and_the_staged_one_goes(self, delivery: Delivery) -> None:
        out = delivery.open("a.jsonl")
        out.write(b"one\n")
        out.write(b"two\n")
        out.close()
        tmp = str(delivery.staging_path("a.jsonl"))
        assert delivery.staged(tmp)
        assert published(delivery, "a.jsonl") is None
        delivery.publish(tmp, "a.jsonl")
        assert published(delivery, "a.jsonl") == b"one\ntwo\n"
        assert not delivery.staged(tmp)

    def test_publishing_twice_fails_and_keeps_the_first(self, delivery: Delivery) -> None:
        out = delivery.open("a.jsonl")
        out.write(b"x")
        out.close()
        tmp = str(delivery.staging_path("a.jsonl"))
        delivery.publish(tmp, "a.jsonl")
        with pytest.raises(DeliveryFailed):
            delivery.publish(tmp, "a.jsonl")
        assert published(delivery, "a.jsonl") == b"x"

    def test_a_new_version_replaces_the_published_one(self, delivery: Delivery) -> None:
        for data in (b"old", b"new"):
            out = delivery.open("a.csv")
            out.write(data)
            out.close()
            delivery.publish(str(delivery.staging_path("a.csv")), "a.csv")
        assert published(delivery, "a.csv") == b"new"

    def test_reopening_a_staged_output_starts_it_afresh(self, delivery: Delivery) -> None:
        first = delivery.open("a.csv")
        first.write(b"half of an interrupted attempt")
        first.close()
        second = delivery.open("a.csv")
        second.write(b"whole")
        second.close()
        delivery.publish(str(delivery.staging_path("a.csv")), "a.csv")
        assert published(delivery, "a.csv") == b"whole"

    def test_discard_forgets_a_staged_output_and_is_harmless_twice(self, delivery: Delivery) -> None:
        out = delivery.open("a.csv")
        out.write(b"x")
        out.close()
        tmp = str(delivery.staging_path("a.csv"))
        delivery.discard(tmp)
        delivery.discard(tmp)
        assert not delivery.staged(tmp)
        assert published(delivery, "a.csv") is None
        delivery.discard(str(delivery.staging_path("never-opened.csv")))


class TestMemoryDelivery:
    def test_an_unreachable_destination_refuses_and_keeps_what_is_staged(self) -> None:
        delivery = MemoryDelivery("erp")
        out = delivery.open("a.csv")
        out.write(b"x")
        tmp = str(delivery.staging_path("a.csv"))
        delivery.reachable = False
        with pytest.raises(DeliveryFailed, match="erp is unreachable"):
            delivery.publish(tmp, "a.csv")
        with pytest.raises(DeliveryFailed, match=r"cannot write b\.csv"):
            delivery.open("b.csv")
        delivery.reachable = True
        assert delivery.publish(tmp, "a.csv") == "erp/a.csv"
        assert delivery.published == {"a.csv": b"x"}


@pytest.fixture(name="cfg")
def _cfg(make_config: Callable[..., Config]) -> Config:
    return make_config()


@pytest.fixture(name="ledger")
def _ledger(cfg: Config) -> SqliteLedger:
    ledger = SqliteLedger(cfg.ledger_path)
    yield ledger
    ledger.close()


class TestMemorySource:
    def test_files_are_ready_at_once_oldest_first_and_ignored_names_never(self, cfg: Config) -> None:
        source = MemorySource(cfg.sources[0], files={"b.csv": b"sku\nB\n", "a.csv": b"sku\nA\n"})
        source.put("upload.csv.part", b"half")
        source.put(".hidden", b"x")
        assert [(c.name, c.size) for c in source.poll()] == [("b.csv", 6), ("a.csv", 6)]
        assert source.next_due() is None

    def test_put_wakes_the_service_loop(self, cfg: Config) -> None:
        source = MemorySource(cfg.sources[0])
        source.wake.clear()
        source.put("a.csv", b"sku\nA\n")
        assert source.wake.is_set()

    def test_claim_puts_the_bytes_in_work_and_takes_the_file_off_the_source(
        self, cfg: Config, ledger: SqliteLedger
    ) -> None:
        source = MemorySource(cfg.sources[0], files={"a.csv": b"sku\nA\n"})
        (candidate,) = source.poll()
        row = source.claim(ledger, cfg.folder("work"), candidate)
        assert (row.state, row.source, row.original_name, row.size) == ("processing", "inbound", "a.csv", 6)
        assert row.work_path is not None and Path(row.work_path).read_bytes() == b"sku\nA\n"
        assert row.sha256 is not None
        assert source.poll() == []
        assert not list(cfg.folder("work").glob("*.part"))

    def test_a_file_replaced_before_its_claim_has_vanished_and_the_new_one_stays(
        self, cfg: Config, ledger: SqliteLedger
    ) -> None:
        source = MemorySource(cfg.sources[0], files={"a.csv": b"sku\nA\n"})
        (old,) = source.poll()
        source.put("a.csv", b"sku\nA\nB\n")
        with pytest.raises(FileVanished, match="replaced"):
            source.claim(ledger, cfg.folder("work"), old)
        assert [row.state for row in ledger.files()] == ["vanished"]
        (new,) = source.poll()
        assert source.claim(ledger, cfg.folder("work"), new).size == 8

    def test_resume_after_a_crash_between_the_ledger_row_and_the_bytes(
        self, cfg: Config, ledger: SqliteLedger
    ) -> None:
        source = MemorySource(cfg.sources[0], files={"a.csv": b"sku\nA\n"})
        (candidate,) = source.poll()
        row = ledger.claim("inbound", "a.csv", candidate.path, candidate.size, candidate.mtime_ns,
                           cfg.folder("work"))  # fmt: skip
        resumed = source.resume(ledger, row)
        assert resumed.file_id == row.file_id and resumed.state == "processing"
        assert source.poll() == []
