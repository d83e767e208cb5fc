"""Shared helpers for the EDIFACT tests: read a file through the real reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.cli import check
from gateway.config import Config, SourceConfig
from gateway.findings import Strictness

ORDER = (
    "UNA:+.? '\n"
    "UNB+UNOC:3+5412345000013:14+4012345000009:14+261126:1200+REF1'\n"
    "UNH+1+ORDERS:D:96A:UN:EAN008'\n"
    "BGM+220+PO-1001+9'\n"
    "DTM+137:20261126:102'\n"
    "NAD+BY+5412345000013::9'\n"
    "NAD+DP+5412345000099::9++Müller?+Co'\n"
    "LIN+1++4000862141404:EN'\n"
    "QTY+21:12:PCE'\n"
    "PRI+AAA:2.50'\n"
    "UNS+S'\n"
    "UNT+10+1'\n"
    "UNZ+1+REF1'\n"
)


def validate(path: Path, config: Config, strictness: str = "standard", **options: Any) -> check.Report:
    """Validate one file as the CLI does, with source options, under `strictness`."""
    source = SourceConfig(name="edi", strictness=Strictness(strictness), options=options)
    return check.validate(path, config, source)


def records(
    path: Path, config: Config, strictness: str = "standard", **options: Any
) -> tuple[list[Any], check.Report]:
    """The records and report of one file, under `strictness`."""
    source = SourceConfig(name="edi", strictness=Strictness(strictness), options=options)
    report = check.Report(path)
    return list(check.read(path, config, source, report)), report

#: A partner's drop folder, fast settling: the start of the end-to-end tests' configurations.
RETAILER_SOURCE = """
[[source]]
name = "retailer"
path = "inbound"
side = "erp"
settle_seconds = 0.05
poll_seconds = 0.1
"""
