"""Configuration: one TOML file read into frozen dataclasses, checked completely at start-up.

Every problem is collected with its key (`source[2].settle_seconds: expected a number`) and
raised together as one `ConfigError`, so an operator fixes the file in one pass. With no file
at all the built-in defaults serve the design's folders under `state_dir`.

The options of the plugins (readers, sources, targets, deliveries) are declared by the plugins
themselves and checked here through `gateway.plugins`, which imports a plugin's module only
when the configuration uses it; no plugin module is imported by this one.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gateway import plugins, resources
from gateway.canonical.records import RECORD_TYPES
from gateway.errors import ConfigError
from gateway.findings import STRICTNESS, Strictness
from gateway.operations import OPS_KEYS, OpsConfig, parse_ops
from gateway.options import Option
from gateway.options import problems as option_problems

if TYPE_CHECKING:
    from gateway.targets.base import Target

T = TypeVar("T")

SIDES = ("erp", "wms", "any")
DUPLICATE_POLICIES = ("skip", "quarantine")
UNROUTED_POLICIES = ("canonical", "quarantine")
DEFAULT_IGNORE = ("*.part", "*.tmp", ".*", "*.filepart", "~*")
TARGET_KEYS = {"name", "format", "deliver", "batch_size", "batch_window"}
DEFAULT_BATCH_WINDOW = 300.0


@dataclass(frozen=True)
class SourceConfig:
    """Where files come from, and how to judge that one is complete."""

    name: str
    type: str = "local"
    side: str = "any"
    path: Path = Path("inbound")
    settle_seconds: float = 2.0
    poll_seconds: float = 5.0
    ignore: tuple[str, ...] = DEFAULT_IGNORE
    done_suffix: str | None = None
    encoding: str | None = None
    format_by_name: tuple[tuple[str, str], ...] = ()
    duplicates: str = "skip"
    strictness: Strictness = Strictness.STANDARD
    #: Documents of this source are published in arrival order, also across instances.
    ordered: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetConfig:
    """An outbound file format and where its files are published."""

    name: str
    format: str
    deliver: str
    options: dict[str, Any] = field(default_factory=dict)
    #: For a remote delivery (`sftp:<source>:/dir`): the source whose server settings it uses,
    #: and the local folder where outputs are staged before they are uploaded.
    server: SourceConfig | None = None
    staging_dir: Path | None = None
    #: Cross-file batching: close a batch at this many records, or when its oldest record has
    #: waited this many seconds. None: one output per input file (or per document).
    batch_size: int | None = None
    batch_window: float | None = None

    @property
    def batched(self) -> bool:
        """Whether records from several input files are combined into one output."""
        return self.batch_size is not None or self.batch_window is not None

    @property
    def local_dir(self) -> Path:
        """The folder of a `local:` delivery."""
        return Path(self.deliver.removeprefix("local:"))


@dataclass(frozen=True)
class RouteConfig:
    """Send documents of these types from these sources to these targets."""

    doc_types: tuple[str, ...]
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    where: tuple[tuple[str, str], ...] = ()
    partners: tuple[str, ...] = ()
    #: The documents this route takes are published in arrival order: each source it takes
    #: from becomes an ordered source (per-partner order where a partner has a source of its own).
    ordered: bool = False


@dataclass(frozen=True)
class PartnerConfig:
    """Settings for one sender, named as routes name partners: its id (EDIFACT UNB sender,
    IDoc SNDPRN) or a pattern of ids."""

    id: str
    strictness: Strictness


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration."""

    state_dir: Path
    sources: tuple[SourceConfig, ...]
    targets: tuple[TargetConfig, ...]
    routes: tuple[RouteConfig, ...]
    unrouted: str = "canonical"
    encoding_confidence: float = 0.6
    max_findings: int = 1000
    drain_timeout: float = 60.0
    file_path: Path | None = None
    #: Site layouts, schemas and value maps; a file here wins over the shipped one of its name.
    schemas_dir: Path | None = None
    partners: tuple[PartnerConfig, ...] = ()
    #: The secret an operator gives the console before it serves anything on an address other
    #: than the loopback ("" : the console serves localhost only).
    console_token: str = ""
    #: Metrics endpoint, retention, expected files and alerts (operations.py).
    ops: OpsConfig = field(default_factory=OpsConfig)
    #: A PostgreSQL ledger (`postgresql://user@host/db`), shared by several instances; its
    #: password comes from a file or an environment variable, never from this file or the log.
    ledger: str = ""
    ledger_password_file: Path | None = None
    ledger_password_env: str = ""
    #: How long an instance may go without a heartbeat before others take its files over.
    lease_seconds: float = 30.0
    #: Reader processes beside the service's own (0: it reads files itself).
    workers: int = 0

    @property
    def ledger_path(self) -> Path:
        """The SQLite ledger."""
        return self.state_dir / "gateway.db"

    def ledger_password(self) -> str | None:
        """The PostgreSQL ledger's password, read now (so a rotated one applies at restart)."""
        if self.ledger_password_file is not None:
            try:
                return self.ledger_password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError([f"ledger_password_file: cannot read: {exc.strerror}"]) from None
        if self.ledger_password_env:
            if self.ledger_password_env not in os.environ:
                raise ConfigError([f"ledger_password_env: {self.ledger_password_env} is not set"])
            return os.environ[self.ledger_password_env]
        return None

    def folder(self, name: str) -> Path:
        """One of the state folders: work, quarantine, archive, outbound."""
        return self.state_dir / name

    def source(self, name: str) -> SourceConfig:
        """The source called `name`; a `ConfigError` when there is none."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise ConfigError([f"no source named {name!r} (configured: {known})"])

    def strictness(self, source: SourceConfig, partner: str | None) -> Strictness:
        """The level a sender's files are judged by: the first `[[partner]]` whose id matches,
        else the source's."""
        if partner:
            for each in self.partners:
                if fnmatchcase(partner, each.id):
                    return each.strictness
        return source.strictness

    def target(self, name: str) -> TargetConfig:
        """The target called `name`; a `ConfigError` when there is none."""
        for target in self.targets:
            if target.name == name:
                return target
        known = ", ".join(t.name for t in self.targets)
        raise ConfigError([f"no target named {name!r} (configured: {known})"])


