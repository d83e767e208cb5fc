"""The crash harness's inputs: the bundled samples, learned once, then varied into distinct files.

A calibration run (`gateway run --once` on a root of its own) tells for each sample what the
gateway makes of it: accepted or quarantined, the document ids of its records, and the keys
that make a file a duplicate when seen twice (IDoc DOCNUM, EDIFACT UNB reference). Each variant
then has those tokens rewritten with its own number, so no two inputs share content or keys,
and its expected outcome and document ids are known before the service sees it.

IDoc files get same-length, digits-only rewrites (flat IDoc records are fixed-width and DOCNUM
is numeric); the other formats get a short suffix on the token.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import SAMPLES, run_cli

DIGITS = "0123456789"
#: Characters that continue an id: a token is replaced only where none is next to it.
WORD = r"[\w.\-]"
#: In fixed-width rewrites the last digits are kept, so two ids of one file stay apart.
KEPT_DIGITS = 4


@dataclass(frozen=True)
class Template:
    """One bundled sample and what the calibration run made of it."""

    name: str
    data: bytes
    outcome: str
    format: str
    doc_ids: tuple[str, ...]
    tokens: tuple[str, ...]

    @property
    def fixed_width(self) -> bool:
        return self.format.startswith("idoc")


@dataclass(frozen=True)
class Input:
    """One file the harness drops, with what must become of it."""

    name: str
    data: bytes
    outcome: str
    doc_ids: tuple[str, ...]
    remote: bool


def samples() -> list[Path]:
    """Every bundled input sample (not the READMEs beside them)."""
    return sorted(p for p in (SAMPLES / "inbound").rglob("*") if p.is_file() and p.suffix != ".md")


@contextmanager
def read_only(db: Path) -> Iterator[sqlite3.Connection]:
    """The ledger opened read-only: the harness looks, never writes."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)) as conn:
        yield conn


def records_in(folder: Path) -> dict[str, list[dict[str, object]]]:
    """The JSON Lines records of every file in `folder`, by the input file they came from."""
    found: dict[str, list[dict[str, object]]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            found.setdefault(record["source"]["file_name"], []).append(record)
    return found


def calibrate(workdir: Path) -> list[Template]:
    """Run the gateway once over every sample and learn outcome, ids and unique keys of each."""
    root = workdir / "calibration"
    (root / "inbound").mkdir(parents=True)
    paths = {f"{p.parent.name}-{p.name}": p for p in samples()}
    for name, path in paths.items():
        (root / "inbound" / name).write_bytes(path.read_bytes())
    config = workdir / "calibration.toml"
    config.write_text('[[source]]\nname = "inbound"\nsettle_seconds = 0.05\npoll_seconds = 0.2\n')
    result = run_cli("--config", config, "run", "--once", "--root", root)
    assert result.returncode == 0, result.stdout + result.stderr
    with read_only(root / "gateway.db") as db:
        files = {name: (fid, state, fmt) for fid, name, state, fmt in
                 db.execute("SELECT file_id, original_name, state, format FROM files")}  # fmt: skip
        keys: dict[str, list[str]] = {}
        for fid, kind, value in db.execute("SELECT file_id, kind, value FROM keys"):
            keys.setdefault(fid, []).append(_unique_part(kind, value))
    records = records_in(root / "outbound" / "canonical")
    templates = []
    for name, path in paths.items():
        file_id, state, fmt = files[name]
        doc_ids = tuple(sorted(str(r["doc_id"]) for r in records.get(name, [])))
        tokens = tuple(sorted({*doc_ids, *filter(None, keys.get(file_id, []))}, key=len, reverse=True))
        templates.append(Template(name, path.read_bytes(), state, fmt or "", doc_ids, tokens))
    return templates


def _unique_part(kind: str, value: str) -> str:
    """The part of a duplicate key the sender numbers: DOCNUM of `sender:docnum`, the UNB reference of
    `sender:reference` or `sender:reference:message`; other keys are document numbers already known."""
    parts = value.split(":")
    if kind in ("docnum", "unb"):
        return parts[-1]
    if kind == "unh":
        return parts[-2]
    return ""


def base36(n: int) -> str:
    digits = DIGITS + "abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        n, rest = divmod(n, 36)
        text = digits[rest] + text
        if not n:
            return text


def rewrite(token: str, n: int, fixed_width: bool) -> str:
    """The token of variant `n`: same length and digits only for fixed-width IDoc, else suffixed."""
    if not fixed_width:
        return f"{token}-{base36(n)}"
    run = len(token) - len(token.rstrip(DIGITS))
    width = run - KEPT_DIGITS
    if width < 2:
        return token  # too short to carry a number of its own
    start = len(token) - run
    return token[:start] + f"{n:0{width}d}"[-width:] + token[len(token) - KEPT_DIGITS :]


def variant(template: Template, n: int, remote: bool) -> Input:
    """Input number `n`, made from `template`: its tokens rewritten, its expectations adjusted."""
    text = template.data.decode("latin-1")  # byte for byte: ids are ASCII, the rest is kept
    tokens = template.tokens or _first_field(text)
    mapping = {t: rewrite(t, n, template.fixed_width) for t in tokens}
    # IDoc fields touch each other (MANDT, DOCNUM, SEGNUM in one run of digits): no boundaries.
    edge = ("", "") if template.fixed_width else (f"(?<!{WORD})", f"(?!{WORD})")
    pattern = re.compile(edge[0] + "(" + "|".join(map(re.escape, tokens)) + ")" + edge[1])
    found: set[str] = set()

    def swap(match: re.Match[str]) -> str:
        found.add(match.group(1))
        return mapping[match.group(1)]

    data = pattern.sub(swap, text).encode("latin-1") if tokens else template.data
    if template.outcome == "accepted" and data == template.data:
        raise AssertionError(f"{template.name}: nothing to vary, its copies would be duplicates")
    doc_ids = tuple(sorted(mapping[d] if d in found else d for d in template.doc_ids))
    return Input(f"h{n:05d}-{template.name}", data, template.outcome, doc_ids, remote)


def _first_field(text: str) -> tuple[str, ...]:
    """A file that gave no ids (an invalid CSV): its first data field varies instead."""
    lines = text.splitlines()
    field = re.match(r"[\w\-]+", lines[1]) if len(lines) > 1 else None
    return (field.group(0),) if field else ()


def inputs(templates: list[Template], count: int, remote_share: float) -> list[Input]:
    """`count` inputs cycling through the templates; every 1/remote_share-th comes over SFTP."""
    every = round(1 / remote_share) if remote_share else 0
    return [
        variant(templates[n % len(templates)], n, bool(every) and n % every == every - 1)
        for n in range(count)
    ]
