"""Apply an XML layout's mapping both ways: element → canonical dict, and canonical dict → element.

Reading evaluates each field's compiled XPath on the document element, converts the text (dates,
decimals, booleans, code tables) and reports every value it cannot convert as a finding with
the line and XPath of the node it came from. Writing walks the same simple paths, creating
elements and attributes in mapping order, and inverts the code tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

# lxml is imported by the functions that parse or write XML: detection imports every reader's
# module, and a file that is not XML must not pay for lxml.
if TYPE_CHECKING:
    from lxml import etree

from gateway.canonical.gtin import gtin_problem
from gateway.canonical.shapes import RecordData
from gateway.errors import Finding
from gateway.findings import Code
from gateway.formats.xml.layout import FieldMap, Step, XmlLayout

_INDEX = re.compile(r"^(\w+)\[(\d*)\]$")
TRUE = {"true", "1", "yes", "y"}
FALSE = {"false", "0", "no", "n"}

PathOf = Callable[[Any], str]
"""Gives the readable XPath of a node (the caller knows where the document element really is)."""


def convert(fm: FieldMap, text: str) -> tuple[Any, str | None]:
    """The canonical value of `text` for field `fm`, or (None, why it is not acceptable)."""
    value: Any = text
    if fm.type == "string" and not fm.table:
        return value, None
    try:
        if fm.type == "decimal":
            if not Decimal(text).is_finite():
                return None, "is not a finite decimal number"
        elif fm.type == "date":
            value = _date(text, fm.formats)
        elif fm.type == "datetime":
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        elif fm.type == "gtin":
            problem = gtin_problem(text)
            if problem is not None:
                return None, problem
        elif fm.type == "bool":
            if text.lower() not in TRUE | FALSE:
                return None, "is not a boolean (true/false, 1/0, yes/no)"
            value = text.lower() in TRUE
    except (InvalidOperation, ValueError):
        return None, f"is not a valid {fm.type}"
    if fm.table:
        if str(value) not in fm.table:
            return None, f"is not in the code table ({', '.join(sorted(fm.table))})"
        value = fm.table[str(value)]
    return value, None


def _date(text: str, formats: tuple[str, ...]) -> str:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    if len(text) >= 10 and (len(text) == 10 or text[10] in "T "):
        return date.fromisoformat(text[:10]).isoformat()
    raise ValueError(text)


def unconvert(fm: FieldMap, value: Any) -> str:
    """The XML text of a canonical value: code tables inverted, booleans spelled out."""
    if fm.table:
        for code, canonical in fm.table.items():
            if canonical == value:
                return code
    if isinstance(value, bool):
        return "true" if value else "false"
    if fm.type == "date" and isinstance(value, str) and len(value) > 10 and value[10] in "T ":
        return value[:10]  # a date-time written where the layout holds a date keeps its day
    return str(value)


def _matches(result: Any) -> list[tuple[str, Any]]:
    """(text, node) pairs of an XPath result; node is None for computed values."""
    from lxml import etree

    if not result:
        return []
    items = result if isinstance(result, list) else [result]
    found: list[tuple[str, Any]] = []
    for item in items:
        if isinstance(item, etree._Element):
            text, node = (item.text or "").strip(), item
        elif isinstance(item, bool | float):
            text, node = ("" if item is False else str(item)), None
        else:
            text = str(item).strip()
            node = item.getparent() if hasattr(item, "getparent") else None
        if text:
            found.append((text, node))
    return found


def put(target: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at a canonical path (`a.b`, `a[]` appends, `a[2]` sets one item)."""
    if "." not in path and "[" not in path:
        target[path] = value
        return
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    indexed = _INDEX.match(last)
    if indexed is None:
        target[last] = value
        return
    items = target.setdefault(indexed.group(1), [])
    if indexed.group(2) == "":
        items.append(value)
        return
    at = int(indexed.group(2))
    items.extend([None] * (at + 1 - len(items)))
    items[at] = value


def pick(source: dict[str, Any], path: str) -> list[Any]:
    """The values at a canonical path: every item for `a[]`, one for `a[2]`, else the value."""
    current: Any = source
    *parents, last = path.split(".")
    for part in parents:
        current = current.get(part) if isinstance(current, dict) else None
        if current is None:
            return []
    if not isinstance(current, dict):
        return []
    indexed = _INDEX.match(last)
    if indexed is None:
        value = current.get(last)
        return [] if value is None or value in ("", []) else [value]
    items = current.get(indexed.group(1)) or []
    if indexed.group(2) == "":
        return [v for v in items if v not in (None, "")]
    at = int(indexed.group(2))
    return [items[at]] if at < len(items) and items[at] not in (None, "") else []


