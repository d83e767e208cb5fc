"""States are typed: no state string is spelled outside gateway/ledger/states.py."""

from __future__ import annotations

import ast
import re

from gateway.ledger.states import BatchState, DeliveryState, FileState, ItemState, OutputState
from tests.conftest import REPO

STATES = {s.value for enum in (FileState, DeliveryState, OutputState, BatchState, ItemState) for s in enum}
#: Calls whose arguments are states: the ledger's readers by state, and any `state=` keyword.
STATE_READERS = {"files", "deliveries", "batches"}
#: A state spelled inside SQL: `state = 'accepted'`, `state IN ('claimed', ...)`.
SQL_STATE = re.compile(r"state\s*(?:=|!=|<>|IN\s*\()\s*'(\w+)'", re.IGNORECASE)


def _strings(node: ast.AST) -> list[ast.Constant]:
    """String constants of an operand, looking into tuple, list and set literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [c for element in node.elts for c in _strings(element)]
    return []


def state_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every state string used in a comparison, as a state argument, or in SQL."""
    found = []
    for node in ast.walk(ast.parse(source)):
        suspects: list[ast.Constant] = []
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                suspects.extend(_strings(operand))
        elif isinstance(node, ast.Call):
            suspects.extend(c for kw in node.keywords if kw.arg == "state" for c in _strings(kw.value))
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            if name in STATE_READERS:
                suspects.extend(c for arg in node.args for c in _strings(arg))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.extend((node.lineno, m) for m in SQL_STATE.findall(node.value) if m in STATES)
        found.extend((c.lineno, c.value) for c in suspects if c.value in STATES)
    return found


def test_the_checker_sees_each_kind_of_literal() -> None:
    sample = (
        "if row.state == 'accepted': pass\n"
        "x = state in ('claimed', other)\n"
        "ledger.files('processing')\n"
        "ledger.update(f, state='vanished')\n"
        "db.execute(\"SELECT 1 FROM files WHERE state = 'quarantined'\")\n"
        "Finding('duplicate', 'a finding code is not a state')\n"
    )
    assert state_literals(sample) == [
        (1, "accepted"), (2, "claimed"), (3, "processing"), (4, "vanished"), (5, "quarantined"),
    ]  # fmt: skip


def test_no_state_literal_outside_the_states_module() -> None:
    offenders = []
    for path in sorted((REPO / "gateway").rglob("*.py")):
        if path == REPO / "gateway" / "ledger" / "states.py":
            continue
        for line, text in state_literals(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(REPO)}:{line}: {text!r}")
    assert offenders == []


def test_stored_values_are_the_strings_older_ledgers_hold() -> None:
    assert [s.value for s in FileState] == [
        "claimed", "processing", "publishing", "accepted", "quarantined", "duplicate", "vanished",
        "retried", "discarded",
    ]  # fmt: skip
    assert [s.value for s in OutputState] == ["staging", "intent", "published"]
    assert [s.value for s in BatchState] == ["writing", "publishing", "published"]
    assert [s.value for s in ItemState] == ["staged", "pending", "batched", "refused"]
