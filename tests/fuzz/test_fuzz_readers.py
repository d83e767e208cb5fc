"""Any bytes through detection, encoding detection and every reader: records or located
findings, never an unhandled exception (an `internal_error` finding), a hang or a runaway
allocation (bounds.py).

Each reader is fed mutations of a valid file of its own (edits at random places, biased to the
format's syntax characters, then maybe truncated), forced to that reader by a file-name rule so
that detection does not stop them first; detection and encoding detection are fed raw bytes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.cli import check
from gateway.config import Config, SourceConfig, parse
from gateway.errors import RejectedFile
from gateway.findings import Code
from gateway.formats.detect import detect
from gateway.formats.encoding import decide
from tests.conftest import SAMPLES
from tests.fuzz.bounds import bounded

INBOUND = SAMPLES / "inbound"
#: (sample, reader): at least one seed per reader, UBL and both IDoc syntaxes included.
SEEDS = [
    ("csv/sales-orders.csv", "csv"),
    ("csv/customers-windows1252.csv", "csv"),
    ("csv/purchase-orders.tsv", "csv"),
    ("xml/ubl_order.xml", "xml"),
    ("xml/ubl_despatch_advice.xml", "xml"),
    ("xml/erp_products.xml", "xml"),
    ("xml/cxml_ship_notice_request.xml", "xml"),
    ("idoc/orders05-purchase-order.idoc", "idoc"),
    ("idoc/delvry07-delivery-hu-batches.idoc", "idoc"),
    ("idoc/orders05-extension-namespaced.xml", "idoc-xml"),
    ("edifact/desadv_d96a.edi", "edifact"),
    ("edifact/invrpt_group.edi", "edifact"),
    ("edifact/recadv_d01b_bom.edi", "edifact"),
]
#: What each family is made of, so that edits hit separators and markup as often as data.
SYNTAX = [b",", b";", b"\t", b'"', b"\n", b"\r\n", b"<", b">", b"/", b"&", b"&amp;", b"<!--", b"]]>",
          b"'", b"+", b":", b"?", b"*", b"UNH", b"UNT", b"EDI_DC40", b"E2EDK01", b"\x00", b"\xff",
          b"\xc3", b"\xef\xbb\xbf", b"9" * 20, b"-", b"=", b" "]  # fmt: skip
OPTIONS = st.sampled_from([{}, {"edifact_partial": True}, {"csv_max_columns": 3}, {"xml_max_depth": 4},
                           {"edifact_max_segment": 40}, {"csv_max_line": 60}])  # fmt: skip


@st.composite
def mutations(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        at = draw(st.integers(min_value=0, max_value=len(data)))
        cut = draw(st.integers(min_value=0, max_value=12))
        data[at : at + cut] = draw(st.sampled_from(SYNTAX) | st.binary(max_size=6))
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        del data[draw(st.integers(min_value=0, max_value=len(data))) :]
    return bytes(data)


@pytest.fixture(name="config", scope="module")
def _config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return parse({"source": [{"name": "fuzz"}]}, tmp_path_factory.mktemp("root"))


def read(data: bytes, config: Config, source: SourceConfig, name: str) -> check.Report:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        report = check.Report(path)
        with bounded():
            records = sum(1 for _ in check.read(path, config, source, report))
    assert records == report.records
    return report


def assert_sound(report: check.Report, name: str, content: bytes) -> None:
    """No bug, and every finding says what and where in words a person can act on."""
    assert Code.INTERNAL_ERROR not in {f.code for f in report.findings}, report.findings
    # A CSV of a known header and no rows is an export with nothing to send: no documents and
    # nothing wrong (test_core_csv). Anything else gives records or findings.
    header_only = report.format == "csv" and len([ln for ln in content.splitlines() if ln.strip()]) == 1
    assert report.records or report.findings or header_only, "bytes must give records or findings"
    for finding in report.findings:
        assert finding.message and finding.render(name)
        assert Code(finding.code) is not Code.UNKNOWN


@pytest.mark.parametrize(("sample", "reader"), SEEDS, ids=[s for s, _ in SEEDS])
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), options=OPTIONS)
def test_mutated_files_give_records_or_findings(
    sample: str, reader: str, config: Config, data: st.DataObject, options: dict[str, object]
) -> None:
    name = Path(sample).name
    content = data.draw(mutations((INBOUND / sample).read_bytes()))
    source = SourceConfig(name="fuzz", format_by_name=(("*", reader),), options=options)
    report = read(content, config, source, name)
    if content:
        assert_sound(report, name, content)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(min_size=1, max_size=600), name=st.sampled_from(["x.csv", "x.xml", "x.edi", "x"]))
def test_any_bytes_detected_and_read(config: Config, content: bytes, name: str) -> None:
    report = read(content, config, SourceConfig(name="fuzz"), name)
    assert_sound(report, name, content)


DECLARED = st.sampled_from([None, "latin-1", "cp1252", "utf-16", "shift_jis", "no-such-codec"])


def answer(decision: Callable[[], object]) -> object:
    """What `decision` decided, or the findings of its refusal (each with a message)."""
    try:
        return decision()
    except RejectedFile as exc:
        return [f.message for f in exc.findings]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.binary(min_size=1, max_size=600) | st.text(max_size=300).map(str.encode), declared=DECLARED)
def test_detection_and_encoding_give_an_answer_or_a_finding(content: bytes, declared: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x"
        path.write_bytes(content)
        with bounded():
            decisions = (answer(lambda: detect(path, "x")), answer(lambda: decide(path, declared=declared)))
            for decided in decisions:
                assert decided and (not isinstance(decided, list) or all(decided)), decided