def _compact(data: dict[str, Any]) -> None:
    """Drop the holes `a[2]` without `a[1]` leaves in lists."""
    for key, value in data.items():
        if isinstance(value, list):
            data[key] = [v for v in value if v is not None]
        elif isinstance(value, dict):
            _compact(value)


def read_fields(
    fields: tuple[FieldMap, ...], element: Any, path_of: PathOf, rule: str
) -> tuple[dict[str, Any], list[Finding]]:
    """Evaluate every field on `element`; return the canonical dict and the findings."""
    from lxml import etree

    data: dict[str, Any] = {}
    findings: list[Finding] = []
    for fm in fields:
        if fm.to.startswith(("_", "^")):
            continue
        try:
            if fm.text is not None:
                text = str(fm.text(element)).strip()
                matches = [(text, None)] if text else []
            else:
                matches = _matches(fm.compiled(element))
        except etree.XPathEvalError as exc:
            findings.append(Finding(Code.XPATH_FAILED, f"{fm.xpath}: {exc}", {"xpath": path_of(element)},
                                    rule=f"{rule}: {fm.rule}"))  # fmt: skip
            continue
        if not matches:
            if fm.default is not None:
                put(data, fm.to, convert(fm, fm.default)[0])
            elif fm.required:
                findings.append(Finding(
                    Code.MISSING, f"{fm.to} is required ({fm.xpath} is absent or empty)",
                    {"line": element.sourceline, "xpath": path_of(element)}, rule=f"{rule}: {fm.rule}",
                ))  # fmt: skip
            continue
        for text, node in matches if fm.to.endswith("[]") else matches[:1]:
            value, problem = convert(fm, text)
            if problem is None and fm.per is not None:
                value, problem = _per_unit(fm.per, element, value, data)
            if problem is not None:
                where = node
                if where is None and fm.text is not None:  # locate the node only for the finding
                    where = next((n for _, n in _matches(fm.compiled(element))), None)
                where = where if where is not None else element
                code = Code.BAD_CHECK_DIGIT if fm.type == "gtin" else Code.INVALID_VALUE
                findings.append(Finding(
                    code, problem, {"line": where.sourceline, "xpath": path_of(where)},
                    value=text, rule=f"{rule}: {fm.rule}",
                ))  # fmt: skip
                continue
            put(data, fm.to, value)
    if _has_indexed(fields):
        _compact(data)
    return data, findings


def _per_unit(per: etree.XPath, element: Any, value: str, data: dict[str, Any]) -> tuple[Any, str | None]:
    """The price of one unit from a price given for `per` units; the basis is kept beside it."""
    basis = str(per(element)).strip()
    if not basis:
        return value, None
    try:
        units = Decimal(basis)
    except InvalidOperation:
        units = Decimal(0)
    if not units.is_finite() or units <= 0:
        return None, f"is a price for {basis!r} units, which is not a positive number"
    if units != 1:
        put(data, "extensions.price_basis", basis)
        value = format(Decimal(value) / units, "f")
    return value, None


_INDEXED: dict[int, bool] = {}


def _has_indexed(fields: tuple[FieldMap, ...]) -> bool:
    """Whether any field sets one item of a list (`a[1]`), leaving holes to drop; asked per
    document, so remembered per layout's field tuple (layouts live as long as the process)."""
    known = _INDEXED.get(id(fields))
    if known is None:
        known = _INDEXED[id(fields)] = any(
            _INDEX.match(part) is not None and not part.endswith("[]")
            for f in fields
            for part in f.to.split(".")
        )
    return known


def read_document(layout: XmlLayout, element: Any, path_of: PathOf) -> tuple[RecordData, list[Finding]]:
    """The canonical dict of one document element (without `source`), and its findings."""
    data, findings = read_fields(layout.fields, element, path_of, layout.name)
    for group in layout.groups:
        items = []
        found = group.compiled(element)
        for item in found if isinstance(found, list) else []:
            values, problems = read_fields(group.fields, item, path_of, f"{layout.name} {group.to}")
            findings.extend(problems)
            items.append(values)
        if items:
            put(data, group.to, items)
    data["doc_type"] = layout.doc_type
    # The layout's paths were checked against the canonical names when it was loaded.
    return cast("RecordData", data), findings


