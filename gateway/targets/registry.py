"""The outbound formats, by the name a `[[target]]` gives as `format`."""

from __future__ import annotations

from gateway.targets.base import Target
from gateway.targets.canonical_csv import CanonicalCsvTarget
from gateway.targets.edifact import ContrlTarget, EdifactTarget
from gateway.targets.idoc import IdocTarget
from gateway.targets.jsonl import JsonlTarget
from gateway.targets.netsuite import NetsuiteTarget
from gateway.targets.quickbooks import FORMATS as QUICKBOOKS_FORMATS
from gateway.targets.sage100 import Sage100Target
from gateway.targets.xml import XmlTarget

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
