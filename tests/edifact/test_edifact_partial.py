"""Partial acceptance: valid messages go through, invalid ones are quarantined as their own file."""

from __future__ import annotations

import json
from pathlib import Path

from helpers_edifact import ORDER, RETAILER_SOURCE

from tests.conftest import run_cli

CONFIG = RETAILER_SOURCE + """edifact_partial = true
"""


def _two_messages(bad: bool) -> str:
    first = ORDER[ORDER.index("UNH") : ORDER.index("UNZ")]
    second = first.replace("UNH+1+", "UNH+2+").replace("UNT+10+1", "UNT+10+2").replace("PO-1001", "PO-1002")
    if bad:
        second = second.replace("QTY+21:12", "QTY+21:abc")
    head = ORDER[: ORDER.index("UNH")]
    return head + first + second + "UNZ+2+REF1'\n"


def test_valid_messages_accepted_invalid_one_quarantined(root: Path) -> None:
    config = root / "gateway.toml"
    config.write_text(CONFIG)
    (root / "inbound" / "orders.edi").write_bytes(_two_messages(bad=True).encode("latin-1"))
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    (jsonl,) = (root / "outbound" / "canonical").glob("*.jsonl")
    docs = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [d["doc_id"] for d in docs] == ["PO-1001"]
    (folder,) = (root / "quarantine").iterdir()
    part = folder / "orders.rejected-1.edi"
    text = part.read_text(encoding="latin-1")
    assert "PO-1002" in text and "PO-1001" not in text and text.rstrip().endswith("UNZ+1+REF1'")
    error = json.loads((folder / "error.json").read_text())
    assert [(e["code"], e["location"]) for e in error["errors"]] == [
        ("not_numeric", {"segment": "QTY", "segment_index": 9, "element": 1, "component": 2})
    ]
    # The part is a file of its own: validating it again gives the same finding at the same place.
    checked = run_cli("validate", "--root", root, "--json", part)
    assert checked.returncode == 1
    assert json.loads(checked.stdout)[0]["errors"] == error["errors"]


def test_without_the_option_the_whole_file_is_quarantined(root: Path) -> None:
    config = root / "gateway.toml"
    config.write_text(CONFIG.replace("edifact_partial = true", ""))
    (root / "inbound" / "orders.edi").write_bytes(_two_messages(bad=True).encode("latin-1"))
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    (folder,) = (root / "quarantine").iterdir()
    assert (folder / "orders.edi").exists()
    assert not list((root / "outbound" / "canonical").glob("*.jsonl"))


def test_all_valid_with_the_option(root: Path) -> None:
    config = root / "gateway.toml"
    config.write_text(CONFIG)
    (root / "inbound" / "orders.edi").write_bytes(_two_messages(bad=False).encode("latin-1"))
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    (jsonl,) = (root / "outbound" / "canonical").glob("*.jsonl")
    assert len(jsonl.read_text().splitlines()) == 2
    assert not (root / "quarantine").exists() or not list((root / "quarantine").iterdir())


def test_partial_acceptance_is_acknowledged_per_message(root: Path) -> None:
    config = root / "gateway.toml"
    config.write_text(
        CONFIG.replace("edifact_partial = true", 'edifact_partial = true\nacknowledge_to = "contrl"')
        + '\n[[target]]\nname = "contrl"\nformat = "edifact_contrl"\n'
    )
    (root / "inbound" / "orders.edi").write_bytes(_two_messages(bad=True).encode("latin-1"))
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    (answer,) = (root / "outbound" / "contrl").glob("*.contrl.edi")
    text = answer.read_text(encoding="latin-1")
    assert "UCI+REF1+5412345000013:14+4012345000009:14+7'" in text
    assert "UCM+1+ORDERS:D:96A:UN:EAN008+7'" in text
    assert "UCM+2+ORDERS:D:96A:UN:EAN008+4+37'\nUCS+7'\nUCD+37+1:2'" in text
