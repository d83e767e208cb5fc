"""The plugins: format readers, targets, deliveries and sources, found through entry points.

The gateway's own plugins are registered in `pyproject.toml` exactly as a third party's are, in
four entry point groups: `gateway.formats` (readers, by format name), `gateway.targets`
(outbound formats), `gateway.deliveries` (by the prefix of a target's `deliver`) and
`gateway.sources` (by a source's `type`). Names come from the installed metadata; a plugin's
module is imported only when that plugin is first used, so `gateway --help` imports none.

A target family whose formats are variants (`sage100.shipment`) registers the family name only;
the family lists its variants. Detection asks readers by their `order` attribute, lowest first,
never by the order entry points happen to be listed in.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.delivery.base import DeliveryKind
    from gateway.formats.base import Reader
    from gateway.sources.base import SourceKind
    from gateway.targets.base import Target

FORMATS = "gateway.formats"
TARGETS = "gateway.targets"
DELIVERIES = "gateway.deliveries"
SOURCES = "gateway.sources"


KINDS = {FORMATS: "format", TARGETS: "format", DELIVERIES: "delivery", SOURCES: "source type"}


class UnknownPlugin(LookupError):
    """No installed plugin of the group has this name."""

    def __init__(self, group: str, name: str) -> None:
        self.name = name
        self.known = names(group)
        super().__init__(f"unknown {KINDS[group]} {name!r} (known: {', '.join(self.known)})")


@functools.cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    # The first distribution on the path wins a name, as the import system's first match does.
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=group):
        found.setdefault(point.name, point)
    return found


def names(group: str) -> list[str]:
    """The registered names of a group, sorted; nothing is imported."""
    return sorted(_entry_points(group))


@functools.cache
def load(group: str, name: str) -> Any:
    """The object the entry point `name` of `group` names, imported now if it is not yet."""
    point = _entry_points(group).get(name)
    if point is None:
        raise UnknownPlugin(group, name)
    return point.load()


def reader(name: str) -> type[Reader]:
    """The reader of format `name`."""
    found: type[Reader] = load(FORMATS, name)
    return found


def readers() -> list[tuple[str, type[Reader]]]:
    """Every reader with its format name, in detection order (CSV, the catch-all, last)."""
    return sorted(((name, reader(name)) for name in names(FORMATS)), key=lambda pair: pair[1].order)


def target(fmt: str) -> type[Target]:
    """The target class of outbound format `fmt`: a registered name or a family's variant."""
    points = _entry_points(TARGETS)
    family, dot, variant = fmt.partition(".")
    if fmt not in points and dot and family in points:
        found: type[Target] = load(TARGETS, family)
        if variant in found.variants():
            return found
    named: type[Target] = load(TARGETS, fmt)
    return named


def delivery(method: str) -> DeliveryKind:
    """The delivery kind a `deliver` prefix (`local`, `sftp`) names."""
    found: DeliveryKind = load(DELIVERIES, method)
    return found


def source(kind: str) -> SourceKind:
    """The source kind a source's `type` names."""
    found: SourceKind = load(SOURCES, kind)
    return found
