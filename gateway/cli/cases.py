"""`gateway quarantine` over many cases: the filters (the same `quarantine.Filter` the web
console uses), `list` for people and scripts, bulk `discard` with a dry run, and a progress
bar for long bulk actions, drawn on a terminal only (never into the journal).

Imported by main.py before a command runs, so only the standard library is imported at the
top (`--help` answers at once); the rest is imported by the function that uses it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from gateway.config import Config
    from gateway.quarantine import Filter

T = TypeVar("T")
AGE = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def age(text: str) -> float:
    """`90s`, `30m`, `12h`, `7d` as seconds; `ArgumentTypeError` otherwise."""
    match = AGE.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"expected an age such as 30m, 12h or 7d, got {text!r}")
    return float(match[1]) * UNITS[match[2]]


def add_filters(parser: argparse.ArgumentParser) -> None:
    """The options that select cases."""
    group = parser.add_argument_group("filters (every one given must hold)")
    group.add_argument("--source", help="cases from this source")
    group.add_argument("--partner", help="cases from this partner (the sender id of the envelope)")
    group.add_argument("--code", help="cases with a finding of this code (see `gateway explain`)")
    group.add_argument("--stage", help="cases refused at this stage (claim, detect, decode, validate, map,"
                                       " route, write)")  # fmt: skip
    group.add_argument("--older-than", type=age, metavar="AGE",
                       help="cases waiting at least this long (30m, 7d)")  # fmt: skip
    group.add_argument("--key", help="cases carrying this business key or part of one (order number, UNB)")


def filter_from(args: argparse.Namespace) -> Filter:
    """The filter the options describe."""
    from gateway import quarantine

    return quarantine.Filter(args.source, args.partner, args.code, args.stage, args.older_than, args.key)


def progress(items: Iterable[T], total: int, what: str) -> Iterator[T]:
    """`items`, with a progress bar on stderr when it is a terminal and there is enough to wait for."""
    from tqdm import tqdm

    quiet = not sys.stderr.isatty() or total < 2
    yield from tqdm(items, total=total, desc=what, unit="case", disable=quiet, file=sys.stderr, leave=False)


def list_cases(config: Config, args: argparse.Namespace) -> int:
    """`quarantine list [filters] [--json]`."""
    from gateway import quarantine

    at = datetime.now(UTC)
    found = quarantine.select(config, filter_from(args), at)
    if args.json:
        print(json.dumps([{**e.__dict__, "age_seconds": round(e.age_seconds(at))} for e in found],
                         indent=2, ensure_ascii=False))  # fmt: skip
        return 0
    for e in found:
        keys = " ".join(f"{k}={v}" for k, v in e.keys[:3])
        print(f"{e.case}  {e.source}  {e.stage:<8}  {_age_text(e.age_seconds(at)):>6}  {e.errors:>4} error(s)"
              f"  {e.first_error}" + (f"  [{keys}]" if keys else ""))  # fmt: skip
    return 0


def _age_text(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def chosen(config: Config, args: argparse.Namespace) -> list[str] | None:
    """The cases a bulk action names: its ids, or every case the filters (or `--all`) select;
    None when it names none at all (a filterless bulk action needs `--all`)."""
    from gateway import quarantine

    which = filter_from(args)
    if args.ids:
        return list(args.ids)
    if which.empty and not args.all:
        return None
    return [e.case for e in quarantine.select(config, which)]


def dry_run(config: Config, cases: list[str], reason: str) -> int:
    """Say what a discard would do to each case, changing nothing; 1 when one is not in
    quarantine."""
    from gateway import quarantine

    status = 0
    for case in cases:
        try:
            quarantine.show(config, case)
        except KeyError:
            print(f"gateway: {case} is not in quarantine", file=sys.stderr)
            status = 1
            continue
        print(f"{case}: would be discarded ({reason})")
    return status
