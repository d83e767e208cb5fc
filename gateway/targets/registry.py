"""The outbound formats, by the name a `[[target]]` gives as `format`."""

from __future__ import annotations

from gateway.formats.csv.writer import CanonicalCsvTarget
from gateway.formats.edifact.writer import ContrlTarget, EdifactTarget
from gateway.formats.idoc.writer import IdocTarget
from gateway.formats.xml.writer import XmlTarget
from gateway.targets.base import Target
from gateway.targets.jsonl import JsonlTarget
from gateway.targets.netsuite import NetsuiteTarget
from gateway.targets.quickbooks import FORMATS as QUICKBOOKS_FORMATS
from gateway.targets.sage100 import Sage100Target

TARGETS: dict[str, type[Target]] = {
    "jsonl": JsonlTarget,
    "canonical_csv": CanonicalCsvTarget,
    **Sage100Target.formats(),
    **NetsuiteTarget.formats(),
    **QUICKBOOKS_FORMATS,
    "edifact": EdifactTarget,
    "edifact_contrl": ContrlTarget,
    "idoc": IdocTarget,
    "xml": XmlTarget,
}
