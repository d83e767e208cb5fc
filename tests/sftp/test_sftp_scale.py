"""A remote folder of 10,000 files: one streamed pass per poll, capped, oldest first."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from gateway.ledger.sqlite import SqliteLedger

N = 10_000


def test_ten_thousand_files(make_source: Any, remote: Path, tmp_path: Path) -> None:
    folder = remote / "in"
    base = time.time() - 3600
    for n in range(N):
        path = folder / f"f{n:05d}.csv"
        path.write_bytes(b"a\n")
        os.utime(path, (base + (N - n), base + (N - n)))  # the last name is the oldest
    (folder / "skip.tmp").write_bytes(b"temporary")
    source = make_source(max_files_per_poll=100, after="keep", settle_seconds=0.01)
    assert source.poll() == []
    assert len(source.readiness.seen) == N  # one small entry per file, nothing else kept
    time.sleep(0.02)
    ready = source.poll()
    assert [c.name for c in ready] == [f"f{n:05d}.csv" for n in range(N - 1, N - 101, -1)]
    ledger = SqliteLedger(tmp_path / "gateway.db")
    try:
        for candidate in ready[:3]:
            source.claim(ledger, tmp_path / "work", candidate)
        again = source.poll()
        assert len(again) == 100 and not {c.name for c in ready[:3]} & {c.name for c in again}
        assert again[0].name == ready[3].name
        assert len(source.fetched) == 3 and len(source.readiness.seen) == N - 3
    finally:
        ledger.close()
