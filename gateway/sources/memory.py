"""A source fed from memory, for tests and embedding: `name → bytes`, ready the moment it is put.

Like httpx's `MockTransport`, it lets the pipeline run without a drop folder where the folder is
not the point. A claim follows the same protocol as the other sources: the ledger row first,
then the bytes written into work/ under a temporary name and renamed, then the hash; the file
leaves the source only once it is in work/. Names the configuration ignores (temporary, hidden,
done-files) are never offered, as with a folder; readiness needs no settling, since a file is
only ever put whole.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from gateway.config import SourceConfig
from gateway.delivery.local import fsync_dir
from gateway.errors import FileVanished
from gateway.ledger.sqlite import FileRow, Ledger
from gateway.pipeline.claim import finish_claim
from gateway.sources.base import Candidate, is_ignored

SCHEME = "memory:"


class MemorySource:
    """Files handed over as bytes; `put` adds one (and wakes a waiting service loop)."""

    def __init__(
        self,
        config: SourceConfig,
        wake: threading.Event | None = None,
        files: Mapping[str, bytes] | None = None,
    ) -> None:
        self.config = config
        self.wake = wake or threading.Event()
        # name -> (content, arrival time in ns): the arrival time stands in for a file's mtime.
        self.files: dict[str, tuple[bytes, int]] = {}
        self.refused: dict[str, str] = {}  # every name handed over in memory is taken
        for name, data in (files or {}).items():
            self.put(name, data)

    def put(self, name: str, data: bytes) -> None:
        """Offer `data` as the file `name` (replacing a file of that name not yet claimed)."""
        self.files[name] = (bytes(data), time.time_ns())
        self.wake.set()

    def start(self) -> None:
        """Nothing to connect to."""

    def stop(self) -> None:
        """Nothing to release."""

    def poll(self) -> list[Candidate]:
        """Every file not ignored, oldest first."""
        ready = [
            Candidate(name, SCHEME + name, len(data), arrived)
            for name, (data, arrived) in self.files.items()
            if not is_ignored(name, self.config)
        ]
        return sorted(ready, key=lambda c: (c.mtime_ns, c.name))

    def next_due(self) -> float | None:
        """Nothing ever waits to settle."""
        return None

    def claim(self, ledger: Ledger, work_dir: Path, candidate: Candidate) -> FileRow:
        """Ledger row, bytes into work/, hash; FileVanished if the file was taken back or replaced."""
        row = ledger.claim(self.config.name, candidate.name, candidate.path, candidate.size,
                           candidate.mtime_ns, work_dir)  # fmt: skip
        return self.resume(ledger, row)

    def resume(self, ledger: Ledger, row: FileRow) -> FileRow:
        """Finish a claim: write the bytes into work/ unless they are there already."""
        assert row.work_path is not None
        work = Path(row.work_path)
        held = self.files.get(row.original_name)
        # Only the very file the row was claimed for: a newer one of that name stays offered.
        content = held[0] if held and (len(held[0]), held[1]) == (row.size, row.mtime_ns) else None
        if not work.exists():
            if content is None:
                ledger.vanish(row.file_id, "taken back or replaced before its claim")
                raise FileVanished(f"{row.source_path}: taken back or replaced before its claim")
            part = work.with_name(f"{row.file_id}.part")
            work.parent.mkdir(parents=True, exist_ok=True)
            with part.open("wb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            os.rename(part, work)
            fsync_dir(work.parent)
        if content is not None:
            del self.files[row.original_name]
        return finish_claim(ledger, row)
