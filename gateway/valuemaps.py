"""Value maps: translate one side's codes into the other's (warehouses, units, carriers, reasons).

A WMS says `DC1`, `EA`, `UPSN`, `DMG`; Sage says `000`, `EACH`, `UPS GROUND`, `D`. The tables
are data, one TOML file per pair of vocabularies in `schemas/valuemaps/` or inline in a target's
options, with one table per kind:

```toml
[warehouse]
DC1 = "000"
[uom]
EA = "EACH"
```

A kind that has a table is closed: a value missing from it is a finding, because passing an
unknown code through would post stock to a warehouse the ERP does not have. A kind without a
table passes values through unchanged. Keys compare exactly, after trimming.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway import resources

KINDS = ("warehouse", "uom", "carrier", "reason_code", "service_level", "location")


class ValueMapError(ValueError):
    """A value map that cannot be used; the message names the key at fault."""


class Unmapped(LookupError):
    """A value that a closed table does not list."""

    def __init__(self, kind: str, value: str, source: str) -> None:
        super().__init__(f"no {kind} mapping for {value!r} in value map {source}")
        self.kind = kind
        self.value = value
        self.source = source


@dataclass(frozen=True)
class ValueMap:
    """Tables by kind; `source` says where they came from, for findings."""

    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = "(none)"

    def apply(self, kind: str | None, value: str) -> str:
        """The mapped value; unchanged when `kind` has no table; `Unmapped` when it is missing."""
        if kind is None or kind not in self.tables or value == "":
            return value
        table = self.tables[kind]
        key = value.strip()
        if key not in table:
            raise Unmapped(kind, value, self.source)
        return table[key]


def _tables(raw: Mapping[str, Any], where: str) -> dict[str, dict[str, str]]:
    tables: dict[str, dict[str, str]] = {}
    for kind, table in raw.items():
        if kind not in KINDS:
            raise ValueMapError(f"{where}{kind}: unknown kind (known: {', '.join(KINDS)})")
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise ValueMapError(f"{where}{kind}: expected a table of strings")
        tables[kind] = {str(k).strip(): v for k, v in table.items()}
    return tables


def load(spec: Any) -> ValueMap:
    """A value map from a target option: a name in schemas/valuemaps/, a .toml path, or a table."""
    if spec is None:
        return ValueMap()
    if isinstance(spec, dict):
        return ValueMap(_tables(spec, "value_map."), "(inline)")
    if not isinstance(spec, str) or not spec:
        raise ValueMapError("value_map: expected a name, a .toml path or a table")
    path = Path(spec) if spec.endswith(".toml") else resources.path("valuemaps", f"{spec}.toml")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueMapError(f"value_map: cannot read {spec!r}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueMapError(f"value_map: {spec!r} is not valid TOML: {exc}") from exc
    return ValueMap(_tables(raw, f"value_map {spec}: "), spec)
