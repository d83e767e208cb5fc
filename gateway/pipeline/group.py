"""A group of files committed together (group commit): what the pipeline keeps of each file it
has read and staged until the group's single commit, publish and archive.

A file joins its group once its outputs are staged; `Pipeline.complete` then syncs every staged
output at once, commits the files in one transaction, renames their outputs with one fsync per
folder, archives them with one fsync and accepts them in one transaction. A file whose content
or business key equals a pending one's makes the pending ones complete first, so that the
duplicate check finds them accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.ledger.protocol import Commit, FileRow


@dataclass
class Prepared:
    """A file read and staged, to be committed: what its commit says, for its outcome."""

    row: FileRow
    commit: Commit
    doc_types: dict[str, int]
    unique_keys: list[tuple[str, str]]
    started: float


@dataclass
class Group:
    """Files claimed together whose accepted ones are committed, published and archived
    together (group commit); `failed` hears of each file that could not be finished."""

    failed: Callable[[str, Exception], None]
    #: Claimed by this group just now: no earlier attempt to clean up.
    fresh: set[str] = field(default_factory=set)
    pending: list[Prepared] = field(default_factory=list)
    # The content and business keys of the pending files: a later file of the group with the
    # same is judged after they are accepted, so that it is found a duplicate.
    shas: set[str] = field(default_factory=set)
    keys: set[tuple[str, str]] = field(default_factory=set)
    #: Outputs of the pending files written but not yet synced (synced at once before the commit).
    unsynced: list[Path] = field(default_factory=list)

    def add(self, prepared: Prepared) -> None:
        """One more file to complete with the others."""
        self.pending.append(prepared)
        assert prepared.row.sha256 is not None
        self.shas.add(prepared.row.sha256)
        self.keys.update(prepared.unique_keys)
