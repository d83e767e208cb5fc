"""Hostile input: random edits of a valid interchange never crash the reader or hang it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from helpers_edifact import ORDER, validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config import Config

EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(ORDER)),
        st.integers(min_value=0, max_value=6),
        st.text(alphabet="'+:?*\n AZaz09é\x00UNHTZ", max_size=4),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=EDITS, options=st.sampled_from([{}, {"edifact_partial": True}, {"edifact_charset_check": "off"}])
)
def test_edited_interchanges_give_findings_not_crashes(
    tmp_path: Path,
    make_config: Callable[..., Config],
    edits: list[tuple[int, int, str]],
    options: dict[str, object],
) -> None:
    text = ORDER
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut :]
    path = tmp_path / "fuzz.edi"
    path.write_bytes(text.encode("utf-8"))
    report = validate(path, make_config(), **options)
    assert all(f.code != "internal_error" for f in report.findings), report.findings
    for finding in report.findings:
        assert finding.render("fuzz.edi")
