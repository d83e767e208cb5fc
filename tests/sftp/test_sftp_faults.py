"""Faults against a real sshd: killed mid-listing and mid-download, frozen, then back."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import paramiko
import pytest

from gateway import config as config_module
from gateway.errors import SourceUnavailable
from gateway.ledger.sqlite import SqliteLedger
from gateway.service import Service
from gateway.sources import sftp as sftp_source
from tests.sftp.conftest import server_options, settled
from tests.waiting import wait_for_final, wait_until

ROW = b"adjustment_id,adjusted_at,warehouse,line_no,sku,location,mode,quantity_change,reason_code\n"


def adjustment(n: int) -> bytes:
    return ROW + b"ADJ-%d,2026-11-26,000,1,SKU-%d,A-01,delta,-1,DAMAGED\n" % (n, n)


def poll_through_outages(source: Any) -> list[Any]:
    """One poll; an unreachable server (still reconnecting) counts as nothing ready yet."""
    try:
        return list(source.poll())
    except SourceUnavailable:
        return []


def outcomes(ledger: SqliteLedger, source: str) -> Counter[str]:
    return Counter(f"{r.original_name}:{r.state}" for r in ledger.files() if r.source == source)


def test_server_killed_mid_listing_and_mid_download_then_back(
    fresh_sshd: Any, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"f{n:03d}.csv" for n in range(150)]
    for n, name in enumerate(names):
        (remote / "in" / name).write_bytes(adjustment(n))
    (remote / "in" / "big.bin").write_bytes(os.urandom(40 << 20))
    os.utime(remote / "in" / "big.bin", (time.time() - 3600, time.time() - 3600))  # oldest: first
    server = {
        "name": "partner",
        "type": "sftp",
        "settle_seconds": 0.05,
        "poll_seconds": 0.1,
        **server_options(fresh_sshd, remote / "in", after=f"move:{remote / 'archive'}", timeout_seconds=3),
    }
    local = {"name": "inbound", "settle_seconds": 0.05, "poll_seconds": 0.1}
    root = tmp_path / "root"
    config = config_module.parse({"source": [local, server]}, root)
    for folder in ("work", "quarantine", "archive"):
        config.folder(folder).mkdir(parents=True, exist_ok=True)
    ledger = SqliteLedger(config.ledger_path)
    service = Service(config, ledger)
    kills: list[str] = []
    real_iter = paramiko.SFTPClient.listdir_iter
    real_reply = sftp_source._Replies._async_response
    replies = Counter[str]()

    def listing_then_kill(self: Any, path: str, read_aheads: int = 50) -> Any:
        for i, entry in enumerate(real_iter(self, path, read_aheads)):
            if i == 60 and "listing" not in kills:
                kills.append("listing")
                fresh_sshd.stop()
            yield entry

    def reply_then_kill(self: Any, kind: int, msg: Any, num: int) -> None:
        replies["all"] += 1
        real_reply(self, kind, msg, num)
        if replies["all"] == 20 and "download" not in kills:  # 20 of big.bin's 320 reads
            kills.append("download")
            fresh_sshd.stop()

    monkeypatch.setattr(paramiko.SFTPClient, "listdir_iter", listing_then_kill)
    monkeypatch.setattr(sftp_source._Replies, "_async_response", reply_then_kill)
    try:
        service.recover()
        for source in service.sources.values():
            source.start()
        assert not service.poll_once()
        assert kills == ["listing"]
        assert ledger.source_rows()["partner"]["reachable"] == 0
        # Other sources keep flowing while the server is away.
        (root / "inbound" / "local.csv").write_bytes(adjustment(999))
        wait_for_final(ledger, ["local.csv"], step=service.poll_once)
        assert outcomes(ledger, "inbound") == {"local.csv:accepted": 1}
        fresh_sshd.start()
        wait_until(lambda: "download" in kills, what="the kill mid-download", step=service.poll_once,
                   seen=lambda: (kills, replies))  # fmt: skip
        assert kills == ["listing", "download"]
        assert not list(config.folder("work").glob("*.part"))  # the partial download is gone
        fresh_sshd.start()
        wait_for_final(ledger, [*names, "big.bin"], step=service.poll_once)
        left = remote / "in"
        wait_until(lambda: not list(left.iterdir()), what="every remote file moved to the archive",
                   step=service.poll_once, seen=lambda: sorted(p.name for p in left.iterdir()))  # fmt: skip
    finally:
        for source in service.sources.values():
            source.stop()
        counts = outcomes(ledger, "partner")
        ledger.close()
    assert sorted((remote / "archive").iterdir()) == sorted(
        remote / "archive" / n for n in [*names, "big.bin"]
    )
    assert counts == Counter({**{f"{n}:accepted": 1 for n in names}, "big.bin:quarantined": 1})
    outputs = list((root / "outbound" / "canonical").glob("f*.jsonl"))
    assert len(outputs) == len(names)


def test_hung_server_times_out(fresh_sshd: Any, make_source: Any, remote: Path) -> None:
    (remote / "in" / "h.csv").write_bytes(b"a\n")
    source = make_source(server=fresh_sshd, timeout_seconds=1, poll_seconds=0.05)
    assert source.poll() == []
    fresh_sshd.signal_all(signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match=r"timed out|closed|lost"):
            source.poll()
        assert time.monotonic() - started < 5
        time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(SourceUnavailable):  # a new connection waits for the banner in vain
            source.poll()
        assert time.monotonic() - started < 5
    finally:
        fresh_sshd.signal_all(signal.SIGCONT)
    ready = wait_until(lambda: poll_through_outages(source), what="h.csv ready once the server thawed")
    assert [c.name for c in ready] == ["h.csv"]


def test_server_frozen_mid_download(
    fresh_sshd: Any, make_source: Any, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (remote / "in" / "big.bin").write_bytes(os.urandom(20 << 20))
    source = make_source(server=fresh_sshd, timeout_seconds=1, poll_seconds=0.05)
    (candidate,) = settled(source)
    real_reply = sftp_source._Replies._async_response
    count = Counter[str]()

    def reply_then_freeze(self: Any, kind: int, msg: Any, num: int) -> None:
        count["replies"] += 1
        real_reply(self, kind, msg, num)
        if count["replies"] == 10:
            fresh_sshd.signal_all(signal.SIGSTOP)

    monkeypatch.setattr(sftp_source._Replies, "_async_response", reply_then_freeze)
    ledger = SqliteLedger(tmp_path / "gateway.db")
    try:
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match="timed out"):
            source.claim(ledger, tmp_path / "work", candidate)
        assert time.monotonic() - started < 6
        (row,) = ledger.files()
        assert row.state == "claimed" and not list((tmp_path / "work").glob("*"))
        fresh_sshd.signal_all(signal.SIGCONT)
        monkeypatch.undo()
        # The per-file backoff (poll_seconds) passes while the source waits to be ready again.
        ready = wait_until(lambda: poll_through_outages(source), what="big.bin ready once the server thawed")
        again = source.claim(ledger, tmp_path / "work", ready[0])
        assert again.file_id == row.file_id and again.size == 20 << 20
        assert Path(again.work_path).read_bytes() == (remote / "in" / "big.bin").read_bytes()
    finally:
        fresh_sshd.signal_all(signal.SIGCONT)
        ledger.close()
