"""The command line as a real process: contract commands, global options, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli

CSV = SAMPLES / "inbound" / "csv"


@pytest.fixture(name="ran")
def _ran(tmp_path: Path) -> Path:
    """A root where `run --once` has processed one good and one bad file."""
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    shutil.copy(CSV / "sales-orders.csv", root / "inbound")
    shutil.copy(CSV / "broken-adjustment.csv", root / "inbound")
    result = run_cli("run", "--once", "--root", root)
    assert result.returncode == 0, result.stderr
    return root


class TestValidate:
    def test_valid_and_invalid_files(self) -> None:
        result = run_cli("validate", CSV / "products.csv", CSV / "broken-adjustment.csv")
        assert result.returncode == 1
        lines = result.stdout.splitlines()
        assert lines[0].endswith("products.csv: ok (csv, utf-8, 3 document(s))")
        assert any("broken-adjustment.csv: line 4: has 7 fields" in line for line in lines)

    def test_json(self) -> None:
        result = run_cli("validate", "--json", CSV / "broken-sales-order.csv")
        (report,) = json.loads(result.stdout)
        assert report["valid"] is False
        assert report["stage"] == "validate"
        assert {"code": "bad_date", "line": 2} in [
            {"code": e["code"], "line": e["location"].get("line")} for e in report["errors"]
        ]

    def test_all_good(self) -> None:
        assert run_cli("validate", CSV / "transfers.csv").returncode == 0

    def test_missing_file(self, tmp_path: Path) -> None:
        result = run_cli("validate", tmp_path / "nope.csv")
        assert result.returncode == 1
        assert "cannot read the file" in result.stdout


class TestConvert:
    def test_canonical_json_lines_on_stdout(self) -> None:
        result = run_cli("convert", CSV / "customers-windows1252.csv")
        assert result.returncode == 0, result.stderr
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert [r["customer_id"] for r in records] == ["C-1001", "C-1002"]
        assert records[1]["name"] == "Café Noël SARL"

    def test_target_files_into_a_folder(self, tmp_path: Path) -> None:
        result = run_cli("convert", CSV / "receipts.csv", "--target", "canonical", "--out", tmp_path)
        assert result.returncode == 0, result.stderr
        (out,) = tmp_path.iterdir()
        assert out.suffix == ".jsonl"
        assert json.loads(out.read_text())["receipt_id"] == "RCV-3001"

    def test_invalid_input_exits_1_and_writes_nothing(self, tmp_path: Path) -> None:
        result = run_cli(
            "convert", CSV / "broken-unterminated.csv", "--target", "canonical", "--out", tmp_path
        )
        assert result.returncode == 1
        assert "never closed" in result.stderr
        assert list(tmp_path.iterdir()) == []

    def test_unknown_target_is_a_config_error(self) -> None:
        assert run_cli("convert", CSV / "receipts.csv", "--target", "nope").returncode == 78


class TestOperations:
    def test_status(self, ran: Path) -> None:
        result = run_cli("status", "--json", "--root", ran)
        data = json.loads(result.stdout)
        (source,) = data["sources"]
        assert source["reachable"] is True
        assert source["files"] == {"accepted": 1, "quarantined": 1}
        assert data["quarantine"] == 1
        assert "broken-adjustment.csv" in data["last_errors"][0]["error"]
        text = run_cli("--root", ran, "status").stdout
        assert "quarantine: 1 file(s)" in text

    @pytest.mark.parametrize("query", ["sales-orders.csv", "SO-5002"])
    def test_trace_by_name_and_business_key(self, ran: Path, query: str) -> None:
        result = run_cli("trace", query, "--root", ran)
        assert result.returncode == 0
        for event in (
            "file_claimed",
            "state_processing",
            "state_publishing",
            "output_published",
            "state_accepted",
        ):
            assert event in result.stdout
        assert "keys: sales_order=SO-5001, sales_order=SO-5002" in result.stdout

    def test_trace_nothing(self, ran: Path) -> None:
        assert run_cli("trace", "nothing-like-this", "--root", ran).returncode == 1

    def test_quarantine_list_show_retry_discard(self, ran: Path) -> None:
        listed = json.loads(run_cli("quarantine", "list", "--json", "--root", ran).stdout)
        (entry,) = listed
        shown = json.loads(run_cli("quarantine", "show", entry["file_id"], "--root", ran).stdout)
        assert shown["original_name"] == "broken-adjustment.csv"
        retried = run_cli("quarantine", "retry", entry["file_id"], "--root", ran)
        assert retried.returncode == 1  # still broken: quarantined again, as a new attempt
        assert "quarantined" in retried.stdout
        (again,) = json.loads(run_cli("quarantine", "list", "--json", "--root", ran).stdout)
        assert again["file_id"] != entry["file_id"]
        assert run_cli("quarantine", "discard", again["file_id"], "--root", ran).returncode == 2
        done = run_cli("quarantine", "discard", again["file_id"], "--reason", "obsolete", "--root", ran)
        assert done.returncode == 0
        assert json.loads(run_cli("quarantine", "list", "--json", "--root", ran).stdout) == []
        assert run_cli("quarantine", "retry", "--root", ran).returncode == 2


class TestGlobalOptions:
    def test_options_before_or_after_the_command(self, ran: Path) -> None:
        before = run_cli("--root", ran, "status", "--json").stdout
        after = run_cli("status", "--json", "--root", ran).stdout
        assert json.loads(before) == json.loads(after)

    def test_usage_error_exits_2(self) -> None:
        assert run_cli("frobnicate").returncode == 2

    def test_python_dash_m_and_help(self) -> None:
        result = run_cli("--help")
        assert result.returncode == 0
        for command in ("run", "validate", "convert", "quarantine", "status", "trace", "bench", "config"):
            assert command in result.stdout
