"""What must hold after the crash harness, checked against the ledger (read-only) and the folders.

Each check returns a list of problems, one line each, so a failing run shows every broken
invariant at once rather than the first. The ledger is read with plain SQL on its tables
(`files`, `outputs`, `deliveries`): the harness stays outside the gateway's code.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.crash.actors import Read, is_temporary
from tests.crash.corpus import Input, read_only


@dataclass(frozen=True)
class FileEntry:
    """One row of the ledger's `files` table, as far as the checks need it."""

    file_id: str
    name: str
    source: str
    state: str
    sha256: str | None


@dataclass
class Snapshot:
    """The ledger's rows and the target folders' files at the end of a run."""

    files: list[FileEntry]
    outputs: list[tuple[str, str, str, str]]  # file_id, target, path, state
    deliveries: list[tuple[str, str, str]]  # file_id, target, state

    @classmethod
    def of(cls, db: Path) -> Snapshot:
        with read_only(db) as conn:
            files = [FileEntry(*row) for row in conn.execute(
                "SELECT file_id, original_name, source, state, sha256 FROM files")]  # fmt: skip
            outputs = list(conn.execute("SELECT file_id, target, path, state FROM outputs"))
            deliveries = list(conn.execute("SELECT file_id, target, state FROM deliveries"))
        return cls(files, outputs, deliveries)


def finished(db: Path) -> int:
    """How many files have an outcome (of any kind) so far, while the service may be running."""
    if not db.exists():
        return 0
    with read_only(db) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'files'").fetchone():
            return 0  # the first service is still creating its ledger
        unfinished = "('claimed', 'processing', 'publishing')"
        (count,) = conn.execute(f"SELECT count(*) FROM files WHERE state NOT IN {unfinished}").fetchone()
    return int(count)


def outcomes(inputs: list[Input], snap: Snapshot) -> list[str]:
    """Every input has exactly one ledger row, in the outcome its content calls for."""
    rows: dict[str, list[FileEntry]] = {}
    for entry in snap.files:
        rows.setdefault(entry.name, []).append(entry)
    unknown = sorted(set(rows) - {i.name for i in inputs})
    problems = [f"{name}: in the ledger but never dropped" for name in unknown]
    for item in inputs:
        found = rows.get(item.name, [])
        states = [f"{e.file_id}:{e.state}" for e in found]
        if len(found) != 1 or found[0].state != item.outcome:
            problems.append(f"{item.name}: expected one row {item.outcome}, ledger has {states}")
        elif found[0].sha256 != hashlib.sha256(item.data).hexdigest():
            problems.append(f"{item.name}: the ledger's sha256 is not the content dropped")
    return problems


def originals(inputs: list[Input], snap: Snapshot, root: Path) -> list[str]:
    """An accepted original is archived, a quarantined one kept with its report; both intact."""
    ids = {f.name: f.file_id for f in snap.files}
    archived = {p.name: p for p in (root / "archive").glob("*/*")}
    problems = []
    for item in inputs:
        file_id = ids.get(item.name)
        if file_id is None:
            continue  # reported by outcomes()
        if item.outcome == "quarantined":
            case = root / "quarantine" / file_id
            kept = case / item.name
            if not kept.is_file() or kept.read_bytes() != item.data:
                problems.append(f"{item.name}: original not kept intact in quarantine/{file_id}/")
            elif json.loads((case / "error.json").read_text())["file_id"] != file_id:
                problems.append(f"{item.name}: quarantine/{file_id}/error.json names another file")
        else:
            path = archived.get(f"{file_id}.{item.name}")
            if path is None or path.read_bytes() != item.data:
                problems.append(f"{item.name}: original not archived intact as {file_id}.{item.name}")
    return problems


def published(inputs: list[Input], snap: Snapshot, reads: list[Read], folders: dict[str, Path]) -> list[str]:
    """Per target: what the consumer read plus what is left holds every accepted input's
    documents once (by document id and file id, inside the outputs), and nothing else."""
    ids = {f.name: f.file_id for f in snap.files}
    problems = []
    for target, folder in folders.items():
        seen = [(r.name, r.records) for r in reads if r.target == target]
        for name in sorted(os.listdir(folder)):
            if is_temporary(name):
                problems.append(f"{target}: temporary file {name} left in the target folder")
                continue
            lines = (folder / name).read_text(encoding="utf-8").splitlines()
            seen.append((name, tuple(json.loads(line) for line in lines)))
        twice = [name for name, n in Counter(name for name, _ in seen).items() if n > 1]
        problems.extend(f"{target}: {name} published more than once" for name in sorted(twice))
        docs: dict[str, list[str]] = {}
        for name, records in seen:
            for record in records:
                source = record["source"]
                assert isinstance(source, dict)
                file_name, file_id = str(source["file_name"]), str(source["file_id"])
                docs.setdefault(file_name, []).append(str(record["doc_id"]))
                if file_id != ids.get(file_name) or file_id not in name:
                    problems.append(f"{target}: {name} holds a record of file {file_id}, not the ledger's")
        for item in inputs:
            expected = list(item.doc_ids) if item.outcome == "accepted" else []
            got = sorted(docs.pop(item.name, []))
            if got != expected:
                problems.append(f"{target}: {item.name} expected documents {expected}, outputs hold {got}")
        problems.extend(f"{target}: documents of unknown input {name}" for name in sorted(docs))
    return problems


def ledger_agrees(
    inputs: list[Input], snap: Snapshot, reads: list[Read], folders: dict[str, Path]
) -> list[str]:
    """Every output row is published and its file was read or is still there, and every file
    seen has its row; every accepted input has each target's delivery published."""
    problems = []
    on_disk = {(t, n) for t, folder in folders.items() for n in os.listdir(folder) if not is_temporary(n)}
    seen = on_disk | {(r.target, r.name) for r in reads}
    rows = set()
    for file_id, target, path, state in snap.outputs:
        name = path.rsplit("/", 1)[-1]
        rows.add((target, name))
        if state != "published":
            problems.append(f"{target}: output {name} of {file_id} left {state}")
        elif (target, name) not in seen:
            problems.append(f"{target}: ledger says {name} published, but nobody read it and it is not there")
    problems.extend(
        f"{t}: {n} is in the folder or was read, with no ledger row" for t, n in sorted(seen - rows)
    )
    names = {i.name for i in inputs}
    accepted = [f.file_id for f in snap.files if f.state == "accepted" and f.name in names]
    delivered = {(fid, t) for fid, t, state in snap.deliveries if state == "published"}
    for file_id in accepted:
        problems.extend(
            f"{file_id}: delivery to {t} not published" for t in folders if (file_id, t) not in delivered
        )
    return problems


def logged_errors(logs: Path) -> list[str]:
    """No run of the service logged an error or a traceback, however it was stopped."""
    problems = []
    for path in sorted(logs.iterdir()):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("{") and line.endswith("}"):
                event = json.loads(line)
                if event.get("level") in ("error", "critical"):
                    problems.append(f"{path.name}: {line[:300]}")
            elif "Traceback" in line:
                problems.append(f"{path.name}: a traceback outside the JSON log")
    return problems


def leftovers(folders: list[Path]) -> list[str]:
    """Nothing waits in the inbound folders or in work/ (its empty subfolders aside)."""
    paths = [path for folder in folders for path in sorted(folder.rglob("*"))]
    return [f"left behind: {path}" for path in paths if not path.is_dir()]
