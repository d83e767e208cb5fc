"""The fast paths are sound: they only ever skip work that would have found nothing.

The element fast path: segment texts are generated for every segment of every shipped schema,
from values that keep to the element's format and code list and from mutations of them (too
long, wrong characters, service characters, released ones, missing or extra elements and
components), under several sets of service characters; whatever the pattern accepts, the
detailed check must pass; value patterns alone are also tried right at their length limits. The
envelope's plain UNH and UNT: edited interchanges of many messages. Real files, and random edits
of them, must give the same findings with every fast path off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers_edifact import ORDER, validate
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from benchmarks.edifact import interchange
from gateway import resources
from gateway.config import Config
from gateway.formats.edifact.envelope import Envelope
from gateway.formats.edifact.fastpath import Chars
from gateway.formats.edifact.schema import (
    Composite,
    GroupNode,
    MessageSchema,
    Node,
    Simple,
    schema_for,
)
from gateway.formats.edifact.segment import DEFAULT, Delimiters, Unescaper, ends_released, split_escaped
from gateway.formats.edifact.syntax import Scanner, SyntaxFault

NAMES = sorted(p.stem for p in resources.listing("edifact", "*.json") if not p.stem.startswith("segments_"))
DIALECTS = [
    (Delimiters(), None),
    (Delimiters(), "*"),  # syntax 4 without UNA
    (Delimiters("#", "|", ",", "!", "*", "~"), "*"),
    (Delimiters("^", "&", ".", "%", " ", "\n"), None),
    (Delimiters(".", "+", ",", "?", " ", "'"), None),  # a decimal mark as separator: no fast path
]
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "inbound" / "edifact"


def scanner_for(delimiters: Delimiters, repetition: str | None) -> Scanner:
    scanner = Scanner(())
    scanner.use(delimiters)
    scanner.repetition = repetition
    return scanner


@st.composite
def value(draw: st.DrawFn, spec: Simple, d: Delimiters, repetition: str | None) -> str:
    """One element or component value as it stands in the segment text."""
    specials = d.component + d.data + d.release + d.terminator + (repetition or "")
    kind = draw(st.sampled_from(["valid"] * 6 + ["empty", "empty", "mutated"]))
    if kind == "empty":
        return ""
    if kind == "mutated":
        return draw(st.text(alphabet="AZaz09 .,-é\n" + specials, max_size=spec.max + 3))
    if spec.codes:
        return draw(st.sampled_from(sorted(spec.codes)))
    low = spec.max if spec.fixed else 1
    # Mostly the right length, sometimes one off at either end.
    size = draw(st.integers(min_value=low, max_value=spec.max))
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        size = draw(st.sampled_from([low - 1, spec.max + 1]))
    if spec.kind == "n":
        digits = draw(st.text(alphabet="0123456789", min_size=max(size, 0), max_size=max(size, 0)))
        cut = draw(st.integers(min_value=-1, max_value=size))
        sign = draw(st.sampled_from(["", "", "-"]))
        return sign + (digits if cut < 0 else f"{digits[:cut]}{draw(st.sampled_from('.,'))}{digits[cut:]}")
    letters = "ABCXYZabcé /" if spec.kind == "a" else "ABZaz09 -./é"
    chars = draw(st.lists(st.sampled_from([*letters, *(d.release + c for c in specials)]),
                          min_size=max(size, 0), max_size=max(size, 0)))  # fmt: skip
    return "".join(chars)


def shorten(draw: st.DrawFn, parts: list[str]) -> list[str]:
    """All of `parts` half the time, else the first few."""
    return parts[: draw(st.just(len(parts)) | st.integers(min_value=0, max_value=len(parts)))]


@st.composite
def element(draw: st.DrawFn, spec: Simple | Composite, d: Delimiters, repetition: str | None) -> str:
    if isinstance(spec, Simple):
        parts = [draw(value(spec, d, repetition))]
    else:
        parts = shorten(draw, [draw(value(c, d, repetition)) for c in spec.components])
    if draw(st.integers(min_value=0, max_value=4)) == 0:
        parts.append(draw(st.sampled_from(["", "X", "1", d.component])))  # extra or trailing empty
    return d.component.join(parts)


def in_table(nodes: tuple[Node, ...]) -> set[str]:
    """The tags of a message table."""
    return set().union(*(in_table(n.children) if isinstance(n, GroupNode) else {n.tag} for n in nodes))


@st.composite
def segment(draw: st.DrawFn, schema: MessageSchema, d: Delimiters, repetition: str | None) -> str:
    """Mostly a segment of the message's table; sometimes one only in the directory."""
    tags = sorted(set(schema.segments) - {"UNH", "UNT"})
    table = [t for t in tags if t in in_table(schema.structure)]
    tag = draw(st.sampled_from(table if draw(st.integers(min_value=0, max_value=9)) else tags))
    specs = schema.segments[tag]
    elements = shorten(draw, [draw(element(spec, d, repetition)) for spec in specs])
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        elements.append(draw(st.sampled_from(["", "X"])))  # one element too many
    return d.data.join([tag, *elements])


