"""The operator's command line: version, help, where the configuration comes from, `status`
of a running service, quarantine filters, bulk discard, progress bars, retention."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import struct
import subprocess
import sys
import termios
import threading
from importlib.metadata import version
from pathlib import Path

import pytest

from gateway.cli import main as cli_main
from gateway.config import load
from gateway.ledger.sqlite import SqliteLedger
from gateway.metrics import exposition
from tests.conftest import REPO, run_cli
from tests.ops.conftest import Start
from tests.ops.helpers_ops import stop
from tests.waiting import wait_for_final, wait_until

BAD_CSV = "adjustment_id,sku,mode,quantity_change\nADJ-{n},SKU-1,delta,lots\n"
GOOD_CSV = "adjustment_id,sku,mode,quantity_change\nADJ-{n},SKU-1,delta,3\n"
ORDER = (
    "UNA:+.? '\nUNB+UNOC:3+5412345000013:14+4012345000009:14+261126:1200+REF7'\n"
    "UNH+1+ORDERS:D:96A:UN:EAN008'\nBGM+220+PO-1001+9'\nDTM+137:20261126:102'\n"
    "NAD+BY+5412345000013::9'\nLIN+1++4000862141404:EN'\nQTY+21:x:PCE'\nUNS+S'\nUNT+8+1'\nUNZ+1+REF7'\n"
)
TWO_SOURCES = """
[[source]]
name = "wms"
path = "inbound"
settle_seconds = 0.05
poll_seconds = 0.2

[[source]]
name = "retailer"
path = "inbound/retailer"
settle_seconds = 0.05
poll_seconds = 0.2
"""


def _subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    """Every command and action with its help page."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[(*prefix, name)] = sub.format_help()
                found.update(_subcommands(sub, (*prefix, name)))
    return found


def test_every_command_has_a_description_and_the_version_answers() -> None:
    pages = _subcommands(cli_main.build_parser())
    assert {("quarantine", "discard"), ("config", "schema"), ("status",), ("run",)} <= set(pages)
    for command, page in pages.items():
        # The description is the paragraph after the usage lines.
        paragraphs = page.split("\n\n")
        assert len(paragraphs) > 1 and paragraphs[1].strip() and not paragraphs[1].startswith(
            ("positional", "options")), command  # fmt: skip
    helped = run_cli("quarantine", "list", "--help")
    assert "--older-than AGE" in helped.stdout and "the cases waiting in quarantine" in helped.stdout
    versioned = run_cli("--version")
    assert versioned.stdout.strip() == f"gateway {version('gateway')}"


