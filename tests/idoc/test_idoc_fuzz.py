"""Mutated IDocs never crash a reader: every outcome is records or located findings."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_idoc import SAMPLES, read

from gateway.config import Config

ROUNDS = 60
ALPHABET = "0123456789 ABCXYZ-./<>&;\"'=\t"


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(5)
        at = rng.randrange(len(lines))
        if kind == 0 and lines[at]:
            pos = rng.randrange(len(lines[at]))
            lines[at] = (
                lines[at][:pos] + "".join(rng.choices(ALPHABET, k=rng.randint(1, 8))) + lines[at][pos + 8 :]
            )
        elif kind == 1 and len(lines) > 1:
            del lines[at]
        elif kind == 2:
            lines.insert(rng.randrange(len(lines)), lines[at])
        elif kind == 3:
            lines[at] = lines[at][: rng.randrange(len(lines[at]) + 1)]
        else:
            lines[at], lines[-1] = lines[-1], lines[at]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "name",
    [
        "orders05-purchase-order.idoc",
        "delvry07-delivery-hu-batches.idoc",
        "orders05-extension-namespaced.xml",
    ],
)
def test_mutations_give_findings_not_crashes(
    name: str, tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    rng = random.Random(f"idoc-{name}")
    text = (SAMPLES / name).read_text(encoding="utf-8")
    outcomes = set()
    for n in range(ROUNDS):
        path = tmp_path / f"m{n}{Path(name).suffix}"
        path.write_text(mutate(text, rng), encoding="utf-8")
        records, report = read(path, make_config)
        codes = {f.code for f in report.findings}
        assert "internal_error" not in codes, [f.message for f in report.findings]
        assert records or report.findings, "a mutated file must give records or findings"
        outcomes.add("valid" if report.valid else "invalid")
    assert "invalid" in outcomes