def one_segment(text: str, d: Delimiters) -> bool:
    """True when `text` could be one segment's text: no unreleased terminator, no release at the end."""
    return len(split_escaped(text, d.terminator, d.release)) == 1 and not ends_released(text, d.release)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(NAMES), dialect=st.sampled_from(DIALECTS), released=st.booleans())
def test_what_the_pattern_accepts_has_no_problems(
    data: st.DataObject, name: str, dialect: tuple[Delimiters, str | None], released: bool
) -> None:
    schema = schema_for(name)
    assert schema is not None
    d, repetition = dialect
    texts = data.draw(st.lists(segment(schema, d, repetition), min_size=1, max_size=4))
    texts = [t for t in texts if one_segment(t, d)]
    pattern = schema.pattern(dialect, released)
    if pattern is None or not texts:
        return
    scanner = scanner_for(d, repetition)
    accepted = []
    for text in texts:
        ok = pattern.fullmatch(text) is not None
        try:
            problems = schema.problems(scanner.parse(text, 1))
        except SyntaxFault:
            assert not ok, text
            accepted.append(False)
            continue
        event("accepted" if ok else "rejected with problems" if problems else "rejected, no problems")
        assert not (ok and problems), (text, problems)
        accepted.append(ok)
    # A run of segments is accepted exactly when each one is.
    assert (pattern.fullmatch(d.terminator.join(texts)) is not None) == all(accepted), texts


def test_the_generator_reaches_both_sides() -> None:
    """The property above is only worth something if the pattern accepts a fair share: one schema."""
    schema = schema_for("ORDERS_D96A")
    assert schema is not None
    pattern = schema.pattern(DIALECTS[0], True)
    assert pattern is not None
    outcomes = {True: 0, False: 0}

    @settings(max_examples=400, deadline=None, database=None, derandomize=True)
    @given(text=segment(schema, *DIALECTS[0]))
    def collect(text: str) -> None:
        if one_segment(text, DIALECTS[0][0]):
            outcomes[pattern.fullmatch(text) is not None] += 1

    collect()
    assert min(outcomes.values()) > 0.1 * sum(outcomes.values()), outcomes


def test_patterns_for_every_schema_and_dialect_compile() -> None:
    for name in NAMES:
        schema = schema_for(name)
        assert schema is not None
        for dialect in DIALECTS:
            for released in (False, True):
                assert (schema.pattern(dialect, released) is None) == (dialect[0].component == ".")


def test_released_characters_count_once() -> None:
    schema = schema_for("ORDERS_D96A")
    assert schema is not None
    pattern, plain = schema.pattern(DIALECTS[0], True), schema.pattern(DIALECTS[0], False)
    assert pattern is not None and plain is not None
    assert pattern.fullmatch("FTX+AAA+++" + "?'" * 70)  # 4440 an..70: seventy released apostrophes
    assert not pattern.fullmatch("FTX+AAA+++" + "?'" * 71)
    assert not plain.fullmatch("FTX+AAA+++?'")  # the plain pattern leaves releases to the other
    assert not pattern.fullmatch("QTY+21:1?2:PCE")  # n..15: a release is no digit


def simples(schema: MessageSchema) -> Iterator[Simple]:
    for specs in schema.segments.values():
        for spec in specs:
            yield from spec.components if isinstance(spec, Composite) else [spec]


ALL_SIMPLES = {spec for name in NAMES if (schema := schema_for(name)) for spec in simples(schema)}
FORMATS = sorted({(s.kind, s.max, s.fixed) for s in ALL_SIMPLES})


@st.composite
def near_the_limit(draw: st.DrawFn, kind: str, size: int) -> str:
    """A value's text of about `size` characters (released pairs among them), often right at it."""
    length = draw(st.sampled_from([0, 1, size - 1, size, size + 1]) | st.integers(0, size + 2))
    if kind == "n" and draw(st.booleans()):
        digits = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=length, max_size=length)))
        cut = draw(st.integers(min_value=0, max_value=length))
        mark = draw(st.sampled_from(["", ".", ",", ".."]))
        return draw(st.sampled_from(["", "-"])) + digits[:cut] + mark + digits[cut:]
    units = ["A", "z", "0", "9", " ", "-", ".", "é", "²", "\n"]  # ² is a digit to str.isdigit
    if draw(st.booleans()):
        units += ["?'", "?+", "??", "?:", "'", "+", ":", "?"]
    return "".join(draw(st.lists(st.sampled_from(units), min_size=max(length, 0), max_size=max(length, 0))))


