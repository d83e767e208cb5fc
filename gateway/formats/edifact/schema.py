"""EDIFACT message structure and element validation, driven by the data in `schemas/edifact/`.

A directory file (`segments_D96A.json`) defines each segment's elements: simple elements as
`[id, format, status]`, composites as `[id, status, [components]]`. A message file
(`ORDERS_D96A.json`) gives the segment table: segments `[tag, status, max]` and groups
`[name, status, max, [children]]` whose first child is the trigger segment, plus the code lists
the mappings rely on. A message file may borrow another's table (`structure_from`) and a
directory may `extend` another, which is how EANCOM 2002 (D01B) states only where it differs.

Element checks are cached per distinct segment text: real interchanges repeat the same segments
(`QTY+21:8`, `UNS+S`) thousands of times, and a segment's validity depends only on its text and
the service characters. The texts not seen before are first matched, all of a message's at once,
against a pattern compiled from the same definitions (`edifact_fastpath`); only when that fails
does each go through the detailed check, which locates the problems. The segment-table walk
(groups, order, status, repetitions) is `edifact_structure`, checked once per message shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import filterfalse
from typing import Any

from gateway import resources
from gateway.findings import Code, Report
from gateway.formats.edifact.envelope import Message
from gateway.formats.edifact.fastpath import NEVER, Chars, optional
from gateway.formats.edifact.structure import GroupNode, Node, SegmentNode, check_structure, tags
from gateway.formats.edifact.syntax import Delimiters, Element, Segment

_FORMAT = re.compile(r"(an|a|n)(\.\.)?([0-9]+)")
_NUMERIC = re.compile(r"-?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")
_CACHE_LIMIT = 50_000


@dataclass(frozen=True)
class Simple:
    """A simple data element: id, representation (`an..35`), mandatory, allowed codes."""

    id: str
    format: str
    kind: str
    max: int
    fixed: bool
    mandatory: bool
    codes: frozenset[str] | None = None

    def problem(self, value: str) -> tuple[Code, str] | None:
        """(code, message) when `value` breaks the representation or the code list."""
        if self.kind == "n":
            if not _NUMERIC.fullmatch(value):
                return Code.NOT_NUMERIC, "is not numeric"
            digits = sum(c.isdigit() for c in value)
        else:
            digits = len(value)
            if self.kind == "a" and any(c.isdigit() for c in value):
                return Code.NOT_ALPHABETIC, "is not alphabetic"
        if digits > self.max:
            unit = "digits" if self.kind == "n" else "characters"
            return Code.TOO_LONG, f"is longer than {self.max} {unit}"
        if self.fixed and digits != self.max:
            return Code.WRONG_LENGTH, f"must be exactly {self.max} characters"
        if self.codes is not None and value not in self.codes:
            return Code.UNKNOWN_CODE, "is not in the code list"
        return None

    def pattern(self, chars: Chars, present: bool) -> str:
        """The values `problem` accepts, as a pattern (edifact_fastpath): only non-empty ones
        when `present`, else the empty value as well."""
        low = self.max if self.fixed else 1
        if not 1 <= low <= self.max:
            return NEVER if present else ""  # no length a value could have is accepted
        if self.codes is not None:
            return chars.codes([code for code in self.codes if self.problem(code) is None], present)
        if self.fixed and not present:
            return optional(self.pattern(chars, True))
        low = low if present else 0
        if self.kind == "n":
            return chars.numeric(low, self.max)
        if self.kind == "a":
            return chars.alphabetic(low, self.max)
        return chars.text(low, self.max)


@dataclass(frozen=True)
class Composite:
    """A composite data element and its components."""

    id: str
    mandatory: bool
    components: tuple[Simple, ...]

    def pattern(self, chars: Chars) -> str:
        """The texts of this composite the detailed check accepts, empty ones included when
        it is optional (edifact_fastpath)."""
        parts = [(c.pattern(chars, True), c.pattern(chars, False), c.mandatory) for c in self.components]
        return chars.composite(parts, self.mandatory)


Problem = tuple[Code, str, int, int | None, str, str]  # code, message, element, component, value, rule
Dialect = tuple[Delimiters, str | None]  # service characters and syntax 4 repetition separator


@dataclass
class Learnt:
    """What a schema has learnt under one set of service characters: segment texts found good
    and found bad, and its fast-path patterns (by whether they take released characters)."""

    good: set[str] = field(default_factory=set)
    bad: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
    patterns: dict[bool, re.Pattern[str] | None] = field(default_factory=dict)


def _simple(raw: list[Any], codes: dict[str, frozenset[str]]) -> Simple:
    ident, fmt, status = raw
    match = _FORMAT.fullmatch(fmt)
    if match is None:
        raise ValueError(f"bad element format {fmt!r} for {ident}")
    kind, variable, size = match.groups()
    return Simple(ident, fmt, kind, int(size), not variable, status == "M", codes.get(ident))


def _element(raw: list[Any], codes: dict[str, frozenset[str]]) -> Simple | Composite:
    if isinstance(raw[2], list):
        return Composite(raw[0], raw[1] == "M", tuple(_simple(c, codes) for c in raw[2]))
    return _simple(raw, codes)


def _node(raw: list[Any]) -> Node:
    if len(raw) == 4:
        return GroupNode(raw[0], raw[1] == "M", int(raw[2]), tuple(_node(c) for c in raw[3]))
    return SegmentNode(raw[0], raw[1] == "M", int(raw[2]))


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.path("edifact", f"{name}.json").read_text(encoding="utf-8"))
    return data


@resources.cached
def directory(name: str) -> dict[str, list[Any]]:
    """The raw segment definitions of a directory, with `extends` resolved."""
    data = _load(f"segments_{name}")
    base = dict(directory(data.pop("extends"))) if "extends" in data else {}
    base.update(data)
    return base


class MessageSchema:
    """The schema of one message type in one directory, e.g. `ORDERS_D96A`."""

    def __init__(self, name: str) -> None:
        self.name = name
        data = _load(name)
        table = _load(data["structure_from"]) if "structure_from" in data else data
        codes = {k: frozenset(v) for k, v in {**table.get("codes", {}), **data.get("codes", {})}.items()}
        self.segments: dict[str, tuple[Simple | Composite, ...]] = {
            tag: tuple(_element(e, codes) for e in elements)
            for tag, elements in directory(data["directory"]).items()
        }
        self.structure = tuple(_node(n) for n in table["structure"])
        self.learnt: dict[Dialect, Learnt] = {}
        self.shapes: dict[str, tuple[tuple[Code, str, dict[str, Any]], ...]] = {}

    def forget(self) -> None:
        """Drop what was learnt about segment texts and message shapes; patterns stay compiled."""
        for learnt in self.learnt.values():
            learnt.good.clear()
            learnt.bad.clear()
        self.shapes.clear()

    def check(self, message: Message, report: Report) -> None:
        """Report every structure and element problem of `message`."""
        self._structure(message, report)
        # The same text means the same elements only under the same service characters, and
        # those are the scanner's: the ones `message.parse` splits with.
        scanner = message.scanner
        dialect = (scanner.delimiters, scanner.repetition)
        learnt = self._learnt(dialect)
        good, bad = learnt.good, learnt.bad
        if len(good) > _CACHE_LIMIT:
            good.clear()
        if len(bad) > _CACHE_LIMIT:
            bad.clear()
        # The envelope checks UNH and UNT; each is unique, so never cache them.
        raws = message.raws[1:-1] if message.tags[-1] == "UNT" else message.raws[1:]
        unseen = list(filterfalse(good.__contains__, raws))
        if not unseen:
            return
        joined = scanner.delimiters.terminator.join(unseen)
        fast = self.pattern(dialect, scanner.delimiters.release in joined)
        if fast is not None and fast.fullmatch(joined):
            good.update(unseen)
            return
        flagged: dict[str, tuple[Problem, ...]] = {}
        for raw in unseen:
            problems = bad.get(raw)
            if problems is None:
                if fast is not None and fast.fullmatch(raw):
                    good.add(raw)
                    continue
                problems = self.problems(message.parse(raw, 0))
                if not problems:
                    good.add(raw)
                    continue
                bad[raw] = problems
            flagged[raw] = problems
        if not flagged:
            return
        for i, raw in enumerate(message.raws):
            for code, text, element, component, value, rule in flagged.get(raw, ()):
                where: dict[str, Any] = {
                    "segment": message.tags[i],
                    "segment_index": message.start + i,
                    "element": element,
                }
                if component is not None:
                    where["component"] = component
                report(code, text, value=value or None, rule=rule, **where)

    def problems(self, seg: Segment) -> tuple[Problem, ...]:
        """The detailed element check of one segment: every problem, located."""
        return tuple(self._elements(seg))

    def pattern(self, dialect: Dialect, released: bool) -> re.Pattern[str] | None:
        """A pattern accepting any run of this directory's segments (joined by the terminator)
        that `problems` finds nothing wrong with, under `dialect`; one that also takes released
        characters when `released`. None when the service characters rule the fast path out."""
        patterns = self._learnt(dialect).patterns
        if released not in patterns:
            patterns[released] = self._compile(dialect, released)
        return patterns[released]

    def _learnt(self, dialect: Dialect) -> Learnt:
        learnt = self.learnt.get(dialect)
        if learnt is None:
            learnt = self.learnt[dialect] = Learnt()
        return learnt

    def _compile(self, dialect: Dialect, released: bool) -> re.Pattern[str] | None:
        chars = Chars.of(*dialect, released)
        if chars is None:
            return None
        elements: dict[str, list[tuple[str, bool]]] = {}
        # Only the message's own segments: any other is a structure finding anyway, and leaving
        # it out keeps the pattern small (it is compiled in Python, about 3 µs a character).
        for tag in tags(self.structure).difference(("UNH", "UNT")).intersection(self.segments):
            specs = self.segments[tag]
            parts = elements[tag] = []
            for spec in specs:
                if isinstance(spec, Composite):
                    parts.append((spec.pattern(chars), spec.mandatory))
                else:
                    parts.append((spec.pattern(chars, spec.mandatory), spec.mandatory))
        return chars.segments(elements)

    def _rule(self, tag: str, spec: Simple | Composite) -> str:
        fmt = f" {spec.format}" if isinstance(spec, Simple) else ""
        return f"schema edifact/{self.name}, {tag} {spec.id}{fmt}"

    def _elements(self, seg: Segment) -> Iterator[Problem]:
        specs = self.segments.get(seg.tag)
        if specs is None or seg.tag in ("UNH", "UNT"):
            return
        values: list[list[Element]] = [[v] for v in seg.elements]
        for i, extra in (seg.repeats or {}).items():
            values[i].extend(extra)
        if len(values) > len(specs):
            yield (
                Code.TOO_MANY_ELEMENTS,
                f"has {len(values)} elements, the segment has {len(specs)}",
                len(specs) + 1,
                None,
                "",
                f"schema edifact/{self.name}, {seg.tag}",
            )
        for n, spec in enumerate(specs):
            for value in values[n] if n < len(values) else [""]:
                yield from self._value(seg.tag, spec, n + 1, value)

    def _value(self, tag: str, spec: Simple | Composite, position: int, value: Element) -> Iterator[Problem]:
        if isinstance(spec, Simple):
            if isinstance(value, list):
                yield (
                    Code.UNEXPECTED_COMPONENT,
                    "is a simple element but has components",
                    position,
                    2,
                    value[1],
                    self._rule(tag, spec),
                )
                value = value[0]
            if not value:
                if spec.mandatory:
                    yield (
                        Code.MISSING_ELEMENT,
                        "mandatory element is missing",
                        position,
                        None,
                        "",
                        self._rule(tag, spec),
                    )
                return
            found = spec.problem(value)
            if found:
                yield found[0], found[1], position, None, value, self._rule(tag, spec)
            return
        parts = [value] if isinstance(value, str) else value
        if not any(parts):
            if spec.mandatory:
                rule = self._rule(tag, spec)
                yield Code.MISSING_ELEMENT, "mandatory composite is missing", position, None, "", rule
            return
        if len(parts) > len(spec.components):
            yield (
                Code.TOO_MANY_COMPONENTS,
                f"has {len(parts)} components, {spec.id} has {len(spec.components)}",
                position,
                len(spec.components) + 1,
                parts[len(spec.components)],
                self._rule(tag, spec),
            )
        for c, component in enumerate(spec.components):
            part = parts[c] if c < len(parts) else ""
            if not part:
                if component.mandatory:
                    yield (
                        Code.MISSING_COMPONENT,
                        "mandatory component is missing",
                        position,
                        c + 1,
                        "",
                        self._rule(tag, component),
                    )
                continue
            found = component.problem(part)
            if found:
                yield found[0], found[1], position, c + 1, part, self._rule(tag, component)

    def _structure(self, message: Message, report: Report) -> None:
        # Messages repeat their shape (same tags in the same order): check each shape once.
        shape = "".join(message.tags)
        found = self.shapes.get(shape)
        if found is None:
            if len(self.shapes) > 10_000:
                self.shapes.clear()
            segments = message.segments
            base = message.start
            collected: list[tuple[Code, str, dict[str, Any]]] = []

            def collect(code: Code, message: str, **kw: Any) -> None:
                collected.append((code, message, {**kw, "segment_index": kw["segment_index"] - base}))

            check_structure(self.structure, self.segments, segments, collect, self.name)
            found = self.shapes[shape] = tuple(collected)
        start = message.start
        for code, text, kw in found:
            report(code, text, **{**kw, "segment_index": kw["segment_index"] + start})


@resources.cached
def schema_for(name: str) -> MessageSchema | None:
    """The schema called `name` (`ORDERS_D96A`), or None when none is shipped."""
    if not resources.path("edifact", f"{name}.json").is_file():
        return None
    return MessageSchema(name)