class _Problems:
    """Reads typed values out of TOML tables, noting each problem under its key."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def get(
        self,
        table: dict[str, Any],
        where: str,
        key: str,
        kind: type[T] | tuple[type, ...],
        default: T,
        check: Callable[[Any], str | None] | None = None,
    ) -> T:
        if key not in table:
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.items.append(f"{where}{key}: expected {names}, got {value!r}")
            return default
        problem = check(value) if check else None
        if problem:
            self.items.append(f"{where}{key}: {problem}")
            return default
        return value  # type: ignore[return-value]

    def unknown(self, table: dict[str, Any], where: str, known: set[str]) -> None:
        for key in sorted(set(table) - known):
            self.items.append(f"{where}{key}: unknown setting")


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _token(value: Any) -> str | None:
    # Long enough that guessing it over the network is hopeless.
    return None if len(value) >= 16 else "must be at least 16 characters (e.g. `openssl rand -hex 16`)"


def _str_list(problems: _Problems, table: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.items.append(f"{where}{key}: expected a list of strings")
        return ()
    return tuple(value)


def _source(p: _Problems, raw: dict[str, Any], i: int, state_dir: Path) -> SourceConfig:
    where = f"source[{i}]."
    name = p.get(raw, where, "name", str, f"source{i}")
    kind = p.get(raw, where, "type", str, "local")
    rules = p.get(raw, where, "format_by_name", dict, {})
    options = {k: raw[k] for k in raw if k not in SourceConfig.__dataclass_fields__}
    encoding = p.get(raw, where, "encoding", str, "")
    if encoding:
        try:
            "".encode(encoding)
        except LookupError:
            p.items.append(f"{where}encoding: unknown encoding {encoding!r}")
    path = Path(p.get(raw, where, "path", str, "inbound" if i == 0 else f"inbound/{name}"))
    return SourceConfig(
        name=name,
        type=kind,
        side=p.get(raw, where, "side", str, "any", _one_of(SIDES)),
        path=state_dir / path,
        settle_seconds=p.get(raw, where, "settle_seconds", float, 2.0, _positive),
        poll_seconds=p.get(raw, where, "poll_seconds", float, 5.0, _positive),
        ignore=_str_list(p, raw, where, "ignore") if "ignore" in raw else DEFAULT_IGNORE,
        done_suffix=p.get(raw, where, "done_suffix", str, "") or None,
        encoding=encoding or None,
        format_by_name=tuple((str(k), str(v)) for k, v in rules.items()),
        duplicates=p.get(raw, where, "duplicates", str, "skip", _one_of(DUPLICATE_POLICIES)),
        strictness=_strictness(p, raw, where),
        ordered=p.get(raw, where, "ordered", bool, False),
        options=options,
    )


def _strictness(p: _Problems, raw: dict[str, Any], where: str) -> Strictness:
    return Strictness(p.get(raw, where, STRICTNESS.name, str, STRICTNESS.default, STRICTNESS.problem))


def _partner(p: _Problems, raw: dict[str, Any], i: int) -> PartnerConfig:
    where = f"partner[{i}]."
    p.unknown(raw, where, {"id", STRICTNESS.name})
    partner_id = p.get(raw, where, "id", str, "")
    if not partner_id:
        p.items.append(f"{where}id: required (the sender id: UNB sender or IDoc SNDPRN)")
    return PartnerConfig(partner_id, _strictness(p, raw, where))


def _target(p: _Problems, raw: dict[str, Any], i: int, state_dir: Path) -> TargetConfig:
    where = f"target[{i}]."
    name = p.get(raw, where, "name", str, "")
    if not name:
        p.items.append(f"{where}name: required")
    fmt = p.get(raw, where, "format", str, "")
    if not fmt:
        p.items.append(f"{where}format: required")
    deliver = p.get(raw, where, "deliver", str, f"local:outbound/{name}")
    if deliver.startswith("local:"):
        deliver = f"local:{state_dir / deliver.removeprefix('local:')}"
    options = {k: v for k, v in raw.items() if k not in TARGET_KEYS}
    size = p.get(raw, where, "batch_size", int, 0, _positive) or None
    window = p.get(raw, where, "batch_window", float, 0.0, _positive) or None
    if size is not None and window is None:
        # A batch that never fills must still go out.
        window = DEFAULT_BATCH_WINDOW
    if (size or window) and options.get("split") == "document":
        p.items.append(f"{where}batch_size: one file per document (split) and batches exclude each other")
    return TargetConfig(name=name, format=fmt, deliver=deliver, options=options,
                        batch_size=size, batch_window=window)  # fmt: skip


def _remote_delivery(
    p: _Problems, target: TargetConfig, i: int, sources: tuple[SourceConfig, ...], state_dir: Path
) -> TargetConfig:
    """An `sftp:<source>:/dir` delivery takes its server settings from that sftp source."""
    if not target.deliver.startswith("sftp:"):
        return target
    server_name = target.deliver.split(":", 2)[1]
    server = next((s for s in sources if s.name == server_name and s.type == "sftp"), None)
    if server is None:
        p.items.append(f"target[{i}].deliver: no sftp source named {server_name!r} for the server settings")
        return target
    staging = state_dir / "work" / "outbound" / (target.name or f"target{i}")
    return replace(target, server=server, staging_dir=staging)


def _route(p: _Problems, raw: dict[str, Any], i: int) -> RouteConfig:
    where = f"route[{i}]."
    p.unknown(raw, where, {"doc_type", "from", "to", "where", "partner", "ordered"})
    doc_types = _str_list(p, raw, where, "doc_type")
    for doc_type in doc_types:
        if doc_type not in RECORD_TYPES and doc_type != "*":
            p.items.append(f"{where}doc_type: unknown document type {doc_type!r}")
    where_table = p.get(raw, where, "where", dict, {})
    return RouteConfig(
        doc_types=doc_types or ("*",),
        sources=_str_list(p, raw, where, "from") or ("*",),
        targets=_str_list(p, raw, where, "to"),
        where=tuple((str(k), str(v)) for k, v in where_table.items()),
        partners=_str_list(p, raw, where, "partner"),
        ordered=p.get(raw, where, "ordered", bool, False),
    )


def _ordered_by_routes(
    sources: tuple[SourceConfig, ...], routes: tuple[RouteConfig, ...]
) -> tuple[SourceConfig, ...]:
    """The sources, each ordered where an ordered route takes from it: order is kept where
    files are taken in, one at a time, so a route's order is its sources' order."""
    return tuple(
        replace(s, ordered=True)
        if not s.ordered and any(r.ordered and any(fnmatchcase(s.name, f) for f in r.sources) for r in routes)
        else s
        for s in sources
    )


def load(path: Path | None, root: Path | None = None) -> Config:
    """Read and check `path` (or the built-in defaults when it is None); `root` wins over state_dir."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc
    return parse(raw, root, path)


