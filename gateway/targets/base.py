"""What an outbound target is: a writer of canonical records into files of one format.

A target is one module with a class satisfying `Target`, registered in the `gateway.targets`
entry point group (see `gateway/plugins.py`); it declares its options. For each
input file the pipeline asks the target for a `Writer`, hands it the routed records one by one,
and closes it. The writer opens its output files through `Stage`, which puts them under a
temporary name and registers them, so that publishing, recovery and duplicate protection are
the delivery's business and never the format's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, ClassVar, Protocol, runtime_checkable

from gateway.canonical.records import Record
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.options import Option


class Output(Protocol):
    """A staged output file being written. **Protocol.**"""

    def write(self, data: bytes, /) -> int: ...
    def close(self) -> None: ...


Opener = Callable[[str], Output]
"""Opens a staged output by its final file name; the delivery decides where it really goes."""


@dataclass(frozen=True)
class FileInfo:
    """What a writer may use to name its outputs deterministically."""

    file_id: str
    name: str

    @property
    def stem(self) -> str:
        """The original name without its last suffix, made safe as a file name part."""
        stem = PurePath(self.name).stem or "file"
        return stem.lstrip("-.") or "file"

    def output_name(self, pattern: str, **extra: Any) -> str:
        """Fill a naming pattern: {file_id}, {stem}, {name} and any extra fields."""
        return pattern.format(file_id=self.file_id, stem=self.stem, name=self.name, **extra)


class Writer(Protocol):
    """Writes one input file's records for one target. **Protocol.**"""

    def write(self, record: Record) -> list[Finding]:
        """Write one record; findings say why it cannot be represented."""
        ...

    def close(self) -> None:
        """Finish every output (footers, counts) and close it."""
        ...


@runtime_checkable
class Sequenced(Protocol):
    """A target that numbers what it writes (IDoc DOCNUMs, EDIFACT references). **Protocol.**"""

    def bind_sequence(self, sequence: Callable[[str], int]) -> None:
        """Draw the numbers from a durable sequence (the ledger's `next_sequence`)."""
        ...


class Target(Protocol):
    """An outbound format. **Protocol.**"""

    format: ClassVar[str]
    #: The keys of its `[[target]]` table, checked with the configuration.
    options: ClassVar[tuple[Option, ...]]

    def __init__(self, config: TargetConfig) -> None: ...

    @classmethod
    def variants(cls) -> tuple[str, ...]:
        """The names a family's formats take after a dot (`sage100.shipment`); () for one format."""
        ...

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """What the declared types cannot say, as `key: problem`; called once those passed."""
        ...

    def writer(self, file: FileInfo, open_output: Opener) -> Writer:
        """A writer for the records of one input file."""
        ...


class SingleFormat:
    """A target that is one format, without variants, and checks nothing beyond its types."""

    @classmethod
    def variants(cls) -> tuple[str, ...]:
        """No variants."""
        return ()

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """Nothing beyond the declared types."""
        return []
