"""CONTRL end to end: a partner's source with `acknowledge_to` gets an answer for every file."""

from __future__ import annotations

from pathlib import Path

from helpers_edifact import ORDER, RETAILER_SOURCE

from gateway.formats.edifact.syntax import Scanner
from tests.conftest import run_cli

CONFIG = RETAILER_SOURCE + """acknowledge_to = "retailer-contrl"

[[target]]
name = "retailer-contrl"
format = "edifact_contrl"
deliver = "local:outbound/contrl"
"""


def _uci(path: Path) -> list[object]:
    segs = {s.tag: [s.tag, *s.elements] for s in Scanner([path.read_text(encoding="latin-1")])}
    return segs["UCI"]


def test_accepted_and_rejected_files_are_answered(root: Path) -> None:
    config = root / "gateway.toml"
    config.write_text(CONFIG)
    (root / "inbound" / "good.edi").write_bytes(ORDER.encode("latin-1"))
    bad = ORDER.replace("REF1", "REF2").replace("QTY+21:12", "QTY+21:x")
    (root / "inbound" / "bad.edi").write_bytes(bad.encode("latin-1"))
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    answers = {p.name.split(".")[0]: p for p in (root / "outbound" / "contrl").glob("*.contrl.edi")}
    assert sorted(answers) == ["bad", "good"]
    assert _uci(answers["good"])[1::3] == ["REF1", "7"]
    assert _uci(answers["bad"])[1::3] == ["REF2", "4"]
    assert "UCS+7'\nUCD+37+1:2'" in answers["bad"].read_text(encoding="latin-1")
    assert len(list((root / "quarantine").iterdir())) == 1
    assert len(list((root / "outbound" / "canonical").glob("*.jsonl"))) == 1


def test_acknowledge_to_must_name_a_target(root: Path) -> None:
    config = root / "gateway.toml"
    config.write_text(CONFIG.replace('acknowledge_to = "retailer-contrl"', 'acknowledge_to = "nobody"'))
    checked = run_cli("--config", config, "--root", root, "config", "check")
    assert checked.returncode == 78
    assert "acknowledge_to: no target named 'nobody'" in checked.stdout + checked.stderr


def test_a_rejection_is_answered_once_across_a_crash(root: Path) -> None:
    """The answer went out, the partner took it, then the gateway died before recording the
    quarantine: the second attempt quarantines the file again and sends nothing new."""
    import shutil

    from gateway.ledger.sqlite import SqliteLedger
    from gateway.ledger.states import FileState

    config = root / "gateway.toml"
    config.write_text(CONFIG)
    bad = ORDER.replace("QTY+21:12", "QTY+21:x")
    (root / "inbound" / "bad.edi").write_bytes(bad.encode("latin-1"))
    assert run_cli("--config", config, "--root", root, "run", "--once").returncode == 0
    (answer,) = (root / "outbound" / "contrl").iterdir()
    answer.unlink()  # the partner's system picked it up
    ledger = SqliteLedger(root / "gateway.db")
    (row,) = ledger.files()
    folder = root / "quarantine" / row.file_id
    work = root / "work" / f"{row.file_id}.bad.edi"
    (folder / "bad.edi").rename(work)
    shutil.rmtree(folder)
    # Rewound to a crash between the answer and the quarantine.
    ledger.db.execute(
        "UPDATE files SET state = ?, work_path = ? WHERE file_id = ?",
        (FileState.PROCESSING, str(work), row.file_id),
    )
    ledger.close()
    again = run_cli("--config", config, "--root", root, "run", "--once")
    assert again.returncode == 0, again.stdout + again.stderr
    assert list((root / "outbound" / "contrl").iterdir()) == []
    assert len(list((root / "quarantine").iterdir())) == 1
    ledger = SqliteLedger(root / "gateway.db")
    assert [o.state for o in ledger.outputs(row.file_id)] == ["published"]
    ledger.close()
