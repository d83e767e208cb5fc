"""The format readers, by name. Detection asks them in this order; CSV, the catch-all, last."""

from __future__ import annotations

from gateway.formats.base import Reader
from gateway.formats.csv.reader import CsvReader
from gateway.formats.edifact.reader import EdifactReader
from gateway.formats.idoc.reader import IdocReader
from gateway.formats.idoc.xml import IdocXmlReader
from gateway.formats.xml.reader import XmlReader

FORMATS: dict[str, type[Reader]] = {
    "idoc-xml": IdocXmlReader,
    "xml": XmlReader,
    "idoc": IdocReader,
    "edifact": EdifactReader,
    "csv": CsvReader,
}