def test_the_configuration_comes_from_the_option_the_variable_or_the_system_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "named.toml"
    named.write_text('[[source]]\nname = "from-variable"\n')
    env = {**os.environ, "GATEWAY_CONFIG": str(named)}
    checked = subprocess.run(
        [sys.executable, "-m", "gateway", "--root", str(tmp_path), "config", "check"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False, timeout=120,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"{named}: ok: 1 source(s)")

    system = tmp_path / "etc" / "gateway.toml"
    system.parent.mkdir()
    system.write_text('[[source]]\nname = "a"\n[[source]]\nname = "b"\n')
    monkeypatch.setattr(cli_main, "SYSTEM_CONFIG", system)
    monkeypatch.delenv("GATEWAY_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    args = cli_main.build_parser().parse_args(["--root", str(tmp_path), "config", "check"])
    assert cli_main.load_config(args).file_path == system
    assert len(cli_main.load_config(args).sources) == 2


def test_status_tells_no_ledger_a_running_service_and_a_stopped_one(
    tmp_path: Path, start: Start
) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text('[[source]]\nname = "inbound"\nsettle_seconds = 0.05\npoll_seconds = 0.2\n')
    empty = run_cli("--config", config, "--root", root, "status")
    assert "ledger: none yet: no gateway has run on this root" in empty.stdout
    empty_json = run_cli("--config", config, "--root", root, "status", "--json")
    assert json.loads(empty_json.stdout)["ledger"] is None

    proc = start(config, root)

    def running() -> dict[str, object] | None:
        status = run_cli("--config", config, "--root", root, "status", "--json")
        service = json.loads(status.stdout)["service"]
        return service if service["running"] and service["heartbeat_age_seconds"] is not None else None

    service = wait_until(running, what="status to see the service")
    assert service["pid"] == str(proc.pid)
    assert float(service["heartbeat_age_seconds"]) < 60  # type: ignore[arg-type]
    text = run_cli("--config", config, "--root", root, "status").stdout
    assert f"service: running, pid {proc.pid} on" in text and "heartbeat" in text
    assert "target canonical (jsonl): ok; 0 pending; last published never" in text

    assert stop(proc) == 0
    stopped = run_cli("--config", config, "--root", root, "status").stdout
    assert "service: NOT RUNNING (stopped at" in stopped


@pytest.fixture(name="cases")
def _cases(tmp_path: Path) -> tuple[Path, Path]:
    """A root with three quarantined files: two CSVs from the WMS, an ORDERS from a retailer."""
    root = tmp_path / "root"
    (root / "inbound" / "retailer").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text(TWO_SOURCES)
    for n in (1, 2):
        (root / "inbound" / f"bad-{n}.csv").write_text(BAD_CSV.format(n=n))
    (root / "inbound" / "retailer" / "order.edi").write_text(ORDER, encoding="latin-1")
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stderr
    return root, config


def _listed(root: Path, config: Path, *filters: str) -> list[str]:
    out = run_cli("--config", config, "--root", root, "quarantine", "list", "--json", *filters)
    assert out.returncode == 0, out.stderr
    return sorted(e["name"] for e in json.loads(out.stdout))


def test_quarantine_list_filters(cases: tuple[Path, Path]) -> None:
    root, config = cases
    assert _listed(root, config) == ["bad-1.csv", "bad-2.csv", "order.edi"]
    assert _listed(root, config, "--source", "retailer") == ["order.edi"]
    assert _listed(root, config, "--partner", "5412345000013") == ["order.edi"]
    assert _listed(root, config, "--key", "REF7") == ["order.edi"]
    assert _listed(root, config, "--code", "not_numeric", "--source", "wms") == ["bad-1.csv",
                                                                                "bad-2.csv"]  # fmt: skip
    assert _listed(root, config, "--stage", "validate", "--older-than", "0s") == ["bad-1.csv", "bad-2.csv",
                                                                                 "order.edi"]  # fmt: skip
    assert _listed(root, config, "--older-than", "1d") == []
    (entry,) = json.loads(run_cli("--config", config, "--root", root, "quarantine", "list", "--json",
                                  "--source", "retailer").stdout)  # fmt: skip
    assert entry["partners"] == ["5412345000013"] and ["unb", "5412345000013:REF7"] in entry["keys"]
    assert entry["age_seconds"] >= 0 and entry["codes"]
    text = run_cli("--config", config, "--root", root, "quarantine", "list", "--source", "retailer").stdout
    assert "order.edi" in text and "unb=5412345000013:REF7" in text
    # trace finds the quarantined order by its interchange's business key.
    assert "order.edi" in run_cli("--config", config, "--root", root, "trace", "5412345000013:REF7").stdout
    bad = run_cli("--config", config, "--root", root, "quarantine", "list", "--older-than", "soon")
    assert bad.returncode == 2 and "expected an age such as 30m" in bad.stderr
    # A retry by filter takes the matching cases only (still invalid: quarantined again, exit 1).
    retried = run_cli("--config", config, "--root", root, "quarantine", "retry", "--partner", "5412345000013")
    assert retried.returncode == 1
    assert retried.stdout.count("retried as") == 1 and "quarantined" in retried.stdout
    assert _listed(root, config) == ["bad-1.csv", "bad-2.csv", "order.edi"]


def test_bulk_discard_by_filter_with_a_dry_run(cases: tuple[Path, Path]) -> None:
    root, config = cases
    nothing = run_cli("--config", config, "--root", root, "quarantine", "discard", "--reason", "x")
    assert nothing.returncode == 2
    dry = run_cli("--config", config, "--root", root, "quarantine", "discard", "--source", "wms",
                  "--reason", "test feed", "--dry-run")  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.count("would be discarded (test feed)") == 2
    assert _listed(root, config) == ["bad-1.csv", "bad-2.csv", "order.edi"]
    done = run_cli("--config", config, "--root", root, "quarantine", "discard", "--source", "wms",
                   "--reason", "test feed")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": discarded") == 2
    assert "discarding" not in done.stderr  # no progress bar without a terminal
    assert _listed(root, config) == ["order.edi"]
    ledger = SqliteLedger(root / "gateway.db")
    try:
        states = {r.original_name: (r.state, r.detail) for r in ledger.files()}
    finally:
        ledger.close()
    assert states["bad-1.csv"] == ("discarded", "test feed")
    assert states["order.edi"][0] == "quarantined"


def test_a_bulk_action_on_a_terminal_draws_a_progress_bar(cases: tuple[Path, Path]) -> None:
    root, config = cases
    main_end, tty_end = os.openpty()
    # A new terminal is 0 columns wide, where a bar has no room: give it an ordinary size.
    fcntl.ioctl(tty_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    drawn: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(main_end, 4096)
            except OSError:  # the terminal's other end closed: everything was read
                return
            if not chunk:
                return
            drawn.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gateway", "--config", str(config), "--root", str(root), "quarantine",
             "discard", "--all", "--reason", "cleanup"],
            stdout=subprocess.PIPE, stderr=tty_end, text=True, cwd=REPO, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(tty_end)
        reader.join(timeout=30)
        os.close(main_end)
    assert proc.returncode == 0
    assert proc.stdout.count(": discarded") == 3
    assert b"discarding:   0%" in b"".join(drawn) and b"/3 [" in b"".join(drawn)


def test_retention_prunes_the_archive_and_history_but_never_the_quarantine(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    config = tmp_path / "gateway.toml"
    config.write_text('retention_days = 30\n[[source]]\nname = "inbound"\nsettle_seconds = 0.05\n')
    (root / "inbound" / "old.csv").write_text(GOOD_CSV.format(n=1))
    (root / "inbound" / "old-bad.csv").write_text(BAD_CSV.format(n=2))
    assert run_cli("--config", config, "--root", root, "run", "--once").returncode == 0
    # Age everything by a year, as if the service had run back then.
    ledger = SqliteLedger(root / "gateway.db")
    ledger.db.execute("UPDATE files SET received_at = '2025-01-01T00:00:00+00:00',"
                      " updated_at = '2025-01-01T00:00:00+00:00'")  # fmt: skip
    ledger.close()
    old_day = root / "archive" / "2025-01-01"
    old_day.mkdir(parents=True)
    (old_day / "x.old.csv").write_text("kept a year")
    (root / "inbound" / "new.csv").write_text(GOOD_CSV.format(n=3))
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stderr
    assert not old_day.exists()
    assert "quarantine_kept" in done.stdout
    wait_for_final(root / "gateway.db", ["new.csv"])
    ledger = SqliteLedger(root / "gateway.db")
    try:
        names = {r.original_name: r.state for r in ledger.files()}
        body, _ = exposition(load(config, root), ledger)
    finally:
        ledger.close()
    assert names == {"old-bad.csv": "quarantined", "new.csv": "accepted"}
    assert len(list((root / "quarantine").iterdir())) == 1
    # The forgotten file still counts.
    assert 'gateway_files_total{format="csv",outcome="accepted",source="inbound"} 2.0' in body.decode()
