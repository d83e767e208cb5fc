"""The gateway's one error tree, sorted by what the service does next.

```
GatewayError
├── ConfigError            refuse to start (exit 78); carries every problem at once
├── TransientError         retry later with backoff; the file stays where it is
│   ├── SourceUnavailable  a source cannot be listed or read right now
│   ├── DeliveryFailed     an outbound destination cannot be written right now
│   └── LedgerFull         the ledger's filesystem has no room: the service waits, then recovers
├── FileVanished           the offered file disappeared before it was claimed; logged only
└── RejectedFile           quarantine the file with its findings
    ├── UnknownFormat      stage "detect"
    ├── DecodeError        stage "decode"
    ├── InvalidContent     stage "validate"
    ├── MappingError       stage "map"
    ├── RoutingError       stage "route"
    └── WriteRejected      stage "write": a record the target cannot represent

StopRequested (BaseException)  a second SIGTERM: stop at once
```

A rejection carries `Finding`s, each located as precisely as the format allows: the same
shape is written to `error.json` and rendered one line each to `error.txt`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from gateway.findings import Code, Severity

#: Location keys in the order a person reads them; `error.json` keeps only those set.
LOCATION_KEYS = (
    "line",
    "column",
    "segment",
    "segment_index",
    "element",
    "component",
    "field",
    "xpath",
    "record",
)


@dataclass(frozen=True)
class Finding:
    """One problem in one place of an input file; a warning is recorded and never blocks."""

    code: Code
    message: str
    location: dict[str, Any] = field(default_factory=dict)
    value: str | None = None
    rule: str | None = None
    severity: Severity = Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        """Return the `error.json` form of this finding."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "location": {k: self.location[k] for k in LOCATION_KEYS if k in self.location},
            "value": self.value,
            "rule": self.rule,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding read back from `error.json`."""
        return cls(
            code=Code(str(data["code"])),
            message=str(data["message"]),
            location=dict(data.get("location") or {}),
            value=data.get("value"),
            rule=data.get("rule"),
            severity=Severity(data.get("severity") or Severity.ERROR),
        )

    def render(self, file_name: str) -> str:
        """Say the finding for a person, compiler style: `name: where: what (rule)`."""
        where = describe_location(self.location)
        text = f"{file_name}: {where + ': ' if where else ''}"
        if self.severity is Severity.WARNING:
            text += "warning: "
        if self.value is not None:
            text += f"{self.value!r}: "
        text += self.message
        if self.rule:
            text += f" ({self.rule})"
        return text


def describe_location(location: dict[str, Any]) -> str:
    """Render a location as `line 3, column 'sku'` or `segment 14 (QTY), element 1.2`."""
    parts: list[str] = []
    if "record" in location:
        parts.append(f"record {location['record']}")
    if "line" in location:
        parts.append(f"line {location['line']}")
    if "segment_index" in location:
        tag = f" ({location['segment']})" if "segment" in location else ""
        parts.append(f"segment {location['segment_index']}{tag}")
    elif "segment" in location:
        parts.append(f"segment {location['segment']}")
    if "element" in location:
        element = str(location["element"])
        if "component" in location:
            element += f".{location['component']}"
        parts.append(f"element {element}")
    if "column" in location:
        parts.append(f"column {location['column']!r}")
    if "field" in location:
        parts.append(f"field {location['field']}")
    if "xpath" in location:
        parts.append(f"at {location['xpath']}")
    return ", ".join(parts)


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """The configuration cannot be used; every problem is listed, each with its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class LedgerUnusable(ConfigError):
    """The ledger cannot be trusted (corrupt, deleted or replaced): stop rather than forget what
    was published, which would publish it again."""

    def __init__(self, problem: str) -> None:
        super().__init__([f"ledger: {problem}"])


class TransientError(GatewayError):
    """Something outside the file failed; try again later."""


class SourceUnavailable(TransientError):
    """A source cannot be listed or read right now."""


class DeliveryFailed(TransientError):
    """An outbound destination cannot be written right now."""

    #: The target whose destination failed, when the pipeline knows it (status, alerts).
    target: str | None = None


class LedgerFull(TransientError):
    """The ledger cannot be written for want of room on its filesystem. Nothing it recorded is
    lost (the failed transaction is rolled back), so the service pauses, and once there is room
    recovers exactly as after a restart."""


class LedgerUnreachable(TransientError):
    """The ledger's database does not answer (restarting, failing over): exit 1, so that the
    service manager starts the gateway again, unlike a configuration error."""


class FileVanished(GatewayError):
    """The file disappeared or was replaced before the gateway could claim it."""


class ClaimTaken(FileVanished):
    """Another gateway instance sharing the ledger claimed the file first."""


class LeaseLost(GatewayError):
    """Another gateway instance took over a file this one held (this one was presumed dead):
    what this one did since must not be published."""


class RejectedFile(GatewayError):
    """The file is bad: it goes to quarantine with these findings."""

    stage: ClassVar[str] = "validate"

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings[:3]))
        self.findings = findings


class UnknownFormat(RejectedFile):
    """No reader recognises the content."""

    stage = "detect"


class DecodeError(RejectedFile):
    """The bytes cannot be turned into text with enough confidence."""

    stage = "decode"


class InvalidContent(RejectedFile):
    """The text does not conform to its schema."""

    stage = "validate"


class MappingError(RejectedFile):
    """Valid input that cannot be expressed as canonical records."""

    stage = "map"


class RoutingError(RejectedFile):
    """A document no route takes, or one that crosses its source's domain."""

    stage = "route"


class WriteRejected(RejectedFile):
    """A record a target cannot represent without losing data."""

    stage = "write"


class StopRequested(BaseException):
    """A second SIGTERM: abandon the file in hand; the ledger recovers it on restart."""


def reject(
    kind: type[RejectedFile],
    code: Code,
    message: str,
    *,
    value: str | None = None,
    rule: str | None = None,
    **location: Any,
) -> RejectedFile:
    """Build a rejection with a single finding, the common case at a boundary."""
    return kind([Finding(code, message, location, value, rule)])
