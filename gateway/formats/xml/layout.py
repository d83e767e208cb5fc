"""XML layouts as data: `schemas/xml/<layout>/layout.toml` plus the XSD beside it.

A layout names the root element (and namespace) it recognises, the element that is one document
(the root, or an element repeated under it, which is what lets a catalogue stream), and maps
XPath expressions to canonical paths, with value conversions. The same mapping writes XML: each
simple path (`cac:Party/cbc:Name`, `cbc:Quantity/@unitCode`) is also a recipe for building the
element. See `schemas/xml/README.md` for the file format a customer copies to add their own.

Canonical paths (`to`): `order_number`, `ship_to.city`, `tracking_numbers[]` (every match, a
list), `ship_to.address_lines[1]` (one item of a list). Groups (`[[group]]`) repeat: lines,
packages, ship-to addresses.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

# lxml is imported by the functions that parse or write XML: detection imports every reader's
# module, and a file that is not XML must not pay for lxml.
if TYPE_CHECKING:
    from lxml import etree

from gateway import resources
from gateway.canonical.build import element_type, path_problem
from gateway.canonical.records import RECORD_TYPES, Record
from gateway.formats.xml.order import SchemaOrder
from gateway.formats.xml.safe import safe_parser

TYPES = ("string", "decimal", "date", "datetime", "bool", "gtin")
_STEP = re.compile(r"^(@)?(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)(?:\[@([\w:.-]+)='([^']*)'\])?$")
_TARGET = re.compile(r"^[a-z_][a-z0-9_]*(\[\d*\])?(\.[a-z_][a-z0-9_]*(\[\d*\])?)*$")


class LayoutError(Exception):
    """A layout file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Step:
    """One step of a writable path: an element (optionally with a fixed attribute) or an attribute."""

    name: str  # Clark notation, `{ns}local`
    attribute: bool = False
    where: tuple[str, str] | None = None  # (attribute name, value) the element must carry


@dataclass(frozen=True)
class FieldMap:
    """One canonical value and the XPath it is read from (and, if simple, written to)."""

    to: str
    xpath: str
    compiled: etree.XPath
    steps: tuple[Step, ...] | None
    type: str = "string"
    required: bool = False
    const: str | None = None
    default: str | None = None
    table: dict[str, str] = field(default_factory=dict)
    formats: tuple[str, ...] = ()
    #: For a single value: the same path as `string(...)`, which spares building node objects.
    text: etree.XPath | None = None
    #: For a price: `string(...)` of the quantity it is given for (UBL BaseQuantity, cXML
    #: PriceBasisQuantity); the value read is divided by it, so a price per 100 is never taken
    #: as a price per piece.
    per: etree.XPath | None = None

    @property
    def rule(self) -> str:
        """How the layout describes this field in a finding."""
        kind = self.type if not self.table else f"code table {sorted(self.table)}"
        return f"{self.to} = {self.xpath} ({kind})"


@dataclass(frozen=True)
class GroupMap:
    """A repeated element mapped to a list of canonical objects (lines, packages, ship-tos)."""

    to: str
    xpath: str
    compiled: etree.XPath
    steps: tuple[Step, ...] | None
    fields: tuple[FieldMap, ...]
    #: How many leading steps all items share when writing; the rest is created per item
    #: (`each = "cac:OrderLine"` on `cac:OrderLine/cac:LineItem`: one OrderLine per line).
    shared: int = 0