@settings(max_examples=1500, deadline=None)
@given(data=st.data(), released=st.booleans(), form=st.sampled_from(FORMATS))
def test_value_patterns_accept_only_values_the_check_passes(
    data: st.DataObject, released: bool, form: tuple[str, int, bool]
) -> None:
    kind, size, fixed = form
    spec = Simple("0000", f"{kind}{'' if fixed else '..'}{size}", kind, size, fixed, True)
    chars = Chars.of(DEFAULT, None, released)
    assert chars is not None
    text = data.draw(near_the_limit(kind, size))
    for present in (True, False):
        if not re.fullmatch(spec.pattern(chars, present), text):
            continue
        # Accepted: one value (no unreleased separator), which the check finds nothing wrong with.
        assert all(len(split_escaped(text, c, "?")) == 1 for c in ":+'") and not ends_released(text, "?")
        value = Unescaper("?")(text)
        assert (not value and not present) or spec.problem(value) is None, (form, present, text)


def test_code_lists_accept_only_their_codes() -> None:
    chars = Chars.of(DEFAULT, None, False)
    assert chars is not None
    for spec in (s for s in ALL_SIMPLES if s.codes):
        pattern = re.compile(spec.pattern(chars, True))
        assert spec.codes is not None
        for code in spec.codes:
            for text in (code, code + "0", code[:-1], code.lower()):
                assert not pattern.fullmatch(text) or spec.problem(text) is None, (spec, text)


def findings(path: Path, config: Config, fast: bool, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every finding of reading `path`, from freshly loaded schemas, with or without fast paths."""
    schema_for.cache_clear()
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(MessageSchema, "pattern", lambda _self, _dialect, _released: None)
            patch.setattr(Envelope, "_plain_unh", lambda _self, _raw, _index: False)
            patch.setattr(Envelope, "_plain_unt", lambda _self, _raw: None)
        report = validate(path, config)
    schema_for.cache_clear()
    return [(f.code, f.message, f.location, f.value, f.rule) for f in report.findings]


def real_files(corpus: Path) -> Iterator[Path]:
    yield from sorted((corpus / "edifact").glob("*.edi"))
    yield from sorted(SAMPLES.glob("*.edi"))


def test_real_files_give_the_same_findings_without_the_fast_path(
    corpus: Path, make_config: Callable[..., Config], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = list(real_files(corpus))
    assert len(paths) >= 6
    for path in paths:
        assert findings(path, make_config(), True, monkeypatch) == findings(
            path, make_config(), False, monkeypatch
        ), path


EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2000),
        st.integers(min_value=0, max_value=4),
        st.text(alphabet="'+:?*\n AZaz09.,-é", max_size=4),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS, source=st.sampled_from(["order", *sorted(p.name for p in SAMPLES.glob("*.edi"))]))
def test_edited_files_give_the_same_findings_without_the_fast_path(
    tmp_path: Path,
    make_config: Callable[..., Config],
    monkeypatch: pytest.MonkeyPatch,
    edits: list[tuple[int, int, str]],
    source: str,
) -> None:
    raw = ORDER.encode("latin-1") if source == "order" else (SAMPLES / source).read_bytes()
    text = raw.decode("latin-1")
    for offset, cut, insert in edits:
        at = offset % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    path = tmp_path / "edited.edi"
    path.write_bytes(text.encode("latin-1"))
    with_fast = findings(path, make_config(), True, monkeypatch)
    assert with_fast == findings(path, make_config(), False, monkeypatch)


MANY = interchange(20_000)  # about thirty messages: most UNH and UNT arrive in raw batches
SERVICE_EDITS = st.lists(
    st.tuples(
        st.sampled_from([i for i in range(len(MANY)) if MANY.startswith(("UNH+", "UNT+"), i)]),
        st.integers(min_value=0, max_value=20),
        st.integers(min_value=0, max_value=3),
        st.text(alphabet="+:?'*019AZ", max_size=3),
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=SERVICE_EDITS)
def test_edited_message_headers_and_trailers_give_the_same_findings(
    tmp_path: Path,
    make_config: Callable[..., Config],
    monkeypatch: pytest.MonkeyPatch,
    edits: list[tuple[int, int, int, str]],
) -> None:
    text = MANY
    for segment_at, offset, cut, insert in sorted(edits, reverse=True):
        at = segment_at + offset
        text = text[:at] + insert + text[at + cut :]
    path = tmp_path / "many.edi"
    path.write_text(text, encoding="latin-1")
    with_fast = findings(path, make_config(), True, monkeypatch)
    assert with_fast == findings(path, make_config(), False, monkeypatch)
