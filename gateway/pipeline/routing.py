"""Which targets a document goes to, and whether its source may send it at all."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from gateway.canonical.records import OWNER, Record
from gateway.config import Config, RouteConfig, SourceConfig
from gateway.errors import Finding
from gateway.findings import Code


def _field(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)  # type: ignore[assignment]
    return data


class Router:
    """Applies the configured routes; with none, everything goes to `canonical`."""

    def __init__(self, config: Config) -> None:
        self.routes = config.routes
        self.unrouted = config.unrouted

    def _matches(self, route: RouteConfig, record: Record, source: str) -> bool:
        if not any(d in ("*", record.doc_type) for d in route.doc_types):
            return False
        if not any(fnmatch(source, s) for s in route.sources):
            return False
        if route.partners:
            # A partner is the document's sender or receiver id, as the envelope named it.
            ids = [i for i in (record.sender.id, record.receiver.id) if i]
            if not any(fnmatch(i, p) for i in ids for p in route.partners):
                return False
        if route.where:
            data = record.to_dict()
            return all(str(_field(data, k)) == v for k, v in route.where)
        return True

    def route(self, record: Record, source: SourceConfig) -> tuple[list[str], Finding | None]:
        """The target names for `record`, or a finding that says why it cannot go anywhere."""
        owner = OWNER[record.doc_type]
        if source.side not in {"any", owner}:
            return [], Finding(
                Code.DOMAIN_VIOLATION,
                f"a {record.doc_type} belongs to the {owner.upper()}, but source {source.name!r}"
                f" is {source.side.upper()}-side",
                {"record": record.doc_id},
                record.doc_id,
                "ownership: the ERP owns money and master data, the WMS owns stock movements",
            )
        if not self.routes:
            return ["canonical"], None
        targets: list[str] = []
        for route in self.routes:
            if self._matches(route, record, source.name):
                targets.extend(t for t in route.targets if t not in targets)
        if targets:
            return targets, None
        if self.unrouted == "canonical":
            return ["canonical"], None
        return [], Finding(
            Code.UNROUTED, f"no route takes a {record.doc_type} from source {source.name!r}",
            {"record": record.doc_id}, record.doc_id, "unrouted = quarantine",
        )  # fmt: skip