TOP_KEYS = {
    "state_dir", "source", "target", "route", "unrouted", "encoding_confidence",
    "max_findings", "drain_timeout", "schemas_dir", "partner", "console_token", *OPS_KEYS,
    "ledger", "ledger_password_file", "ledger_password_env", "lease_seconds", "workers",
}  # fmt: skip


def parse(raw: dict[str, Any], root: Path | None = None, path: Path | None = None) -> Config:
    """Check a parsed TOML document and build the `Config`."""
    p = _Problems()
    p.unknown(raw, "", TOP_KEYS)
    state_dir = root or Path(p.get(raw, "", "state_dir", str, os.getcwd()))
    state_dir = state_dir.absolute()
    raw_sources = raw.get("source") or [{"name": "inbound"}]
    raw_targets = raw.get("target") or []
    raw_routes = raw.get("route") or []
    raw_partners = raw.get("partner") or []
    tables = (("source", raw_sources), ("target", raw_targets), ("route", raw_routes),
              ("partner", raw_partners))  # fmt: skip
    for key, value in tables:
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            p.items.append(f"{key}: expected an array of tables ([[{key}]])")
            raise ConfigError(p.items)
    sources = tuple(_source(p, s, i, state_dir) for i, s in enumerate(raw_sources))
    targets = [_target(p, t, i, state_dir) for i, t in enumerate(raw_targets)]
    if not any(t.name == "canonical" for t in targets):
        canonical_dir = state_dir / "outbound" / "canonical"
        targets.append(TargetConfig("canonical", "jsonl", f"local:{canonical_dir}"))
    targets = [_remote_delivery(p, t, i, sources, state_dir) for i, t in enumerate(targets)]
    routes = tuple(_route(p, r, i) for i, r in enumerate(raw_routes))
    _check_names(p, sources, targets, routes)
    sources = _ordered_by_routes(sources, routes)
    config = Config(
        state_dir=state_dir,
        sources=sources,
        targets=tuple(targets),
        routes=routes,
        unrouted=p.get(raw, "", "unrouted", str, "canonical", _one_of(UNROUTED_POLICIES)),
        encoding_confidence=p.get(raw, "", "encoding_confidence", float, 0.6),
        max_findings=p.get(raw, "", "max_findings", int, 1000, _positive),
        drain_timeout=p.get(raw, "", "drain_timeout", float, 60.0, _positive),
        file_path=path,
        schemas_dir=_schemas_dir(p, raw, state_dir),
        partners=tuple(_partner(p, t, i) for i, t in enumerate(raw_partners)),
        console_token=p.get(raw, "", "console_token", str, "", _token),
        ops=parse_ops(raw, state_dir, {s.name for s in sources}, set(RECORD_TYPES), p.items),
        ledger=p.get(raw, "", "ledger", str, "", _ledger_url),
        ledger_password_file=_password_file(p, raw, state_dir),
        ledger_password_env=p.get(raw, "", "ledger_password_env", str, ""),
        lease_seconds=p.get(raw, "", "lease_seconds", float, 30.0, _positive),
        workers=_workers(p.get(raw, "", "workers", (int, str), "auto", _workers_setting)),
    )
    _use_site_schemas(config)
    _check_plugins(p, config)
    if p.items:
        raise ConfigError(p.items)
    return config


