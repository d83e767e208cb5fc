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
from collections.abc import Callable
from typing import Any, TypeVar

from gateway.canonical.records import RECORD_TYPES, Record

T = TypeVar("T")


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


Converter = Callable[[Any], Any]


def _converter(hint: Any) -> Converter | None:
    """How to turn a plain value into the field's type; None when it is used as it is."""
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        element = _dataclass_in(item)
        if element is None:
            return list
        return lambda value: [build(element, v) if isinstance(v, dict) else v for v in value]
    inner = _dataclass_in(hint)
    if inner is None:
        return None
    return lambda value: build(inner, value) if isinstance(value, dict) else value


@functools.cache
def _plan(cls: type[Any]) -> dict[str, Converter | None]:
    """Per dataclass, once: its field names and their converters."""
    hints = typing.get_type_hints(cls)
    return {f.name: _converter(hints[f.name]) for f in dataclasses.fields(cls)}


def build(cls: type[T], data: dict[str, Any]) -> T:
    """Instantiate dataclass `cls` from `data`, nesting where the field types say so."""
    plan = _plan(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key in plan:
            convert = plan[key]
            kwargs[key] = convert(value) if convert is not None and value is not None else value
        elif key != "doc_type":
            extra[key] = value
    if extra:
        if "extensions" not in plan:
            unknown = ", ".join(sorted(extra))
            raise TypeError(f"{cls.__name__} has no field(s) {unknown}")
        kwargs["extensions"] = {**kwargs.get("extensions", {}), **extra}
    return cls(**kwargs)


def record_from_dict(data: dict[str, Any]) -> Record:
    """Build the record named by `data["doc_type"]`."""
    return build(RECORD_TYPES[data["doc_type"]], data)
