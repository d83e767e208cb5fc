"""NetSuite CSV Import: sales orders, item fulfillments, item receipts, adjustments, transfers.

The Import Assistant takes body and line fields in one file when every line row carries the
record's External ID and a record's rows are consecutive; the layouts in `schemas/netsuite/`
write one row per line with the body fields repeated. Two documents with the same External ID
in one file would be merged by NetSuite, so the second is refused. Dates follow the importing
user's preference (`date_format`, default MM/DD/YYYY as in NetSuite's own templates).
"""

from __future__ import annotations

from typing import ClassVar

from gateway.config import TargetConfig
from gateway.options import Option, text
from gateway.targets.delimited import Defaults
from gateway.targets.layout import Settings
from gateway.targets.tabular import LayoutTarget
from gateway.valuemaps import load as load_value_map

DEFAULT_DATE_FORMAT = "%m/%d/%Y"


class NetsuiteTarget(LayoutTarget):
    """NetSuite CSV import files, UTF-8 with a header row."""

    format: ClassVar[str] = "netsuite"
    family: ClassVar[str] = "netsuite"
    defaults: ClassVar[Defaults] = Defaults(
        "{layout}.{stem}.{file_id}.csv", encoding="utf-8", line_ending="crlf", header=True
    )
    extra_options: ClassVar[tuple[Option, ...]] = (
        text("date_format", DEFAULT_DATE_FORMAT, "the importing user's date preference, as strftime"),
        text("adjustment_account", None, "the account inventory adjustments post to"),
    )
    unique_documents: ClassVar[bool] = True

    @classmethod
    def make_settings(cls, config: TargetConfig) -> Settings:
        """The date format and the options the layouts read (`option.adjustment_account`)."""
        return Settings(
            value_map=load_value_map(config.options.get("value_map")),
            date_format=str(config.options.get("date_format", DEFAULT_DATE_FORMAT)),
            options=dict(config.options),
        )

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """The layout-target checks, and a date format that writes a whole date."""
        problems = super().check(config)
        fmt = config.options.get("date_format", DEFAULT_DATE_FORMAT)
        if isinstance(fmt, str) and not all(
            any(code in fmt for code in codes) for codes in (("%d",), ("%m", "%b", "%B"), ("%Y", "%y"))
        ):
            problems.append(f"date_format: {fmt!r} must write a day, a month and a year (%d, %m, %Y)")
        return problems
