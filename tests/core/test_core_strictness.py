"""Severity by code and strictness; where strictness is configured; where warnings are kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway import config
from gateway.canonical.build import record_from_dict
from gateway.errors import ConfigError, Finding
from gateway.findings import LENIENT, TOLERATED, Code, Severity, Strictness, severity
from gateway.formats.base import Inbound, ReadContext
from gateway.ledger.protocol import Commit
from gateway.ledger.schema import VERSION
from gateway.ledger.sqlite import SqliteLedger
from tests.conftest import run_cli

E, W = Severity.ERROR, Severity.WARNING


class TestSeverity:
    @pytest.mark.parametrize("code", list(Code))
    def test_every_code_has_a_severity_at_every_level(self, code: Code) -> None:
        levels = {level: severity(code, level) for level in Strictness}
        if code in TOLERATED:
            assert levels == {Strictness.STRICT: E, Strictness.STANDARD: W, Strictness.LENIENT: W}
        elif code in LENIENT:
            assert levels == {Strictness.STRICT: E, Strictness.STANDARD: E, Strictness.LENIENT: W}
        else:
            assert set(levels.values()) == {E}, "every other code blocks its file at every level"

    def test_counts_references_and_unreadable_values_are_never_warnings(self) -> None:
        always = [Code.WRONG_COUNT, Code.WRONG_REFERENCE, Code.MISSING_UNZ, Code.MISSING_UNT,
                  Code.BAD_CONTROL_REF, Code.UNDECODABLE, Code.NOT_NUMERIC, Code.BAD_CHECK_DIGIT,
                  Code.BAD_PARENT, Code.DOCNUM_MISMATCH]  # fmt: skip
        for code in always:
            assert {severity(code, level) for level in Strictness} == {E}, code

    def test_each_downgraded_code_has_its_reason(self) -> None:
        assert not set(TOLERATED) & set(LENIENT)
        assert all(TOLERATED.values()) and all(LENIENT.values())

    def test_a_finding_keeps_its_severity_through_error_json(self) -> None:
        finding = Finding(Code.LONG_DATE, "8 digits", {"segment": "UNB"}, "20261126", "UNB S004", W)
        data = finding.to_dict()
        assert data["severity"] == "warning"
        assert Finding.from_dict(json.loads(json.dumps(data))) == finding
        assert finding.render("a.edi") == "a.edi: segment UNB: warning: '20261126': 8 digits (UNB S004)"
        old = {k: v for k, v in data.items() if k != "severity"}  # written before severities
        assert Finding.from_dict(old).severity is E


class TestConfiguration:
    def test_source_and_partner_levels(self, tmp_path: Path) -> None:
        cfg = config.parse({
            "source": [{"name": "edi", "strictness": "strict"}, {"name": "wms"}],
            "partner": [{"id": "AMZN*", "strictness": "lenient"}, {"id": "AMZNEU", "strictness": "strict"}],
        }, tmp_path)  # fmt: skip
        edi, wms = cfg.sources
        assert (edi.strictness, wms.strictness) == (Strictness.STRICT, Strictness.STANDARD)
        assert cfg.strictness(edi, None) is Strictness.STRICT
        # The first partner whose pattern matches wins over the source.
        assert cfg.strictness(edi, "AMZNEU") is Strictness.LENIENT
        assert cfg.strictness(wms, "OTHER") is Strictness.STANDARD

    def test_every_problem_is_named_with_its_key(self, tmp_path: Path) -> None:
        raw = {
            "source": [{"name": "edi", "strictness": "relaxed"}],
            "partner": [{"strictness": 3}, {"id": "X", "colour": "blue"}],
        }
        with pytest.raises(ConfigError) as caught:
            config.parse(raw, tmp_path)
        assert caught.value.problems == [
            "source[0].strictness: must be one of strict, standard, lenient",
            "partner[0].id: required (the sender id: UNB sender or IDoc SNDPRN)",
            "partner[0].strictness: expected str, got 3",
            "partner[1].colour: unknown setting",
        ]

    def test_config_check_refuses_a_bad_level(self, tmp_path: Path) -> None:
        path = tmp_path / "gateway.toml"
        path.write_text(
            '[[source]]\nname = "x"\nstrictness = "loose"\n[[partner]]\nid = "A"\nstrictness = "strict"\n'
        )
        done = run_cli("--config", path, "--root", tmp_path, "config", "check")
        assert done.returncode == 78
        assert "source[0].strictness: must be one of strict, standard, lenient" in done.stderr

    def test_config_schema_declares_strictness(self) -> None:
        done = run_cli("config", "schema")
        assert done.returncode == 0, done.stderr
        schema = json.loads(done.stdout)["properties"]
        declared = schema["source"]["items"]["allOf"][0]["properties"]["strictness"]
        assert declared["default"] == "standard" and declared["enum"] == ["strict", "standard", "lenient"]
        assert schema["partner"]["items"]["properties"]["strictness"] == declared
        assert schema["partner"]["items"]["required"] == ["id"]


class TestReadContext:
    def context(self, tmp_path: Path, level: str = "standard", **raw: object) -> ReadContext:
        cfg = config.parse({"source": [{"name": "s", "strictness": level}], **raw}, tmp_path)
        file = Inbound("f1", tmp_path / "x", "x.edi", cfg.sources[0], "ab" * 32, 1)
        return ReadContext(file, cfg, format="edifact")

    def test_warnings_are_apart_and_judged_by_the_current_partner(self, tmp_path: Path) -> None:
        ctx = self.context(tmp_path, partner=[{"id": "STRICT*", "strictness": "strict"}])
        ctx.add(Code.LONG_DATE, "8 digits")
        ctx.partner = "STRICTCO"
        ctx.add(Code.LONG_DATE, "8 digits again")
        assert [f.message for f in ctx.warnings] == ["8 digits"]
        assert [f.message for f in ctx.findings] == ["8 digits again"]
        assert ctx.rejection() is not None

    def test_warnings_alone_never_reject(self, tmp_path: Path) -> None:
        ctx = self.context(tmp_path, max_findings=2)
        for n in range(5):  # past max_findings: kept up to the limit, never raising
            ctx.add(Code.BAD_CHARACTER, f"lower case {n}")
        assert len(ctx.warnings) == 2 and ctx.rejection() is None

    def test_each_record_carries_the_envelope_warnings_and_its_own(self, tmp_path: Path) -> None:
        ctx = self.context(tmp_path)
        ctx.add(Code.BAD_CHARACTER, "in UNB")

        def record(doc_id: str) -> list[str]:
            data = record_from_dict({"doc_type": "product", "doc_id": doc_id, "source": ctx.lineage()})
            return [w["message"] for w in ctx.warned(data).source.warnings]

        ctx.add(Code.TOO_LONG, "message 1")  # an error under standard: not a warning
        assert record("1") == ["in UNB"]
        ctx.add(Code.BAD_CHARACTER, "in message 2")
        assert record("2") == ["in UNB", "in message 2"]
        assert record("3") == ["in UNB"]


class TestLedger:
    def test_warnings_are_kept_per_file_and_counted_per_source(self, tmp_path: Path) -> None:
        ledger = SqliteLedger(tmp_path / "gateway.db")
        warned = [Finding(Code.BAD_CHARACTER, f"lower case {n}", severity=W).to_dict() for n in (1, 2)]
        a = ledger.claim("edi", "a.edi", "p", 1, 1, tmp_path)
        ledger.start(a.file_id, "a" * 64, 1)
        ledger.commit(a.file_id, Commit("edifact", "ascii", 1, [], [], warned))
        ledger.accept(a.file_id, None)
        b = ledger.claim("edi", "b.edi", "p", 1, 1, tmp_path)
        ledger.start(b.file_id, "b" * 64, 1)
        error = Finding(Code.WRONG_COUNT, "says 3").to_dict()
        ledger.quarantine(b.file_id, "validate", [error, warned[0]], "q", "ascii")
        assert [w["message"] for w in ledger.warnings(a.file_id)] == ["lower case 1", "lower case 2"]
        assert [w["message"] for w in ledger.warnings(b.file_id)] == ["lower case 1"]
        assert ledger.warning_counts() == {"edi": {"files": 2, "warnings": 3}}
        (detail,) = [d for _, event, d in ledger.events(b.file_id) if event == "file_quarantined"]
        assert [e["code"] for e in detail["errors"]] == ["wrong_count"]  # the warning is apart
        ledger.close()
        reopened = SqliteLedger(tmp_path / "gateway.db")
        assert reopened.db.execute("PRAGMA user_version").fetchone()[0] == VERSION
        assert len(reopened.warnings(a.file_id)) == 2
        reopened.close()
