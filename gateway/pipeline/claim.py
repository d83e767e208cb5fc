"""Claiming: the ledger first, then the move into work/, then the hash.

After `claim` returns, the file is ours: it sits in `work/` under a name derived from its file
id, the ledger knows its sha256, and whatever happens next, `recover` can finish the job. A
crash between the ledger row and the move is healed by `finish_claim` on start-up.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from gateway.delivery.local import fsync_dir
from gateway.errors import FileVanished
from gateway.ledger.sqlite import FileRow, Ledger

BLOCK = 1 << 20


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def move_durably(source: Path, destination: Path, *, copy: bool = False) -> None:
    """Rename (or copy) `source` to `destination` and sync both folders.

    Across filesystems the copy is synced before the original goes, so a crash leaves two
    copies at worst, never none.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        if copy:
            raise OSError(18, "copy requested")
        os.rename(source, destination)
    except OSError as exc:
        if exc.errno != 18:  # EXDEV: another filesystem
            raise
        tmp = destination.with_name(destination.name + ".part")
        shutil.copyfile(source, tmp)
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.rename(tmp, destination)
        if not copy:
            source.unlink()
    fsync_dir(destination.parent)
    if not copy:
        fsync_dir(source.parent)


def claim(
    ledger: Ledger,
    work_dir: Path,
    source: str,
    path: Path,
    size: int,
    mtime_ns: int,
    *,
    name: str | None = None,
    copy: bool = False,
    retry_of: str | None = None,
) -> FileRow:
    """Take `path` into work/; raises FileVanished if it is gone before it could be moved.

    The ledger keeps names as text: a path that is not valid UTF-8 (a name written by a
    Windows or Latin-1 tool) is recorded readably, its bad bytes as `\\xe9`, while the file
    itself is moved by its real path.
    """
    shown = readable(str(path))
    row = ledger.claim(source, name or readable(path.name), shown, size, mtime_ns, work_dir, retry_of)
    return finish_claim(ledger, row, copy=copy, source_path=path)


def readable(text: str) -> str:
    """`text` itself when it is valid Unicode; else with each byte that is not UTF-8 as `\\xNN`."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")
    return text


def finish_claim(
    ledger: Ledger, row: FileRow, *, copy: bool = False, source_path: Path | None = None
) -> FileRow:
    """Complete a claim whose ledger row exists: move (if not yet), hash, mark processing.
    `source_path` is the file's real path when the ledger could only record it readably."""
    assert row.work_path is not None
    work = Path(row.work_path)
    if not work.exists():
        try:
            move_durably(source_path or Path(row.source_path), work, copy=copy)
        except FileNotFoundError:
            ledger.vanish(row.file_id)
            raise FileVanished(row.source_path) from None
        except OSError:
            # Nothing moved (full disk, permissions): the file is still offered at its source
            # and will be claimed afresh, so this attempt must not linger as a claim.
            ledger.drop_claim(row.file_id)
            raise
    stat = work.stat()
    return ledger.start(row.file_id, sha256_of(work), stat.st_size)
