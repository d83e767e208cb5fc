"""End to end: a file with deviations is accepted with its warnings recorded everywhere under
`standard`, and the same file is quarantined under `strict` (by source or by partner)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
SAP = "sap-samples__ORDERS_D96A_EAN008_inbound.edi"
WRAPPED = REPO / "samples" / "strictness" / "orders-wrapped-80-columns.edi"

SOURCE = """
[[source]]
name = "retail"
path = "inbound"
side = "erp"
settle_seconds = 0.05
poll_seconds = 0.1
"""


def run_once(root: Path, extra: str, *files: Path) -> Path:
    config = root / "gateway.toml"
    config.write_text(SOURCE + extra)
    for path in files:
        shutil.copy(path, root / "inbound" / path.name)
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    return config


def test_warned_files_are_accepted_with_their_warnings_recorded(root: Path, corpus: Path) -> None:
    config = run_once(root, "", corpus / "edifact" / SAP, WRAPPED)
    assert not (root / "quarantine").exists() or not list((root / "quarantine").iterdir())
    outputs = sorted((root / "outbound" / "canonical").glob("*.jsonl"))
    warned = {}
    for path in outputs:
        (record,) = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        warned[record["doc_id"]] = [w["code"] for w in record["source"]["warnings"]]
    assert warned == {"5YGVX1VT": ["bad_character"], "PO-WRAP-1": ["wrapped_lines"]}
    status = run_cli("--config", config, "--root", root, "status", "--json")
    assert status.returncode == 0, status.stderr
    (source,) = json.loads(status.stdout)["sources"]
    assert source["files"] == {"accepted": 2}
    assert source["warnings"] == {"files": 2, "warnings": 2}
    text = run_cli("--config", config, "--root", root, "status")
    assert "2 accepted; 2 warning(s) in 2 file(s)" in text.stdout
    trace = run_cli("--config", config, "--root", root, "trace", SAP)
    assert trace.returncode == 0, trace.stderr
    assert (
        f"  {SAP}: segment 1 (UNB), element 2.1: warning: 'TP_UNEDIFACT_ID': character '_' is not"
        " allowed in UNOA (UNB 0001 UNOA character set)"
    ) in trace.stdout.splitlines()
    validate = run_cli("--config", config, "--root", root, "validate", "--json", WRAPPED)
    assert validate.returncode == 0
    (report,) = json.loads(validate.stdout)
    assert report["valid"] and [w["code"] for w in report["warnings"]] == ["wrapped_lines"]
    assert report["warnings"][0]["severity"] == "warning"


def test_the_same_files_are_quarantined_when_strict(root: Path, corpus: Path) -> None:
    """Strict by source for the wrapped file's sender, by partner for SAP's sample."""
    extra = 'strictness = "standard"\n\n[[partner]]\nid = "TP_UNEDIFACT_ID"\nstrictness = "strict"\n'
    config = run_once(root, extra, corpus / "edifact" / SAP)
    config.write_text(SOURCE + 'strictness = "strict"\n')
    shutil.copy(WRAPPED, root / "inbound" / WRAPPED.name)
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not list((root / "outbound" / "canonical").glob("*.jsonl"))
    errors = {}
    for folder in (root / "quarantine").iterdir():
        report = json.loads((folder / "error.json").read_text(encoding="utf-8"))
        errors[report["original_name"]] = [(e["code"], e["severity"]) for e in report["errors"]]
        assert report["warnings"] == []
    assert errors == {SAP: [("bad_character", "error")], WRAPPED.name: [("wrapped_lines", "error")]}
    status = json.loads(run_cli("--config", config, "--root", root, "status", "--json").stdout)
    assert status["sources"][0]["files"] == {"quarantined": 2}
    assert status["sources"][0]["warnings"] == {"files": 0, "warnings": 0}
