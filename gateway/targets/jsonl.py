"""Canonical JSON Lines: one output file per input file, one record a line."""

from __future__ import annotations

from typing import ClassVar

from gateway.canonical.records import Record
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.options import Option, text
from gateway.targets.base import FileInfo, Opener, Output, SingleFormat

DEFAULT_NAME = "{stem}.{file_id}.jsonl"


class JsonlWriter:
    """Writes every record of one input file to one `.jsonl` file."""

    def __init__(self, file: FileInfo, open_output: Opener, pattern: str) -> None:
        self.name = file.output_name(pattern)
        self.open_output = open_output
        self.out: Output | None = None

    def write(self, record: Record) -> list[Finding]:
        """Append the record as one line."""
        if self.out is None:
            self.out = self.open_output(self.name)
        self.out.write(record.to_json().encode("utf-8") + b"\n")
        return []

    def close(self) -> None:
        """Close the file; an input without records still gets its (empty) file."""
        if self.out is None:
            self.out = self.open_output(self.name)
        self.out.close()


class JsonlTarget(SingleFormat):
    """The `canonical` target's format."""

    format: ClassVar[str] = "jsonl"
    options: ClassVar[tuple[Option, ...]] = (
        text("file_name", DEFAULT_NAME, "the output file name pattern; must contain {file_id}"),
    )

    def __init__(self, config: TargetConfig) -> None:
        self.pattern = str(config.options.get("file_name", DEFAULT_NAME))

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """The file name pattern must make names deterministic."""
        if "{file_id}" not in config.options.get("file_name", DEFAULT_NAME):
            return ["file_name: must contain {file_id}, so that names are deterministic"]
        return []

    def writer(self, file: FileInfo, open_output: Opener) -> JsonlWriter:
        """A writer for one input file."""
        return JsonlWriter(file, open_output, self.pattern)
