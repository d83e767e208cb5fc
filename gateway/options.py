"""What a plugin declares about its settings: type, default, allowed values and one line of help.

Readers declare the keys they read from a `[[source]]`, sources their transport's keys, targets
the keys of their `[[target]]`. The configuration checks every declared option the same way and
reports every problem at once under its key; `gateway config schema` prints the declarations as
a JSON Schema. What a type cannot say (a file name pattern must hold `{file_id}`) stays in the
plugin's own `check`.

A small declaration of our own rather than a model library: the options are flat tables of
scalars, and this keeps start-up free of a heavy import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Each TOML value type, as the JSON Schema names it and as a problem message says it.
KINDS: dict[type, tuple[str, str]] = {
    str: ("string", "a string"),
    int: ("integer", "a whole number"),
    float: ("number", "a number"),
    bool: ("boolean", "true or false"),
    list: ("array", "a list"),
    dict: ("object", "a table"),
}


def _is(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


@dataclass(frozen=True)
class Option:
    """One setting a plugin reads: its key, accepted types, default and allowed values."""

    name: str
    kinds: tuple[type, ...]
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    #: A rule a value of the right type must also keep: the problem, or None.
    rule: Callable[[Any], str | None] | None = None

    def problem(self, value: Any) -> str | None:
        """What is wrong with `value` for this option, or None."""
        if not any(_is(value, kind) for kind in self.kinds):
            return "expected " + " or ".join(KINDS[kind][1] for kind in self.kinds) + f", got {value!r}"
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(dict.fromkeys(map(str, self.choices)))}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            if self.minimum is not None and value < self.minimum:
                return f"must be at least {self.minimum:g}"
            if self.maximum is not None and value > self.maximum:
                return f"must be at most {self.maximum:g}"
        return self.rule(value) if self.rule else None

    def schema(self) -> dict[str, Any]:
        """This option as a JSON Schema property."""
        names = [KINDS[kind][0] for kind in self.kinds]
        out: dict[str, Any] = {"type": names[0] if len(names) == 1 else names, "description": self.help}
        if self.default is not None:
            out["default"] = self.default
        if self.choices:
            out["enum"] = list(self.choices)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out


def text(
    name: str,
    default: str | None,
    help_text: str,
    *choices: str,
    rule: Callable[[Any], str | None] | None = None,
) -> Option:
    """A string option, optionally one of `choices` or kept to `rule`."""
    return Option(name, (str,), default, help_text, choices, rule=rule)


def flag(name: str, default: bool, help_text: str) -> Option:
    """A true/false option."""
    return Option(name, (bool,), default, help_text)


def count(
    name: str, default: int | None, help_text: str, minimum: int = 1, maximum: int | None = None
) -> Option:
    """A whole-number option, at least `minimum`."""
    return Option(name, (int,), default, help_text, minimum=minimum, maximum=maximum)


def problems(values: Mapping[str, Any], declared: Iterable[Option]) -> tuple[list[str], dict[str, Any]]:
    """(every problem of `values` as `key: problem`, the values that have none).

    Unknown keys and declared keys of the wrong type or value are problems. A plugin's own
    rules then run over the values that passed, so they never see a value of the wrong type
    and one bad key does not hide the problems of the others.
    """
    options = {option.name: option for option in declared}
    found = [f"{key}: unknown option" for key in sorted(set(values) - set(options))]
    valid: dict[str, Any] = {}
    for key, option in options.items():
        if key not in values:
            continue
        problem = option.problem(values[key])
        if problem:
            found.append(f"{key}: {problem}")
        else:
            valid[key] = values[key]
    return found, valid


def value(values: Mapping[str, Any], option: Option) -> Any:
    """The configured value of `option`, or its default (values are checked at start-up)."""
    return values.get(option.name, option.default)


def schema(declared: Iterable[Option], title: str) -> dict[str, Any]:
    """A JSON Schema object with one property per option."""
    return {
        "title": title,
        "type": "object",
        "properties": {option.name: option.schema() for option in declared},
    }
