"""Publishing into a local (or mounted) folder: temporary name, fsync, rename, fsync the folder.

A consumer that polls the folder (a Sage VI job, a WMS import) sees a file only once it is
complete, because `rename` within one filesystem is atomic; syncing the folder makes the new
name itself survive a power cut, so the ledger never records as published a file that is not.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gateway.config import TargetConfig
from gateway.errors import DeliveryFailed

TMP_SUFFIX = ".tmp"
#: Files synced at once by `sync_files`.
SYNC_THREADS = 16


def fsync_dir(folder: Path) -> None:
    """Make renames and creations in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_files(paths: list[Path]) -> None:
    """fsync many files at once: the filesystem commits its journal once for all of them
    instead of once per file. A file deleted since (an attempt's discarded output) is skipped."""

    def sync(path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        except OSError as exc:
            raise DeliveryFailed(f"cannot sync {path}: {exc.strerror}") from exc
        finally:
            os.close(fd)

    if paths:
        with ThreadPoolExecutor(min(SYNC_THREADS, len(paths))) as pool:
            list(pool.map(sync, paths))


class SyncedFile:
    """A file written in binary that is flushed and fsynced when closed; with `deferred`, its
    fsync is left to `sync_files` over that list, which must run before anyone relies on it."""

    def __init__(self, path: Path, deferred: list[Path] | None = None) -> None:
        self.path = path
        self.deferred = deferred
        self.fh = path.open("wb")

    def write(self, data: bytes, /) -> int:
        """Write bytes."""
        try:
            return self.fh.write(data)
        except OSError as exc:
            raise self._failed(exc) from exc

    def close(self) -> None:
        """Flush, fsync and close; closing twice is harmless."""
        if self.fh.closed:
            return
        try:
            self.fh.flush()
            if self.deferred is None:
                os.fsync(self.fh.fileno())
            else:
                self.deferred.append(self.path)
        except OSError as exc:
            raise self._failed(exc) from exc
        finally:
            with contextlib.suppress(OSError):  # a flush that failed is reported above
                self.fh.close()

    def _failed(self, exc: OSError) -> DeliveryFailed:
        # A full or read-only destination is the destination's state, not the file's fault:
        # the file waits and is tried again, like a destination that is down.
        return DeliveryFailed(f"cannot write {self.path}: {exc.strerror}")


class LocalDelivery:
    """Publishes outputs into one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        #: Where the outputs opened now leave their fsync (group commit), or None to sync each.
        self.deferred: list[Path] | None = None

    @classmethod
    def for_target(cls, target: TargetConfig) -> LocalDelivery:
        """The delivery into the folder of a `local:/dir` setting."""
        return cls(target.local_dir)

    @staticmethod
    def problems(deliver: str) -> list[str]:
        """Any folder will do; it is created on first use."""
        return [] if deliver.removeprefix("local:") else ["deliver: expected 'local:/folder'"]

    def staging_path(self, name: str) -> Path:
        """Where an output is written before it is published: beside its final name."""
        return self.folder / (name + TMP_SUFFIX)

    def open(self, name: str) -> SyncedFile:
        """Open a staged output for writing."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return SyncedFile(self.staging_path(name), self.deferred)
        except OSError as exc:
            raise DeliveryFailed(f"cannot write in {self.folder}: {exc.strerror}") from exc

    def publish(self, tmp: str, name: str) -> str:
        """Rename the staged file to its final name; return the final location."""
        final = self.rename(tmp, name)
        self.sync()
        return final

    def rename(self, tmp: str, name: str) -> str:
        """`publish` without the folder's fsync (`sync` follows, once for many outputs)."""
        final = self.folder / name
        try:
            os.replace(tmp, final)
        except OSError as exc:
            raise DeliveryFailed(f"cannot publish {final}: {exc.strerror}") from exc
        return str(final)

    def sync(self) -> None:
        """Make the renames in the folder durable."""
        try:
            fsync_dir(self.folder)
        except OSError as exc:
            raise DeliveryFailed(f"cannot sync {self.folder}: {exc.strerror}") from exc

    def staged(self, tmp: str) -> bool:
        """Whether a staged file is still there (so its publish did not happen yet)."""
        return Path(tmp).exists()

    def discard(self, tmp: str) -> None:
        """Remove a staged file of an attempt that will not be published."""
        # Never written (or its folder is gone): nothing to take back.
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            Path(tmp).unlink()
