"""Publishing over SFTP: temp name then rename, existing-file policies, crashes in between."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway import config as config_module
from gateway.delivery.sftp import SftpDelivery
from gateway.errors import DeliveryFailed
from gateway.ledger.sqlite import SqliteLedger
from gateway.pipeline.claim import claim
from gateway.pipeline.process import Pipeline
from tests.sftp.conftest import server_options

ADJUSTMENT = (
    b"adjustment_id,adjusted_at,warehouse,line_no,sku,location,mode,quantity_change,reason_code\n"
    b"ADJ-1001,2026-11-26,000,1,WIDGET-1,A-01-01,delta,-15,DAMAGED\n"
)


class Crash(BaseException):
    """The process dies here (not an Exception: nothing may catch it)."""


def make_config(sshd: Any, remote: Path, root: Path, exists: str = "fail") -> config_module.Config:
    server = {"name": "partner", "type": "sftp", **server_options(sshd, remote / "in")}
    raw = {
        "source": [{"name": "inbound", "settle_seconds": 0.05}, server],
        "target": [
            {"name": "wms", "format": "jsonl", "deliver": f"sftp:partner:{remote / 'out'}?exists={exists}"}
        ],
        "route": [{"doc_type": "*", "to": ["wms"]}],
    }
    return config_module.parse(raw, root)


def stage(delivery: SftpDelivery, name: str, data: bytes) -> str:
    out = delivery.open(name)
    out.write(data)
    out.close()
    return str(delivery.staging_path(name))


@pytest.fixture(name="delivery_for")
def _delivery_for(sshd: Any, remote: Path, tmp_path: Path) -> Any:
    made: list[SftpDelivery] = []

    def make(exists: str = "fail") -> SftpDelivery:
        config = make_config(sshd, remote, tmp_path / "root", exists)
        delivery = SftpDelivery(config.target("wms"))
        made.append(delivery)
        return delivery

    yield make
    for delivery in made:
        delivery.conn.close()


def test_publish_uploads_then_renames(delivery_for: Any, remote: Path) -> None:
    delivery = delivery_for()
    tmp = stage(delivery, "a.jsonl", b"{}\n")
    assert delivery.staged(tmp)
    location = delivery.publish(tmp, "a.jsonl")
    assert location.startswith("sftp://") and location.endswith("/out/a.jsonl")
    assert (remote / "out" / "a.jsonl").read_bytes() == b"{}\n"
    assert sorted(p.name for p in (remote / "out").iterdir()) == ["a.jsonl"]  # no temp left
    assert not delivery.staged(tmp)


def test_crash_between_upload_and_rename(
    delivery_for: Any, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery = delivery_for()
    tmp = stage(delivery, "b.jsonl", b"payload\n")

    def die(*args: Any) -> str:
        raise Crash

    with monkeypatch.context() as m:
        m.setattr(SftpDelivery, "_rename", die)
        with pytest.raises(Crash):
            delivery.publish(tmp, "b.jsonl")
    assert (remote / "out" / ".b.jsonl.tmp").read_bytes() == b"payload\n"  # uploaded, not renamed
    assert not (remote / "out" / "b.jsonl").exists()
    restarted = delivery_for()
    assert restarted.staged(tmp)  # recovery: not yet published, so publish again
    restarted.publish(tmp, "b.jsonl")
    assert sorted(p.name for p in (remote / "out").iterdir()) == ["b.jsonl"]
    assert (remote / "out" / "b.jsonl").read_bytes() == b"payload\n"


@pytest.mark.parametrize("exists", ["fail", "unique", "overwrite"])
def test_crash_between_rename_and_local_cleanup(delivery_for: Any, remote: Path, exists: str) -> None:
    delivery = delivery_for(exists)
    tmp = stage(delivery, "c.jsonl", b"same\n")
    delivery.publish(tmp, "c.jsonl")
    Path(tmp).write_bytes(b"same\n")  # a staged copy as a gateway before `.sent` left it
    restarted = delivery_for(exists)
    assert restarted.publish(tmp, "c.jsonl").endswith("/out/c.jsonl")
    assert sorted(p.name for p in (remote / "out").iterdir()) == ["c.jsonl"]  # no duplicate


@pytest.mark.parametrize("exists", ["fail", "unique", "overwrite"])
def test_crash_after_the_rename_and_the_consumer_took_the_file(
    delivery_for: Any, remote: Path, monkeypatch: pytest.MonkeyPatch, exists: str
) -> None:
    """Killed right after the rename, the file imported and deleted before the restart: the
    restart must not publish it again (the crash harness found this with a consumer running)."""
    delivery = delivery_for(exists)
    tmp = stage(delivery, "f.jsonl", b"once\n")
    rename = SftpDelivery._rename

    def rename_then_die(self: SftpDelivery, *args: Any) -> str:
        rename(self, *args)
        raise Crash

    with monkeypatch.context() as m:
        m.setattr(SftpDelivery, "_rename", rename_then_die)
        with pytest.raises(Crash):
            delivery.publish(tmp, "f.jsonl")
    (remote / "out" / "f.jsonl").unlink()  # the consumer's import
    restarted = delivery_for(exists)
    assert restarted.staged(tmp)  # the intent alone cannot tell; publish asks the server
    restarted.publish(tmp, "f.jsonl")
    assert list((remote / "out").iterdir()) == []
    assert not restarted.staged(tmp)
    assert list(Path(tmp).parent.iterdir()) == []


def test_existing_file_policies(delivery_for: Any, remote: Path) -> None:
    (remote / "out").mkdir()
    (remote / "out" / "d.jsonl").write_bytes(b"theirs\n")
    failing = delivery_for("fail")
    tmp = stage(failing, "d.jsonl", b"ours\n")
    with pytest.raises(DeliveryFailed, match="already exists"):
        failing.publish(tmp, "d.jsonl")
    assert (remote / "out" / "d.jsonl").read_bytes() == b"theirs\n"
    assert sorted(p.name for p in (remote / "out").iterdir()) == ["d.jsonl"]
    assert failing.staged(tmp)  # still to be published: nothing lost

    unique = delivery_for("unique")
    unique.publish(tmp, "d.jsonl")
    assert (remote / "out" / "d-1.jsonl").read_bytes() == b"ours\n"
    assert (remote / "out" / "d.jsonl").read_bytes() == b"theirs\n"

    overwrite = delivery_for("overwrite")
    tmp = stage(overwrite, "d.jsonl", b"ours again\n")
    overwrite.publish(tmp, "d.jsonl")
    assert (remote / "out" / "d.jsonl").read_bytes() == b"ours again\n"


def test_pipeline_recovers_a_publish_interrupted_by_a_crash(
    sshd: Any, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "root"
    config = make_config(sshd, remote, root)
    ledger = SqliteLedger(config.ledger_path)
    try:
        inbound = root / "inbound"
        inbound.mkdir(parents=True)
        (inbound / "adj.csv").write_bytes(ADJUSTMENT)
        stat = (inbound / "adj.csv").stat()
        row = claim(
            ledger, config.folder("work"), "inbound", inbound / "adj.csv", stat.st_size, stat.st_mtime_ns
        )

        def die(*args: Any) -> str:
            raise Crash

        with monkeypatch.context() as m:
            m.setattr(SftpDelivery, "_rename", die)
            with pytest.raises(Crash):
                Pipeline(config, ledger).process(row.file_id)
        assert ledger.get(row.file_id).state == "publishing"
        assert [p.name for p in (remote / "out").iterdir()] == [f".adj.{row.file_id}.jsonl.tmp"]
        outcome = Pipeline(config, ledger).process(row.file_id)  # what recovery does on restart
        assert outcome.state == "accepted"
        assert [p.name for p in (remote / "out").iterdir()] == [f"adj.{row.file_id}.jsonl"]
        assert (
            '"doc_type":"inventory_adjustment"' in (remote / "out" / f"adj.{row.file_id}.jsonl").read_text()
        )
        assert [o.state for o in ledger.outputs(row.file_id)] == ["published"]
    finally:
        ledger.close()


def test_unreachable_server_is_a_delivery_failure(sshd: Any, remote: Path, tmp_path: Path) -> None:
    config = make_config(sshd, remote, tmp_path / "root")
    target = config.target("wms")
    options = {**target.server.options, "port": 1, "timeout_seconds": 2}
    from dataclasses import replace

    delivery = SftpDelivery(replace(target, server=replace(target.server, options=options)))
    tmp = stage(delivery, "e.jsonl", b"x\n")
    with pytest.raises(DeliveryFailed, match="cannot connect"):
        delivery.publish(tmp, "e.jsonl")
    assert delivery.staged(tmp)


def test_unique_names() -> None:
    from gateway.delivery.sftp import unique_names

    assert unique_names("so.2026-abc.csv")[:3] == [
        "so.2026-abc.csv",
        "so.2026-abc-1.csv",
        "so.2026-abc-2.csv",
    ]
    assert unique_names("README")[1] == "README-1"
    assert unique_names(".hidden")[1] == ".hidden-1"