def _child(parent: Any, step: Step) -> Any:
    """The first child of `parent` matching `step`, or None."""
    for child in parent.iterchildren(step.name):
        if step.where is None or child.get(step.where[0]) == step.where[1]:
            return child
    return None


def _ensure(parent: Any, steps: tuple[Step, ...]) -> Any:
    """The element at `steps` under `parent`, created where missing."""
    for step in steps:
        found = _child(parent, step)
        parent = found if found is not None else _new(parent, step)
    return parent


def _find(parent: Any, steps: tuple[Step, ...]) -> Any:
    """The element at `steps` under `parent`, or None."""
    for step in steps:
        parent = _child(parent, step)
        if parent is None:
            return None
    return parent


def _new(parent: Any, step: Step) -> Any:
    from lxml import etree

    child = etree.SubElement(parent, step.name)
    if step.where is not None:
        child.set(step.where[0], step.where[1])
    return child


def write_fields(
    fields: tuple[FieldMap, ...], element: Any, data: dict[str, Any], document: dict[str, Any] | None = None
) -> None:
    """Write each writable field of `data` under `element`, in mapping order.

    A group's field named `^name` takes the document's `name` and only decorates what the item
    wrote (a line's price carries the order's currency): it never creates an element.
    """
    for fm in fields:
        if fm.steps is None:
            continue
        if fm.const is not None:
            values = [fm.const]
        elif fm.to.startswith("^"):
            values = pick(document or {}, fm.to[1:])
        else:
            values = pick(data, fm.to)
        if not values or (fm.to.startswith("_") and fm.const is None):
            continue
        *parents, last = fm.steps or (Step(""),)
        decorated = tuple(parents) if last.attribute else (*parents, last)
        if fm.to.startswith("^") and _find(element, decorated) is None:
            continue
        repeat = fm.to.endswith("[]")
        for value in values if repeat else values[:1]:
            text = unconvert(fm, value)
            if last.attribute:
                _ensure(element, tuple(parents)).set(last.name, text)
            elif not last.name:
                element.text = text
            else:
                holder = _ensure(element, tuple(parents))
                node = _new(holder, last) if repeat else _ensure(holder, (last,))
                node.text = text


def write_document(
    layout: XmlLayout, data: dict[str, Any], nsmap: dict[str | None, str] | None = None
) -> Any:
    """Build the document element of `data` (a canonical dict) through the layout's mapping."""
    from lxml import etree

    tag = layout.document or layout.root
    namespaces = nsmap if nsmap is not None else layout.write_nsmap()
    element = etree.Element(tag, nsmap=cast("dict[str, str]", namespaces))  # lxml takes None: default
    write_fields(layout.fields, element, data)
    for group in layout.groups:
        if not group.steps:
            continue
        shared, own = group.steps[: group.shared], group.steps[group.shared :]
        for item in data.get(group.to) or []:
            child = _ensure(element, shared)
            for step in own:
                child = _new(child, step)
            write_fields(group.fields, child, item, data)
    return element


def node_path(node: Any, base: Any = None, base_path: str = "") -> str:
    """A readable XPath of `node` (`/cXML/Request/OrderRequest/ItemOut[2]/ItemID`).

    With `base` (a document element whose earlier siblings were cleared while streaming) the
    path is taken from `base_path`, which names the element's real position.
    """
    from lxml import etree

    steps: list[str] = []
    current = node
    while current is not None and isinstance(current, etree._Element):
        if base is not None and current is base:
            return base_path + ("/" + "/".join(reversed(steps)) if steps else "")
        steps.append(_step_of(current))
        current = current.getparent()
    return "/" + "/".join(reversed(steps))


def _step_of(element: Any) -> str:
    from lxml import etree

    qname = etree.QName(element)
    name = f"{element.prefix}:{qname.localname}" if element.prefix else qname.localname
    parent = element.getparent()
    if parent is None:
        return name
    same = [c for c in parent.iterchildren(element.tag)]
    return f"{name}[{same.index(element) + 1}]" if len(same) > 1 else name
