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
    for folder in move(source, destination, copy=copy):
        fsync_dir(folder)


def move(source: Path, destination: Path, *, copy: bool = False) -> set[Path]:
    """`move_durably` without the folders' fsync: the folders the caller has to sync."""
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
            fsync_dir(destination.parent)  # the copy is durable before the original goes
            source.unlink()
    return {destination.parent} if copy else {destination.parent, source.parent}


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
    for folder in take(ledger, row, copy=copy, source_path=source_path):
        fsync_dir(folder)
    return ledger.start(row.file_id, *fingerprint(row))


def take(
    ledger: Ledger, row: FileRow, *, copy: bool = False, source_path: Path | None = None
) -> set[Path]:
    """Move a claimed file into work/ unless it is there: the folders left to sync.
    Raises FileVanished (the claim recorded as vanished) or OSError (the claim dropped)."""
    assert row.work_path is not None
    work = Path(row.work_path)
    if work.exists():
        return set()
    try:
        return move(source_path or Path(row.source_path), work, copy=copy)
    except FileNotFoundError:
        ledger.vanish(row.file_id)
        raise FileVanished(row.source_path) from None
    except OSError:
        # Nothing moved (full disk, permissions): the file is still offered at its source
        # and will be claimed afresh, so this attempt must not linger as a claim.
        ledger.drop_claim(row.file_id)
        raise


def fingerprint(row: FileRow) -> tuple[str, int]:
    """The sha256 and size of a file taken into work/."""
    assert row.work_path is not None
    work = Path(row.work_path)
    return sha256_of(work), work.stat().st_size


def claim_group(
    ledger: Ledger, work_dir: Path, source: str, offered: list[tuple[Path, int, int]]
) -> list[FileRow | Exception]:
    """`claim` for many files (path, size, mtime_ns) of one folder, each step once for all:
    one transaction records every claim, the renames follow, then one fsync per folder, the
    hashes and one transaction that marks them processing. Per file: its row, or why not
    (FileVanished, OSError), in the order offered."""
    with ledger.group():
        rows = [
            ledger.claim(source, readable(path.name), readable(str(path)), size, mtime_ns, work_dir)
            for path, size, mtime_ns in offered
        ]
    results: list[FileRow | Exception] = []
    folders: set[Path] = set()
    for row, (path, _, _) in zip(rows, offered, strict=True):
        try:
            folders |= take(ledger, row, source_path=path)
        except (FileVanished, OSError) as exc:
            results.append(exc)
        else:
            results.append(row)
    for folder in folders:
        fsync_dir(folder)
    # Hashed before the transaction, which must not hold the ledger while files are read.
    facts = {r.file_id: fingerprint(r) for r in results if isinstance(r, FileRow)}
    with ledger.group():
        return [ledger.start(r.file_id, *facts[r.file_id]) if isinstance(r, FileRow) else r for r in results]
