"""Canonical JSON Lines: one output file per input file, one record a line."""

from __future__ import annotations

from typing import ClassVar

from gateway.canonical.records import Record
from gateway.config import TargetConfig
from gateway.errors import Finding
from gateway.targets.base import FileInfo, Opener, Output, unknown_options

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


class JsonlTarget:
    """The `canonical` target's format."""

    format: ClassVar[str] = "jsonl"

    def __init__(self, config: TargetConfig) -> None:
        self.pattern = str(config.options.get("file_name", DEFAULT_NAME))

    @staticmethod
    def check(config: TargetConfig) -> list[str]:
        """Only `file_name` is configurable."""
        problems = unknown_options(config, {"file_name"})
        pattern = config.options.get("file_name", DEFAULT_NAME)
        if "{file_id}" not in str(pattern):
            problems.append("file_name: must contain {file_id}, so that names are deterministic")
        return problems

    def writer(self, file: FileInfo, open_output: Opener) -> JsonlWriter:
        """A writer for one input file."""
        return JsonlWriter(file, open_output, self.pattern)
