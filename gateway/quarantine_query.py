"""The quarantine as the console shows it: every case with its partner, document types and
business keys from the ledger, and the inbox's filter form, which selects through
`quarantine.Filter`, the same filter as the command line's.

A case's partner is the sender its envelope named (EDIFACT UNB, IDoc control record), read from
the business keys the reader noted before the refusal; a file refused before any envelope was
read has none.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from urllib.parse import urlencode

from gateway import quarantine
from gateway.canonical.records import RECORD_TYPES
from gateway.config import Config
from gateway.ledger.activity import SENDER_KEYS
from gateway.ledger.protocol import LedgerView


@dataclass(frozen=True)
class Case:
    """One quarantine case as the inbox shows it."""

    entry: quarantine.Entry
    partner: str
    doc_types: tuple[str, ...]
    keys: tuple[tuple[str, str], ...]
    age_seconds: float

    @property
    def case(self) -> str:
        """The case's name: `<file_id>` or `<file_id>/<target>`."""
        return self.entry.case


def partner_of(keys: list[tuple[str, str]]) -> str:
    """The sender named by a file's envelope keys, or "" when none was read."""
    for kind, value in keys:
        if kind in SENDER_KEYS and ":" in value:
            return value.split(":", 1)[0]
    return ""


def doc_types_of(keys: list[tuple[str, str]]) -> tuple[str, ...]:
    """The canonical document types a file's keys name, in their order."""
    return tuple(dict.fromkeys(kind for kind, _ in keys if kind in RECORD_TYPES))


def age_seconds(at: str, now: datetime | None = None) -> float:
    """Seconds since a ledger or report time."""
    return ((now or datetime.now(UTC)) - datetime.fromisoformat(at)).total_seconds()


def cases(config: Config, ledger: LedgerView | None) -> list[Case]:
    """Every case waiting in quarantine, oldest first, with what the ledger knows of its file."""
    now = datetime.now(UTC)
    found = []
    for entry in quarantine.entries(config):
        keys = ledger.keys(entry.file_id) if ledger is not None else []
        found.append(Case(entry, partner_of(keys), doc_types_of(keys), tuple(keys),
                          entry.age_seconds(now)))  # fmt: skip
    return found


@dataclass(frozen=True)
class Filter:
    """Which cases to show or act on; an empty field matches everything. `key` matches a
    business key's value in part, case-insensitively; `min_age_hours` keeps older cases."""

    source: str = ""
    partner: str = ""
    code: str = ""
    stage: str = ""
    key: str = ""
    min_age_hours: float | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Filter:
        """A filter from query or form parameters; an unreadable age is ignored."""
        age: float | None = None
        with contextlib.suppress(ValueError):
            age = float(params.get("min_age_hours", ""))
        if age is not None and not math.isfinite(age):
            age = None
        text = {f.name: str(params.get(f.name, "")).strip() for f in fields(cls) if f.name != "min_age_hours"}
        return cls(**text, min_age_hours=age)

    def criteria(self) -> quarantine.Filter:
        """The form as the filter the command line uses too."""
        hours = self.min_age_hours
        return quarantine.Filter(
            source=self.source or None, partner=self.partner or None, code=self.code or None,
            stage=self.stage or None, older_than_seconds=None if hours is None else hours * 3600,
            key=self.key or None,
        )  # fmt: skip

    def matches(self, case: Case) -> bool:
        """Whether the case passes every field of the filter."""
        return self.criteria().matches(case.entry, datetime.now(UTC))

    @property
    def empty(self) -> bool:
        """Whether the filter keeps every case."""
        return self == Filter()

    def params(self) -> dict[str, str]:
        """The filter as query parameters (only the fields set)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: str(v) for k, v in values.items() if v not in ("", None)}

    def query(self) -> str:
        """The filter as a URL query string."""
        return urlencode(self.params())


def select(config: Config, ledger: LedgerView | None, where: Filter) -> list[Case]:
    """The cases the filter keeps, oldest first."""
    return [c for c in cases(config, ledger) if where.matches(c)]