def _workers_setting(value: int | str) -> str | None:
    if value == "auto" or (isinstance(value, int) and 0 <= value <= 64):
        return None
    return 'expected "auto" or a number of processes from 0 to 64'


def _workers(value: int | str) -> int:
    """`auto`: one reader per core beyond the first two. The service's own process (ledger,
    outputs, fsyncs) keeps about one core busy, and on two cores `gateway bench` measured no
    gain from a worker: moving the records and starting the process cost what it saved."""
    if isinstance(value, int):
        return value
    return max(0, min(4, (os.cpu_count() or 1) - 2))


def _ledger_url(value: str) -> str | None:
    if value and not value.startswith(("postgresql://", "postgres://")):
        return "expected a postgresql:// URL (leave it out for the SQLite ledger in state_dir)"
    if re.search(r"://[^/@]*:[^/@]*@", value):
        return "has a password: put it in ledger_password_file or ledger_password_env instead"
    return None


def _password_file(p: _Problems, raw: dict[str, Any], state_dir: Path) -> Path | None:
    name = p.get(raw, "", "ledger_password_file", str, "")
    return state_dir / name if name else None


def _check_names(
    p: _Problems,
    sources: tuple[SourceConfig, ...],
    targets: list[TargetConfig],
    routes: tuple[RouteConfig, ...],
) -> None:
    for kind, names in (
        ("source", [s.name for s in sources]),
        ("target", [t.name for t in targets]),
    ):
        for name in {n for n in names if names.count(n) > 1}:
            p.items.append(f"{kind}: name {name!r} is used more than once")
    source_names = {s.name for s in sources} | {"*"}
    target_names = {t.name for t in targets}
    for i, source in enumerate(sources):
        answer_to = source.options.get("acknowledge_to")
        if answer_to is not None and answer_to not in target_names:
            p.items.append(f"source[{i}].acknowledge_to: no target named {answer_to!r}")
    for i, route in enumerate(routes):
        for name in route.sources:
            if name not in source_names:
                p.items.append(f"route[{i}].from: no source named {name!r}")
        for name in route.targets:
            if name not in target_names:
                p.items.append(f"route[{i}].to: no target named {name!r}")
        if not route.targets:
            p.items.append(f"route[{i}].to: required")


