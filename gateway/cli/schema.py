"""`gateway config schema`: every installed plugin's options as one JSON Schema.

The schema describes a `gateway.toml` read as JSON: a `[[source]]` takes the keys every source
has, its type's keys and every reader's keys; a `[[target]]` takes the keys every target has and
its format's keys (a family's variants, `sage100.shipment`, take the family's). Editors that
know JSON Schema (taplo, VS Code's Even Better TOML) use it to complete and check the file.
"""

from __future__ import annotations

import re
from typing import Any

from gateway import plugins
from gateway.canonical.records import RECORD_TYPES
from gateway.config import DUPLICATE_POLICIES, SIDES, SourceConfig, reader_options
from gateway.findings import STRICTNESS
from gateway.operations import KINDS
from gateway.options import Option, schema

#: The types of the keys every `[[source]]` and `[[target]]` has (`gateway.config` parses them;
#: the defaults come from its dataclasses).
SOURCE_KEYS: dict[str, Any] = {
    "name": {"type": "string"},
    "type": {"enum": plugins.names(plugins.SOURCES)},
    "side": {"enum": list(SIDES)},
    "path": {"type": "string"},
    "settle_seconds": {"type": "number", "exclusiveMinimum": 0},
    "poll_seconds": {"type": "number", "exclusiveMinimum": 0},
    "ignore": {"type": ["string", "array"]},
    "done_suffix": {"type": "string"},
    "encoding": {"type": "string"},
    "format_by_name": {"type": "object", "additionalProperties": {"type": "string"}},
    "duplicates": {"enum": list(DUPLICATE_POLICIES)},
    "strictness": STRICTNESS.schema(),
}
TARGET_KEYS: dict[str, Any] = {
    "name": {"type": "string"},
    "format": {"type": "string"},
    "deliver": {"type": "string", "pattern": "^(" + "|".join(plugins.names(plugins.DELIVERIES)) + "):"},
    "batch_size": {"type": "integer", "minimum": 1},
    "batch_window": {"type": "number", "exclusiveMinimum": 0},
}


#: The operations keys (gateway/operations.py).
OPS_KEYS: dict[str, Any] = {
    "metrics_listen": {"type": "string", "description": "host:port where `gateway run` serves /metrics"},
    "retention_days": {"type": "number", "minimum": 1, "description": "archive and ledger history kept"},
    "alert_delivery_minutes": {"type": "number", "minimum": 0, "default": 15},
    "alert_source_minutes": {"type": "number", "minimum": 0, "default": 15},
    "expect": {"type": "array", "items": {"type": "object", "required": ["source", "by"], "properties": {
        "name": {"type": "string"}, "source": {"type": "string"}, "pattern": {"type": "string"},
        "doc_type": {"enum": sorted(RECORD_TYPES)}, "by": {"type": "string", "description": "cron"},
        "count": {"type": "integer", "minimum": 1}, "grace_minutes": {"type": "number", "minimum": 0},
        "window_minutes": {"type": "number", "minimum": 0}, "timezone": {"type": "string"},
    }}},
    "alert": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "on": {"type": "array", "items": {"enum": list(KINDS)}},
        "command": {"type": "array", "items": {"type": "string"}}, "file": {"type": "string"},
        "webhook": {"type": "string", "pattern": "^https?://"}, "timeout_seconds": {"type": "number"},
    }}},
}  # fmt: skip


def _source_keys() -> dict[str, Any]:
    fields = SourceConfig.__dataclass_fields__
    defaults = {k: f.default for k, f in fields.items() if isinstance(f.default, str | int | float)}
    return {
        key: {**spec, "default": defaults[key]} if key in defaults else spec
        for key, spec in SOURCE_KEYS.items()
    }


def _when(key: str, pattern: str, options: tuple[Option, ...], title: str) -> dict[str, Any]:
    return {"if": {"properties": {key: {"pattern": pattern}}}, "then": schema(options, title)}


def config_schema() -> dict[str, Any]:
    """The JSON Schema of the configuration's plugin-dependent parts."""
    readers = schema(reader_options(), "reader options")
    source_types = [
        _when("type", f"^{re.escape(kind)}$", plugins.source(kind).options, f"source type {kind}")
        for kind in plugins.names(plugins.SOURCES)
    ]
    formats = [
        _when("format", rf"^{re.escape(fmt)}(\.|$)", plugins.target(fmt).options, f"target format {fmt}")
        for fmt in plugins.names(plugins.TARGETS)
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "gateway configuration",
        "type": "object",
        "properties": {
            "schemas_dir": {"type": "string", "description": "site layouts, schemas and value maps"},
            **OPS_KEYS,
            "source": {
                "type": "array",
                "items": {
                    "allOf": [{"properties": {**_source_keys(), **readers["properties"]}}, *source_types]
                },
            },
            "partner": {
                "type": "array",
                "items": {
                    "properties": {
                        "id": {"type": "string", "description": "the sender id (UNB sender, IDoc SNDPRN)"},
                        "strictness": STRICTNESS.schema(),
                    },
                    "required": ["id"],
                    "additionalProperties": False,
                },
            },
            "target": {
                "type": "array",
                "items": {"allOf": [{"properties": TARGET_KEYS, "required": ["name", "format"]}, *formats]},
            },
        },
    }
