"""The child order an XSD prescribes, applied to a document the layout mapping built.

A layout lists its fields in whatever order reads best, and the writer creates elements in
that order; XML Schema sequences are strict about order (UBL's DespatchLine wants
OrderLineReference before Item, a Shipment its Delivery before its TransportHandlingUnit).
Rather than making every layout author repeat the standard's order, the writer sorts each
element's children by the sequence of the element's type. This covers schemas written the way
UBL's naming and design rules prescribe: global elements (`<xsd:element name="Item"
type="ItemType"/>`) and named complex types whose sequence refers to them. Children a schema
does not list keep their place at the end, where validation then names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.formats.xml.safe import safe_parser

# lxml is imported by the functions that parse or write XML: detection imports every reader's
# module, and a file that is not XML must not pay for lxml.

XSD = "{http://www.w3.org/2001/XMLSchema}"


@dataclass
class SchemaOrder:
    """Element name → type name, and type name → its children's names in sequence order."""

    types_of: dict[str, str] = field(default_factory=dict)
    children: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def of(cls, xsd: Path) -> SchemaOrder:
        """Read `xsd` and every schema it imports or includes (local files only)."""
        from lxml import etree

        order = cls()
        seen: set[Path] = set()
        todo = [xsd.resolve()]
        while todo:
            path = todo.pop()
            if path in seen or not path.is_file():
                continue
            seen.add(path)
            root = etree.parse(str(path), safe_parser()).getroot()
            order._read(root)
            for ref in root.iter(f"{XSD}import", f"{XSD}include"):
                location = ref.get("schemaLocation")
                if location and "://" not in location:
                    todo.append((path.parent / location).resolve())
        return order

    def _read(self, root: Any) -> None:
        target = root.get("targetNamespace") or ""
        prefixes = {p: uri for p, uri in root.nsmap.items() if p}

        def qualify(name: str) -> str:
            prefix, _, local = name.rpartition(":")
            uri = prefixes.get(prefix, "") if prefix else target
            return f"{{{uri}}}{local}" if uri else local

        for element in root.iterchildren(f"{XSD}element"):
            if element.get("name") and element.get("type"):
                self.types_of[qualify(element.get("name"))] = qualify(element.get("type"))
        for complex_type in root.iterchildren(f"{XSD}complexType"):
            name = complex_type.get("name")
            if not name:
                continue
            refs = [e.get("ref") or e.get("name") for e in complex_type.iter(f"{XSD}element")]
            self.children[qualify(name)] = {qualify(r): i for i, r in enumerate(refs) if r}

    def apply(self, element: Any) -> None:
        """Sort the children of `element` and of all its descendants into schema order."""
        self._sort(element, self.types_of.get(element.tag))

    def _sort(self, element: Any, type_name: str | None) -> None:
        rank = self.children.get(type_name or "")
        kids = [k for k in element if isinstance(k.tag, str)]
        if rank is not None and len(kids) > 1:
            last = len(rank)
            ordered = sorted(kids, key=lambda k: rank.get(k.tag, last))  # stable: repeats keep order
            if ordered != kids:
                for kid in kids:
                    element.remove(kid)
                element.extend(ordered)
        for kid in kids:
            self._sort(kid, self.types_of.get(kid.tag))
