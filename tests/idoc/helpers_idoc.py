"""Reading a file in-process the way `gateway validate/convert` do, for the IDoc tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.cli import check
from gateway.config import Config, SourceConfig
from gateway.findings import Strictness

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "inbound" / "idoc"


def read(
    path: Path, make_config: Callable[..., Config], strictness: str = "standard", **options: Any
) -> tuple[list[dict[str, Any]], check.Report]:
    """The canonical records (as dicts) and the report of reading `path` under `strictness`."""
    config = make_config()
    source = SourceConfig(name="inbound", strictness=Strictness(strictness), options=options)
    report = check.Report(path)
    records = [r.to_dict() for r in check.read(path, config, source, report)]
    return records, report


def codes(report: check.Report) -> list[str]:
    """The finding codes of a report, in order."""
    return [f.code for f in report.findings]
