"""Build typed canonical records from plain dicts.

Mappings (CSV columns, EDIFACT segments, IDoc fields, XPath layouts) produce nested dicts with
canonical names (typed by `shapes`, or checked when a layout is loaded); this module turns them
into the typed classes of `records`. A partner's field the canonical model has no name for yet
travels under an explicit `extensions` key; any other unknown key is a bug in a mapping and
raises, rather than being filed away where nobody looks.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from gateway.canonical.records import RECORD_TYPES, Record
from gateway.canonical.shapes import RecordData

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
    return {name: _converter(hint) for name, hint in _hints(cls).items()}


@functools.cache
def _flat(cls: type[Any]) -> bool:
    """Whether no field of `cls` nests a dataclass (a line of text values, say)."""
    return all(convert is None for convert in _plan(cls).values())  # type: ignore[arg-type]


def build(cls: type[T], data: Mapping[str, Any]) -> T:
    """Instantiate dataclass `cls` from `data`, nesting where the field types say so."""
    if _flat(cls) and "doc_type" not in data:  # type: ignore[arg-type]
        # Most of a large file's objects are its lines: the constructor alone takes them, and
        # only a key it does not know needs the loop below (for the message).
        try:
            return cls(**data)
        except TypeError:
            pass
    plan = _plan(cls)  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in data.items():
        if key in plan:
            convert = plan[key]
            kwargs[key] = convert(value) if convert is not None and value is not None else value
        elif key != "doc_type":
            unknown.append(key)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    return cls(**kwargs)


_INDEX = re.compile(r"\[\d*\]$")


def element_type(cls: type[Any], name: str) -> type[Any] | None:
    """The dataclass a field of `cls` holds (itself, or the items of its list); None for a value
    such as a string, or a field `cls` does not have."""
    hint = _hints(cls).get(name)
    if typing.get_origin(hint) is list:
        (hint,) = typing.get_args(hint)
    return _dataclass_in(hint)


def path_problem(cls: type[Any], path: str) -> str | None:
    """Why `path` names no field of dataclass `cls`, or None when it does.

    Paths are what data-driven layouts write: `ship_to.city`, `tracking_numbers[]`,
    `ship_to.address_lines[1]`, `packages[].sscc`, and in target layouts `address_lines.0`.
    Anything under `extensions` is allowed: that is where a partner's field without a canonical
    name goes, on purpose.
    """
    current: type[Any] | None = cls
    done = ""
    listed = False
    for step in path.split("."):
        if listed and step.isdigit():  # an element of the list just named
            listed = False
            continue
        name = _INDEX.sub("", step)
        if current is None:
            return f"{done} holds a value, not fields"
        hints = _hints(current)
        if name not in hints:
            return f"{name!r} is not a canonical field of {current.__name__}"
        if name == "extensions":
            return None
        listed = typing.get_origin(hints[name]) is list
        current, done = element_type(current, name), f"{done}.{name}".lstrip(".")
    return None


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """The dataclass's fields and their types (class variables such as `doc_type` left out);
    once per class, as evaluating the annotations costs a millisecond a class."""
    found = _HINTS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _HINTS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    return found


def record_from_dict(data: RecordData) -> Record:
    """Build the record named by `data["doc_type"]`."""
    return build(RECORD_TYPES[data["doc_type"]], data)