@dataclass(frozen=True)
class XmlLayout:
    """One recognisable XML document kind and its mapping to a canonical type."""

    name: str
    doc_type: str
    folder: Path
    root: str
    namespace: str | None
    contains: str | None
    schema_location: str | None
    document: str | None
    namespaces: dict[str, str]
    fields: tuple[FieldMap, ...]
    groups: tuple[GroupMap, ...]
    schema_file: str = "schema.xsd"

    @property
    def root_local(self) -> str:
        """The root element's name without namespace."""
        from lxml import etree

        return etree.QName(self.root).localname

    @property
    def streaming(self) -> bool:
        """True when documents are elements repeated under the root (read one at a time)."""
        return self.document is not None

    @property
    def schema_name(self) -> str:
        """The XSD's file name, as findings cite it (`UBL-Order-2.4.xsd`, `schema.xsd`)."""
        return Path(self.schema_file).name

    @functools.cached_property
    def schema(self) -> etree.XMLSchema:
        """The layout's XSD (imports resolved from local files only)."""
        from lxml import etree

        path = self.folder / self.schema_file
        try:
            return etree.XMLSchema(etree.parse(str(path), safe_parser()))
        except (OSError, etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
            raise LayoutError(f"{path.name} of layout {self.name}: {exc}") from exc

    @functools.cached_property
    def order(self) -> SchemaOrder:
        """The child order the layout's XSD prescribes, for writing."""
        return SchemaOrder.of(self.folder / self.schema_file)

    def write_nsmap(self) -> dict[str | None, str]:
        """Namespace prefixes for writing: the root's namespace becomes the default one."""
        nsmap: dict[str | None, str] = {p: uri for p, uri in self.namespaces.items() if uri != self.namespace}
        if self.namespace:
            nsmap[None] = self.namespace
        return nsmap


def _steps(xpath: str, namespaces: dict[str, str]) -> tuple[Step, ...] | None:
    """The writable steps of a simple path, or None when the expression is read-only."""
    if xpath in {".", ""}:
        return ()
    steps: list[Step] = []
    parts = xpath.split("/")
    for i, part in enumerate(parts):
        found = _STEP.match(part)
        if found is None:
            return None
        at, prefix, local, attr, value = found.groups()
        if at and (i != len(parts) - 1 or attr):
            return None
        if prefix and prefix not in namespaces:
            return None
        uri = namespaces.get(prefix) if prefix else None
        name = f"{{{uri}}}{local}" if uri else local
        steps.append(Step(name, attribute=bool(at), where=(attr, value) if attr else None))
    return tuple(steps)


def _field(where: str, to: str, raw: Any, namespaces: dict[str, str], problems: list[str]) -> FieldMap | None:
    from lxml import etree

    spec: dict[str, Any] = {"xpath": raw} if isinstance(raw, str) else dict(raw)
    unknown = set(spec) - {"xpath", "type", "required", "const", "default", "table", "formats", "per"}
    if unknown:
        problems.append(f"{where}{to}: unknown key(s) {', '.join(sorted(unknown))}")
    if not _TARGET.match(to.lstrip("_^")):
        problems.append(f"{where}{to}: not a canonical path")
    kind = spec.get("type", "string")
    if kind not in TYPES:
        problems.append(f"{where}{to}: type must be one of {', '.join(TYPES)}")
    xpath = str(spec.get("xpath", ""))
    try:
        compiled = etree.XPath(xpath, namespaces=namespaces)
    except etree.XPathError as exc:
        problems.append(f"{where}{to}: bad xpath {xpath!r}: {exc}")
        return None
    per = None
    if "per" in spec:
        if kind != "decimal":
            problems.append(f"{where}{to}: per (a price basis) needs type = \"decimal\"")
        try:
            per = etree.XPath(f"string({spec['per']})", namespaces=namespaces, smart_strings=False)
        except etree.XPathError as exc:
            problems.append(f"{where}{to}: bad per xpath {spec['per']!r}: {exc}")
    text = None
    if not to.endswith("[]"):
        try:
            text = etree.XPath(f"string({xpath})", namespaces=namespaces, smart_strings=False)
        except etree.XPathError:
            text = None
    return FieldMap(
        text=text,
        to=to,
        xpath=xpath,
        compiled=compiled,
        steps=_steps(xpath, namespaces),
        type=kind,
        required=bool(spec.get("required", False)),
        const=None if spec.get("const") is None else str(spec["const"]),
        default=None if spec.get("default") is None else str(spec["default"]),
        table={str(k): str(v) for k, v in dict(spec.get("table", {})).items()},
        formats=tuple(str(f) for f in spec.get("formats", ())),
        per=per,
    )


def _fields(where: str, raw: dict[str, Any], ns: dict[str, str], problems: list[str]) -> tuple[FieldMap, ...]:
    built = (_field(where, to, spec, ns, problems) for to, spec in raw.items())
    return tuple(f for f in built if f is not None)


def _qname(name: str, namespaces: dict[str, str], default: str | None) -> str:
    prefix, _, local = name.rpartition(":")
    uri = namespaces.get(prefix) if prefix else default
    return f"{{{uri}}}{local}" if uri else local


def _canonical_problems(
    record: type[Record], fields: tuple[FieldMap, ...], groups: list[GroupMap]
) -> list[str]:
    """Every mapped path that names no canonical field (a `_` path is the layout's own)."""
    found = [
        f"fields.{f.to}: {p}"
        for f in fields
        if not f.to.startswith("_") and (p := path_problem(record, f.to))
    ]
    for i, group in enumerate(groups):
        item = element_type(record, group.to)
        if item is None:
            found.append(f"group[{i}].to: {group.to!r} is not a list of objects in a {record.doc_type}")
            continue
        found += [
            f"group[{i}].fields.{f.to}: {p}"
            for f in group.fields
            if not f.to.startswith("_")
            # `^name` writes the document's own field
            and (p := path_problem(record, f.to[1:]) if f.to.startswith("^") else path_problem(item, f.to))
        ]
    return found


def load_layout(folder: Path) -> XmlLayout:
    """Read one layout folder, or raise `LayoutError` listing every problem in it."""
    from lxml import etree

    path = folder / "layout.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LayoutError(f"{path}: {exc}") from exc
    problems: list[str] = []
    unknown = set(raw) - {
        "layout",
        "doc_type",
        "document",
        "schema",
        "match",
        "namespaces",
        "fields",
        "group",
    }
    if unknown:
        problems.append(f"unknown key(s) {', '.join(sorted(unknown))}")
    doc_type = str(raw.get("doc_type", ""))
    if doc_type not in RECORD_TYPES:
        problems.append(f"doc_type: {doc_type!r} is not a canonical document type")
    match = dict(raw.get("match", {}))
    namespaces = {str(k): str(v) for k, v in dict(raw.get("namespaces", {})).items()}
    namespace = match.get("namespace") or None
    if "root" not in match:
        problems.append("match.root: required")
    fields = _fields("fields.", dict(raw.get("fields", {})), namespaces, problems)
    groups: list[GroupMap] = []
    for i, group in enumerate(raw.get("group", [])):
        where = f"group[{i}]."
        xpath = str(group.get("xpath", ""))
        try:
            compiled = etree.XPath(xpath, namespaces=namespaces)
        except etree.XPathError as exc:
            problems.append(f"{where}xpath: {exc}")
            continue
        steps = _steps(xpath, namespaces)
        each = str(group.get("each", xpath)).strip("/")
        if xpath != each and not xpath.startswith(each + "/"):
            problems.append(f"{where}each: {each!r} must be a leading part of the xpath {xpath!r}")
        groups.append(GroupMap(
            to=str(group.get("to", "")), xpath=xpath, compiled=compiled, steps=steps,
            fields=_fields(where + "fields.", dict(group.get("fields", {})), namespaces, problems),
            shared=each.count("/"),
        ))  # fmt: skip
    record = RECORD_TYPES.get(doc_type)
    if record is not None:
        problems += _canonical_problems(record, fields, groups)
    if problems:
        raise LayoutError(f"{path.parent.name}/layout.toml: " + "; ".join(problems))
    document = raw.get("document", "/")
    return XmlLayout(
        name=str(raw.get("layout", folder.name)),
        doc_type=doc_type,
        folder=folder,
        root=_qname(str(match["root"]), {}, namespace),
        namespace=namespace,
        contains=match.get("contains"),
        schema_location=match.get("schema_location"),
        document=None if document == "/" else _qname(str(document), namespaces, namespace),
        namespaces=namespaces,
        fields=fields,
        groups=tuple(groups),
        schema_file=str(raw.get("schema", "schema.xsd")),
    )


@resources.cached
def layouts(root: Path | None = None) -> dict[str, XmlLayout]:
    """Every XML layout of `schemas/xml/` (and the site's, or of `root`), by name; folders
    starting `_` are shared parts."""
    found: dict[str, XmlLayout] = {}
    folders = resources.listing("xml") if root is None else sorted(root.iterdir()) if root.is_dir() else []
    for folder in folders:
        if folder.is_dir() and not folder.name.startswith(("_", ".")) and (folder / "layout.toml").is_file():
            layout = load_layout(folder)
            found[layout.name] = layout
    return found


def candidates(root_tag: str, all_layouts: dict[str, XmlLayout]) -> list[XmlLayout]:
    """Layouts whose root element (name and namespace) is `root_tag`."""
    return [layout for layout in all_layouts.values() if layout.root == root_tag]


def near_misses(root_tag: str, all_layouts: dict[str, XmlLayout]) -> list[XmlLayout]:
    """Layouts with the same root name in another namespace: the document's namespace is wrong."""
    from lxml import etree

    local = etree.QName(root_tag).localname
    return [
        layout for layout in all_layouts.values() if layout.root_local == local and layout.root != root_tag
    ]
