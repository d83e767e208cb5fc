"""The segment-table walk of an EDIFACT message: groups, order, status and repetitions.

A message table is a tuple of nodes: a `SegmentNode` (tag, mandatory, maximum) or a `GroupNode`
whose first child triggers each repetition. `check_structure` walks a message's segments through
the table once, greedily, as the standard's tables are built to be read (a trigger segment always
starts a new repetition of its group), and reports what is out of place, missing or repeated too
often, each at the segment where it shows.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass

from gateway.findings import Code, Report
from gateway.formats.edifact.syntax import Segment


@dataclass(frozen=True)
class SegmentNode:
    """A segment's place in the message table."""

    tag: str
    mandatory: bool
    max: int


@dataclass(frozen=True)
class GroupNode:
    """A segment group: triggered by its first child."""

    name: str
    mandatory: bool
    max: int
    children: tuple[SegmentNode | GroupNode, ...]

    @property
    def trigger(self) -> str:
        """The tag that starts a repetition of the group."""
        first = self.children[0]
        return first.tag if isinstance(first, SegmentNode) else first.trigger


Node = SegmentNode | GroupNode


def check_structure(
    structure: tuple[Node, ...], known: Container[str], segments: list[Segment], report: Report, name: str
) -> None:
    """Report every place where `segments` leave the message table `structure` of schema `name`;
    `known` are the tags the directory defines for this message."""
    missing: list[tuple[str, Segment]] = []
    pos = _match(structure, segments, 0, missing, report, name)
    if pos < len(segments):
        seg = segments[pos]
        known_here = "is not expected here (out of order)" if seg.tag in known else "is not in the message"
        report(
            Code.UNEXPECTED_SEGMENT,
            f"segment {seg.tag} {known_here}",
            rule=f"schema edifact/{name}",
            segment=seg.tag,
            segment_index=seg.index,
        )
        return
    for what, seg in missing:
        report(
            Code.MISSING_SEGMENT,
            f"mandatory {what} is missing before this segment",
            rule=f"schema edifact/{name}",
            segment=seg.tag,
            segment_index=seg.index,
        )


def tags(nodes: tuple[Node, ...]) -> set[str]:
    """Every segment tag in a message table."""
    found: set[str] = set()
    for node in nodes:
        found.update(tags(node.children) if isinstance(node, GroupNode) else (node.tag,))
    return found


def _match(
    nodes: tuple[Node, ...],
    segs: list[Segment],
    pos: int,
    missing: list[tuple[str, Segment]],
    report: Report,
    name: str,
    group: bool = False,
) -> int:
    n = len(segs)
    for i, node in enumerate(nodes):
        count = 0
        if isinstance(node, SegmentNode):
            tag = node.tag
            # A group's trigger takes one segment: the next one starts the next repetition.
            limit = node.max if group and i == 0 else n
            while pos < n and segs[pos].tag == tag and count < limit:
                count += 1
                if count == node.max + 1:
                    _too_many(report, name, f"{tag} may occur at most {node.max} times here", segs[pos])
                pos += 1
            what = f"segment {tag}"
        else:
            trigger = node.trigger
            while pos < n and segs[pos].tag == trigger:
                count += 1
                if count == node.max + 1:
                    text = f"group {node.name} may occur at most {node.max} times"
                    _too_many(report, name, text, segs[pos])
                pos = _match(node.children, segs, pos, missing, report, name, True)
            what = f"group {node.name} ({trigger})"
        if count == 0 and node.mandatory:
            missing.append((what, segs[min(pos, n - 1)]))
    return pos


def _too_many(report: Report, name: str, message: str, seg: Segment) -> None:
    report(Code.TOO_MANY_REPETITIONS, message, rule=f"schema edifact/{name}", segment=seg.tag,
           segment_index=seg.index)  # fmt: skip
