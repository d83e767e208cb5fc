"""Build typed canonical records from plain dicts.

Mappings (CSV columns, EDIFACT segments, IDoc fields, XPath layouts) produce nested dicts with
canonical names; this module turns them into the typed classes of `records`. A key that no
canonical name covers is kept under `extensions` rather than dropped, so a mapping can carry a
partner's extra field through before the canonical model has a name for it.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar

from gateway.canonical.records import RECORD_TYPES, Record

T = TypeVar("T")


@functools.cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _dataclass_in(hint: Any) -> type[Any] | None:
    """The dataclass inside `X | None`, if that is what the hint is."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            found = _dataclass_in(arg)
            if found is not None:
                return found
    return None


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        inner = _dataclass_in(item)
        if inner is not None:
            return [build(inner, v) if isinstance(v, dict) else v for v in value]
        return list(value)
    inner = _dataclass_in(hint)
    if inner is not None and isinstance(value, dict):
        return build(inner, value)
    return value


def build(cls: type[T], data: dict[str, Any]) -> T:
    """Instantiate dataclass `cls` from `data`, nesting where the field types say so."""
    hints = _hints(cls)  # type: ignore[arg-type]
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key == "doc_type":
            continue
        if key in names:
            kwargs[key] = _convert(hints[key], value)
        else:
            extra[key] = value
    if extra:
        if "extensions" not in names:
            unknown = ", ".join(sorted(extra))
            raise TypeError(f"{cls.__name__} has no field(s) {unknown}")
        kwargs["extensions"] = {**kwargs.get("extensions", {}), **extra}
    return cls(**kwargs)


def record_from_dict(data: dict[str, Any]) -> Record:
    """Build the record named by `data["doc_type"]`."""
    return build(RECORD_TYPES[data["doc_type"]], data)
