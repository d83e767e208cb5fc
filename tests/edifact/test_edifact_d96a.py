"""D96A and D97A as the UN directories define them: the segment and table corrections, pinned."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers_edifact import records, validate

from gateway.config import Config

UNB = "UNB+UNOC:3+5412345000013:14+4012345000009:14+261126:1200+R1'\n"
VERSIONS = {"D96A": "D:96A:UN:EAN008", "D97A": "D:97A:UN:EAN008", "D01B": "D:01B:UN:EAN010"}


def _file(tmp_path: Path, kind: str, directory: str, body: list[str]) -> Path:
    segs = [f"UNH+1+{kind}:{VERSIONS[directory]}'", *body]
    text = UNB + "\n".join(segs) + f"\nUNT+{len(segs) + 1}+1'\nUNZ+1+R1'"
    path = tmp_path / f"{kind}_{directory}.edi"
    path.write_bytes(text.encode("latin-1"))
    return path


def _found(path: Path, config: Config) -> list[tuple[str, str | None]]:
    """(code, rule) of every schema finding (INVOIC has no mapping: that finding is left out)."""
    return [(f.code, f.rule) for f in validate(path, config).findings if f.code != "no_mapping"]


# The ORDERS header in D.96A order; a case adds segments after the one named.
HEADER = ["BGM+220+PO-7+9'", "DTM+137:20261126:102'", "NAD+BY+5412345000013::9'"]
LINE = ["LIN+1++4000862141404:EN'", "QTY+21:5'", "UNS+S'"]


@pytest.mark.parametrize(
    ("after", "extra", "rule"),
    [
        # PIA C212/7140 is conditional in D.96A (a code list reference alone is a valid PIA).
        ("LIN", ["PIA+5+:SA'"], None),
        # IMD element 2 is the simple element 7081 in D.96A (C272 came later); C273/7009 is an..17.
        ("DTM", ["IMD+F+8:ZZZ'"], ("unexpected_component", "IMD 7081 an..3")),
        ("DTM", ["IMD+F++ABCDEFGHIJ'"], None),
        # FTX C107/4441 is an..3 in D.96A (an..17 from D.97A on).
        ("DTM", ["FTX+AAI++ABCD'"], ("too_long", "FTX 4441 an..3")),
        # FII C078/3194 is an..35 (not an..17).
        ("NAD", ["FII+RB+123456789012345678901'"], None),
        # DOC C503/1366 is an..35 (not an..70).
        ("NAD", ["DOC+220+PO-1::" + "S" * 36 + "'"], ("too_long", "DOC 1366 an..35")),
        # TAX C243 has seven components (5273, 1131, 3055 after 5278).
        ("NAD", ["TAX+7+VAT+++:::19:S'"], None),
        # PAT C110/4277 and PAC C402/7064 (the first) are mandatory in their composites.
        ("NAD", ["PAT+1+:::Net 30'"], ("missing_component", "PAT 4277 an..17")),
        ("NAD", ["PAC+1+++35'"], ("missing_component", "PAC 7064 an..35")),
        # HAN C218/7419 is an..4 (not an..3).
        ("NAD", ["EQD+CN'", "HAN++ABCD'"], None),
    ],
)
def test_d96a_segment_definitions(
    tmp_path: Path,
    make_config: Callable[..., Config],
    after: str,
    extra: list[str],
    rule: tuple[str, str] | None,
) -> None:
    body = [*HEADER, *LINE]
    at = next(i for i, s in enumerate(body) if s.startswith(after)) + 1
    body[at:at] = extra
    found = _found(_file(tmp_path, "ORDERS", "D96A", body), make_config())
    assert found == ([] if rule is None else [(rule[0], f"schema edifact/ORDERS_D96A, {rule[1]}")])
