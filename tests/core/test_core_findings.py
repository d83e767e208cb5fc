"""The catalogue of finding codes: every code explained, built from the enum, written as text."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.errors import Finding
from gateway.explanations import EXPLANATIONS, close_matches
from gateway.findings import MERGED, Code
from tests.conftest import REPO, SAMPLES, run_cli

#: Calls that take a finding code, and the position of the code among their arguments.
CODE_ARGUMENT = {"Finding": 0, "reject": 1, "RuleBroken": 0}


class TestCatalogue:
    def test_every_code_has_a_one_line_meaning_and_remedy(self) -> None:
        """The explanations cover the enum exactly, each text a non-empty single line."""
        assert list(EXPLANATIONS) == list(Code)
        for code, text in EXPLANATIONS.items():
            for line in (text.meaning, text.remedy):
                assert line.strip() and "\n" not in line, code
                assert line.endswith("."), code

    def test_merged_names_read_back_as_the_kept_code(self) -> None:
        """An error.json written before the merge still loads, under the code kept."""
        assert Code("unrepresentable") is Code.NOT_REPRESENTABLE
        old = {"code": "invalid_date", "message": "is not a date YYYYMMDD", "location": {"line": 3}}
        assert Finding.from_dict(old).code is Code.BAD_DATE
        assert set(MERGED).isdisjoint(str(code) for code in Code)

    def test_values_are_the_names_users_read(self) -> None:
        """Each value is its member's name in lower case, so scripts can rely on the spelling."""
        assert all(code.value == code.name.lower() for code in Code)


class TestExplain:
    @pytest.mark.parametrize("code", list(Code))
    def test_each_code(self, code: Code, capsys: pytest.CaptureFixture[str]) -> None:
        """`explain CODE` prints the code, its meaning and its remedy, exit 0."""
        assert main(["explain", str(code)]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"{code}: {EXPLANATIONS[code].meaning}\n")
        assert EXPLANATIONS[code].remedy in out
        assert "\n  severity: " in out

    def test_severity_by_strictness(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Each code says which strictness levels make it a warning (README strictness table)."""
        for code, said in (
            ("wrapped_lines", "severity: error when strict; warning when standard or lenient"),
            ("too_long", "severity: error when strict or standard; warning when lenient"),
            ("wrong_count", "severity: error at every strictness"),
        ):
            assert main(["explain", code]) == 0
            assert said in capsys.readouterr().out

    def test_former_name(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A merged name is explained under the code that replaced it."""
        assert main(["explain", "unrepresentable"]) == 0
        out = capsys.readouterr().out
        assert "former name of not_representable" in out
        assert "not_representable: " in out

    def test_list(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without a code, every code is listed with its meaning."""
        assert main(["explain"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in lines] == [str(code) for code in Code]

    def test_unknown_code_exits_2_with_close_matches(self) -> None:
        """A misspelt code is a usage error naming the codes it resembles (a real process)."""
        result = run_cli("explain", "not_numerc")
        assert result.returncode == 2
        assert "'not_numerc' is not a finding code; did you mean: not_numeric" in result.stderr
        assert result.stdout == ""

    def test_close_matches(self) -> None:
        """Near misses find their code, former names included; nonsense finds nothing."""
        assert "unrepresentable" in close_matches("unrepresentible")
        assert close_matches("TOO_LONG ")[0] == "too_long"
        assert close_matches("zzzzzz") == []


def _code_literals(source: str) -> list[int]:
    """Lines of the finding-building calls in `source` whose code is a string literal."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in CODE_ARGUMENT:
            continue
        position = CODE_ARGUMENT[name]
        args = [*node.args[position : position + 1], *(k.value for k in node.keywords if k.arg == "code")]
        if any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            lines.append(node.lineno)
    return sorted(lines)


def test_no_finding_is_built_from_a_string_literal() -> None:
    """Every `Finding(`, `reject(` and `RuleBroken(` in gateway/ names its code through `Code`."""
    files = sorted((REPO / "gateway").rglob("*.py"))
    assert len(files) > 50
    hits = [
        f"{path.relative_to(REPO)}:{line}"
        for path in files
        for line in _code_literals(path.read_text(encoding="utf-8"))
    ]
    assert hits == []


def test_the_check_sees_a_literal() -> None:
    """The check above finds a literal code, positional or by keyword, and passes an enum."""
    probe = (
        'Finding("too_long", "x")\n'
        'errors.reject(K, "empty", "y")\n'
        'Finding(code="z", message="m")\n'
        'Finding(Code.TOO_LONG, "fine")\n'
    )
    assert _code_literals(probe) == [1, 2, 3]


def test_error_json_carries_the_code_as_text(tmp_path: Path) -> None:
    """A quarantined file's error.json names each code as a plain string (a real process)."""
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    shutil.copy(SAMPLES / "inbound" / "csv" / "broken-sales-order.csv", root / "inbound")
    result = run_cli("run", "--once", "--root", root)
    assert result.returncode == 0, result.stderr
    (report,) = (root / "quarantine").glob("*/error.json")
    text = report.read_text(encoding="utf-8")
    codes = [e["code"] for e in json.loads(text)["errors"]]
    assert '"code": "bad_date"' in text and "bad_date" in codes
    assert all(type(code) is str and Code(code) for code in codes)