def _schemas_dir(p: _Problems, raw: dict[str, Any], state_dir: Path) -> Path | None:
    folder = p.get(raw, "", "schemas_dir", str, "")
    if not folder:
        return None
    path = state_dir / folder
    if not path.is_dir():
        p.items.append(f"schemas_dir: {path} is not a folder")
    return path


def _use_site_schemas(config: Config) -> None:
    # Applied before the plugins are checked, so that a site's own layouts are known to them
    # (format `sage100.<site layout>`, `csv_layout`); the last configuration loaded is in force.
    resources.use_site_schemas(
        config.schemas_dir if config.schemas_dir and config.schemas_dir.is_dir() else None
    )


def _check_plugins(p: _Problems, config: Config) -> None:
    """Every plugin the configuration names exists and every option it is given is right."""
    for i, target in enumerate(config.targets):
        where = f"target[{i}]."
        method = target.deliver.split(":", 1)[0]
        try:
            p.items.extend(where + problem for problem in plugins.delivery(method).problems(target.deliver))
        except plugins.UnknownPlugin as exc:
            known = ", ".join(f"{m}:" for m in exc.known)
            p.items.append(f"{where}deliver: unknown delivery {method!r} (known: {known})")
        if not target.format:
            continue
        try:
            kind = plugins.target(target.format)
        except plugins.UnknownPlugin as exc:
            p.items.append(f"{where}format: {exc}")
            continue
        p.items.extend(where + problem for problem in target_problems(kind, target))
    for i, source in enumerate(config.sources):
        where = f"source[{i}]."
        try:
            source_kind = plugins.source(source.type)
        except plugins.UnknownPlugin as exc:
            p.items.append(f"{where}type: {exc}")
            continue
        declared = list(source_kind.options)
        if set(source.options) - {option.name for option in declared}:
            # Only a source with reader options needs the readers imported.
            declared += reader_options()
        found, valid = option_problems(source.options, declared)
        p.items.extend(where + problem for problem in found + source_kind.check(valid))
        for pattern, fmt in source.format_by_name:
            if fmt not in plugins.names(plugins.FORMATS):
                p.items.append(f"{where}format_by_name.{pattern}: unknown format {fmt!r}")


def target_problems(kind: type[Target], target: TargetConfig) -> list[str]:
    """Every problem with a target's options: the declared types, then the target's own rules."""
    found, valid = option_problems(target.options, kind.options)
    return found + kind.check(replace(target, options=valid))


def reader_options() -> list[Option]:
    """The `[[source]]` keys the readers declare, once each."""
    found: dict[str, Option] = {}
    for _, reader in plugins.readers():
        found.update((option.name, option) for option in reader.options)
    return list(found.values())
