"""The format readers, by name. Detection asks them in this order; CSV, the catch-all, last."""

from __future__ import annotations

from gateway.formats.base import Reader
from gateway.formats.csv import CsvReader
from gateway.formats.edifact import EdifactReader
from gateway.formats.idoc import IdocReader
from gateway.formats.idoc_xml import IdocXmlReader
from gateway.formats.xml import XmlReader

FORMATS: dict[str, type[Reader]] = {
    "idoc-xml": IdocXmlReader,
    "xml": XmlReader,
    "idoc": IdocReader,
    "edifact": EdifactReader,
    "csv": CsvReader,
}
