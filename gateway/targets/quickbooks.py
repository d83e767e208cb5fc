"""QuickBooks: Desktop IIF (items, customers, invoices, adjustments) and Online CSV imports.

IIF is tab-delimited text without quoting: a section header row (`!INVITEM`, `!TRNS`, `!SPL`,
`!ENDTRNS`) names the columns, then rows of that type follow; a transaction is a TRNS row, its
SPL rows and ENDTRNS, and its amounts must sum to zero (the layouts in `schemas/quickbooks_iif/`
derive the TRNS amount from the rounded SPL amounts). A tab or line break inside a value would
shift every column after it, so such a value is refused. QuickBooks Online has no IIF; its own
CSV imports take products and invoices (`schemas/quickbooks_online/`).

Account names come from target options (`income_account`, `asset_account`, `cogs_account`,
`ar_account`, `adjustment_account`); invoices need a customer, which a shipment carries only in
`extensions.customer_id`, or which the target option `customer` gives for all.
"""

from __future__ import annotations

from typing import ClassVar

from gateway.config import TargetConfig
from gateway.options import Option, text
from gateway.targets.delimited import DELIMITER_NAMES, Defaults
from gateway.targets.layout import Settings
from gateway.targets.tabular import LayoutTarget
from gateway.valuemaps import load as load_value_map

ACCOUNTS = ("income_account", "asset_account", "cogs_account", "ar_account", "adjustment_account")


class _QuickBooksTarget(LayoutTarget):
    """What both QuickBooks targets share: account options and US dates."""

    extra_options: ClassVar[tuple[Option, ...]] = (
        *(text(account, None, f"the {account.replace('_', ' ')} name") for account in ACCOUNTS),
        text("customer", None, "the customer of every invoice whose shipment names none"),
        text("date_format", "%m/%d/%Y", "the date format, as strftime"),
    )

    @classmethod
    def make_settings(cls, config: TargetConfig) -> Settings:
        """US dates by default; the layouts read account names and the customer from options."""
        return Settings(
            value_map=load_value_map(config.options.get("value_map")),
            date_format=str(config.options.get("date_format", "%m/%d/%Y")),
            options=dict(config.options),
        )


class IifTarget(_QuickBooksTarget):
    """QuickBooks Desktop IIF files: Windows-1252, tab-delimited, section headers always."""

    format: ClassVar[str] = "quickbooks_iif"
    family: ClassVar[str] = "quickbooks_iif"
    defaults: ClassVar[Defaults] = Defaults(
        "{layout}.{stem}.{file_id}.iif", delimiter="\t", encoding="cp1252", header=True, quoting=False
    )

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """IIF is always tab-delimited and always has its section header rows."""
        problems = super().check(config)
        delimiter = config.options.get("delimiter", "\t")
        if DELIMITER_NAMES.get(delimiter, delimiter) != "\t":
            problems.append("delimiter: IIF is always tab-delimited")
        if config.options.get("header", True) is not True:
            problems.append("header: IIF needs its !TRNS/!SPL/!ENDTRNS header rows")
        return problems


class QboTarget(_QuickBooksTarget):
    """QuickBooks Online CSV imports: products and invoices, UTF-8 with a header row."""

    format: ClassVar[str] = "quickbooks_online"
    family: ClassVar[str] = "quickbooks_online"
    defaults: ClassVar[Defaults] = Defaults("{layout}.{stem}.{file_id}.csv", line_ending="crlf")
    extra_options: ClassVar[tuple[Option, ...]] = (
        *_QuickBooksTarget.extra_options,
        Option("due_days", (int,), 0, "days from the invoice date to its due date (0 to 365)"),
        text("item_type", "Inventory", "the product type of imported items"),
    )
    unique_documents: ClassVar[bool] = True

    @classmethod
    def check(cls, config: TargetConfig) -> list[str]:
        """The layout-target checks, and a due date that is not before the invoice date."""
        problems = super().check(config)
        due = config.options.get("due_days", 0)
        if isinstance(due, int) and not 0 <= due <= 365:
            problems.append("due_days: must be between 0 and 365")
        return problems
