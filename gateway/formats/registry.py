"""The format readers, by name. Detection asks them in this order; CSV, the catch-all, last."""

from __future__ import annotations

from gateway.formats.base import Reader
from gateway.formats.csv import CsvReader

FORMATS: dict[str, type[Reader]] = {
    "csv": CsvReader,
}
