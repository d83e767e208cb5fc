"""The outbound formats, by the name a `[[target]]` gives as `format`."""

from __future__ import annotations

from gateway.targets.base import Target
from gateway.targets.edifact import EdifactTarget
from gateway.targets.jsonl import JsonlTarget

TARGETS: dict[str, type[Target]] = {
    "jsonl": JsonlTarget,
    "edifact": EdifactTarget,
}
