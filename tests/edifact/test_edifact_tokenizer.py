"""The tokenizer gives pydifact's segments, on real files and on generated ones."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydifact.parser import Parser

from gateway.formats.edifact.syntax import Scanner, SyntaxFault, parse_una

REPO = Path(__file__).resolve().parents[2]


def ours(text: str, block: int = 64) -> tuple[list[list[object]], str | None]:
    blocks = [text[i : i + block] for i in range(0, len(text), block)]
    out: list[list[object]] = []
    try:
        for seg in Scanner(blocks):
            if seg.tag != "UNA":
                out.append([seg.tag, *seg.elements])
    except SyntaxFault as fault:
        return out, fault.message
    return out, None


def theirs(text: str) -> tuple[list[list[object]] | None, str | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return [[s.tag, *s.elements] for s in Parser().parse(text) if s.tag != "UNA"], None
        except Exception as exc:  # pydifact raises several kinds
            return None, str(exc)


def agree(text: str, block: int = 64) -> None:
    mine, fault = ours(text, block)
    reference, error = theirs(text)
    if error is not None:
        assert fault is not None, f"pydifact failed ({error}) but we did not"
        return
    assert reference is not None
    if fault is None:
        assert mine == reference
    else:
        # pydifact silently drops an unterminated tail; we report it instead.
        assert mine == reference[: len(mine)]


def test_corpus_files_tokenize_like_pydifact(corpus: Path) -> None:
    files = sorted((corpus / "edifact").glob("*.edi"))
    assert len(files) >= 3
    for path in files:
        text = path.read_text(encoding="latin-1")
        for block in (1, 7, 4096):
            agree(text, block)
        assert ours(text)[0]


def test_sample_files_tokenize_like_pydifact() -> None:
    files = sorted((REPO / "samples" / "inbound" / "edifact").glob("*.edi"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        if text.startswith("UNA") and parse_una(text) and parse_una(text)[1] == 8:  # type: ignore[index]
            continue  # pydifact cannot read the 5-character UNA
        agree(text, 5)


VALUE = st.text(alphabet="AB12 ?:+'*.,\n", min_size=0, max_size=6)
ELEMENT = st.lists(VALUE, min_size=1, max_size=3)
SEGMENT = st.tuples(
    st.sampled_from(["BGM", "DTM", "QTY", "NAD", "X1Y", "Bad", ""]), st.lists(ELEMENT, max_size=4)
)


def render(tag: str, elements: list[list[str]], escape: bool) -> str:
    def esc(value: str) -> str:
        if not escape:
            return value
        return "".join("?" + c if c in "?:+'" else c for c in value)

    return "+".join([tag, *(":".join(esc(c) for c in e) for e in elements)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    segments=st.lists(st.tuples(SEGMENT, st.booleans()), min_size=1, max_size=8),
    una=st.booleans(),
    breaks=st.sampled_from(["", "\n", "\r\n"]),
    block=st.integers(min_value=1, max_value=40),
    tail=st.sampled_from(["", "'", "+", "?", "BGM+A"]),
)
def test_generated_interchanges_tokenize_like_pydifact(
    segments: list[tuple[tuple[str, list[list[str]]], bool]], una: bool, breaks: str, block: int, tail: str
) -> None:
    body = "".join(render(tag, els, esc) + "'" + breaks for (tag, els), esc in segments)
    text = ("UNA:+.? '" if una else "") + "UNB+UNOA:3+S+R+260101:1200+1'" + breaks + body + tail
    agree(text, block)


def test_escapes_everywhere() -> None:
    text = "UNB+UNOA:3+S+R+260101:1200+1'FTX+AAI+++A?+B?:C?'D??E'UNZ+0+1'"
    segs, fault = ours(text, 3)
    assert fault is None
    assert segs[1] == ["FTX", "AAI", "", "", "A+B:C'D?E"]
    agree(text, 3)


def test_five_character_una_and_repetition() -> None:
    text = "UNA:+.?'\nUNB+UNOC:4+S+R+20260101:1200+1'\nUNZ+0+1'"
    segs, fault = ours(text)
    assert fault is None and segs[0][0] == "UNB"
    scanner = Scanner(["UNB+UNOC:4+S+R+20260101:1200+1'NAD+BY+A*B?*C'"])
    it = iter(scanner)
    next(it)
    scanner.repetition = "*"
    nad = next(it)
    assert nad.elements[1] == "A" and nad.repeats == {1: ["B*C"]}


def test_no_terminator_is_stopped_early() -> None:
    blocks = ("A" * 1000 for _ in range(10_000))  # 10 MB without a terminator
    with pytest.raises(SyntaxFault, match="no segment terminator"):
        for _ in Scanner(blocks, max_segment=1 << 20):
            pass


def test_benchmark_runs_and_agrees_with_pydifact() -> None:
    from benchmarks import edifact as bench_edifact

    result = bench_edifact.run(size=60_000, repeat=1)
    assert result["edifact_segments"] == result["pydifact_segments"]
    assert result["edifact_findings"] == 0
    assert int(result["edifact_bytes"]) >= 60_000  # type: ignore[call-overload]


def test_raw_batches_parse_like_segments() -> None:
    from benchmarks.edifact import interchange

    text = interchange(30_000)
    lazy = [
        (s.tag, s.elements, s.index) for s in Scanner([text[i : i + 4096] for i in range(0, len(text), 4096)])
    ]
    eager = [(s.tag, s.elements, s.index) for s in Scanner([text[i : i + 3] for i in range(0, len(text), 3)])]
    assert lazy == eager
    agree(text, 4096)


@settings(max_examples=200, deadline=None)
@given(
    chars=st.sampled_from([":+.? '", "#|,!*~", ":+.?*'", "^&.% \n"]),
    values=st.lists(
        st.lists(st.text(alphabet="AB1 ?:+'#|!~^&%*", max_size=5), min_size=1, max_size=3), max_size=5
    ),
    block=st.integers(min_value=1, max_value=50),
)
def test_any_service_characters_tokenize_like_pydifact(
    chars: str, values: list[list[str]], block: int
) -> None:
    comp, data, _dec, rel, _res, term = chars

    def esc(value: str) -> str:
        return "".join(rel + c if c in (comp, data, rel, term) else c for c in value)

    segment = data.join(["FTX", *(comp.join(esc(c) for c in e) for e in values)])
    unb = data.join(["UNB", comp.join(["UNOA", "3"]), "S", "R", comp.join(["260101", "1200"]), "1"])
    text = f"UNA{chars}{unb}{term}{segment}{term}"
    agree(text, block)
    segs, fault = ours(text, block)
    assert fault is None and len(segs) == 2
