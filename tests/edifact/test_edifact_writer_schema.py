"""The EDIFACT target checks each rendered message with the reader's schema validation before
writing it: a value the message cannot hold is a located finding, never a truncated message."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers_edifact import records
from test_edifact_cli import CONFIG as CLI_CONFIG
from test_edifact_roundtrip import PARTNER, PURCHASE, SHIPMENT, _Buffer, _write

from gateway.canonical.build import record_from_dict
from gateway.config import Config, TargetConfig, target_problems
from gateway.formats.edifact.writer import EdifactTarget
from gateway.targets.base import FileInfo
from tests.conftest import run_cli

LONG = "Stainless steel widget, blue, 40 mm x"  # 37 characters: D96A IMD 7008 is an..35


def _shipment(**changes: Any) -> dict[str, Any]:
    line = {**SHIPMENT["lines"][0], **changes.pop("line", {})}  # type: ignore[index]
    return {**SHIPMENT, "lines": [line], **changes}


@pytest.mark.parametrize(
    ("data", "location", "value", "code", "rule"),
    [
        (
            _shipment(line={"description": LONG}),
            {"segment": "IMD", "element": 3, "component": 4},
            LONG,
            "too_long",
            "schema edifact/DESADV_D96A, IMD 7008 an..35",
        ),
        (
            _shipment(shipment_id="S" * 40, doc_id="S" * 40),
            {"segment": "BGM", "element": 2},
            "S" * 40,
            "too_long",
            "schema edifact/DESADV_D96A, BGM 1004 an..35",
        ),
        (
            _shipment(line={"quantity": "five", "quantity_shipped": "five"}),
            {"segment": "QTY", "element": 1, "component": 2},
            "five",
            "not_numeric",
            "schema edifact/DESADV_D96A, QTY 6060 n..15",
        ),
    ],
    ids=["imd_description", "bgm_number", "qty_not_numeric"],
)
def test_a_value_the_message_cannot_hold_is_refused_and_located(
    data: dict[str, Any], location: dict[str, Any], value: str, code: str, rule: str
) -> None:
    record = record_from_dict(dict(data))
    written, findings = _write([record])
    assert written == b""  # nothing for the record: not even the interchange header
    (finding,) = findings
    assert finding.code == code and finding.value == value and finding.rule == rule
    assert {k: finding.location[k] for k in location} == location
    assert finding.location["record"] == record.doc_id
    assert isinstance(finding.location["segment_index"], int)  # counted from the message's UNH


def test_the_finding_reads_like_the_readers() -> None:
    _, (finding,) = _write([record_from_dict(_shipment(line={"description": LONG}))])
    text = finding.render("shipments.csv")  # UNH is segment 1; after NAD BY, SU and DP the IMD is the 21st
    assert "record SHP-1, segment 21 (IMD), element 3.4: " in text
    assert text.endswith("is longer than 35 characters (schema edifact/DESADV_D96A, IMD 7008 an..35)")


def test_never_truncated_and_the_good_records_around_it_are_written(
    tmp_path: Path, make_config: Callable[..., Config]
) -> None:
    good = [record_from_dict(_shipment(doc_id=f"S{n}", shipment_id=f"S{n}")) for n in (1, 3)]
    bad = record_from_dict(_shipment(doc_id="S2", shipment_id="S2", line={"description": LONG}))
    written, findings = _write([good[0], bad, good[1]])
    assert [f.location["record"] for f in findings] == ["S2"]
    text = written.decode("latin-1")
    assert LONG[:35] not in text and "S2" not in text
    # The refused record takes no message number: the interchange stays consistent and valid.
    assert "UNH+1+DESADV" in text and "UNH+2+DESADV" in text and "UNH+3" not in text
    assert text.rstrip().endswith("UNZ+2+1'")
    path = tmp_path / "out.edi"
    path.write_bytes(written)
    back, report = records(path, make_config())
    assert report.findings == [] and [r.doc_id for r in back] == ["S1", "S3"]


def test_the_same_value_fits_where_the_directory_allows_it() -> None:
    # D.01B's IMD 7008 is an..256: the description that D.96A refuses is written whole.
    written, findings = _write([record_from_dict(_shipment(line={"description": LONG}))], directory="D01B")
    assert findings == [] and f"IMD+F++:::{LONG}'" in written.decode("latin-1")


def test_a_directory_without_schemas_is_refused() -> None:
    config = TargetConfig("p", "edifact", "local:x", {**PARTNER, "directory": "D97A"})
    assert target_problems(EdifactTarget, config) == [
        "directory: no schema for DESADV, RECADV, INVRPT, ORDERS D97A (D96A, D01B)"
    ]
    out = _Buffer()
    writer = EdifactTarget(config).writer(FileInfo("f1", "in.csv"), lambda name: out)
    (finding,) = writer.write(record_from_dict(dict(SHIPMENT)))
    writer.close()
    assert finding.code == "unknown_message" and finding.value == "DESADV_D97A"
    assert out.getvalue() == b""


def test_orders_names_buyer_and_supplier(tmp_path: Path, make_config: Callable[..., Config]) -> None:
    written, findings = _write([record_from_dict(dict(PURCHASE))])
    text = written.decode("latin-1")
    assert findings == []
    # The order's own supplier (vendor_id) takes precedence over the interchange receiver.
    assert "NAD+BY+5412345000013::9'\nNAD+SU+V1::92'\nNAD+DP+WH1::92'" in text
    assert "4012345000009::9'" not in text.split("UNH", 1)[1]
    without_vendor = {**PURCHASE, "vendor_id": None}
    written, findings = _write([record_from_dict(without_vendor)], receiver_qualifier="ZZ")
    text = written.decode("latin-1")
    assert findings == []
    assert "NAD+BY+5412345000013::9'\nNAD+SU+4012345000009::ZZZ'\nNAD+DP+WH1::92'" in text
    path = tmp_path / "out.edi"
    path.write_bytes(written)
    back, report = records(path, make_config(), edifact_orders_as="purchase_order")
    assert report.findings == [] and back[0].to_dict()["vendor_id"] == "4012345000009"


# The end-to-end configuration of the CLI tests, with the EDIFACT target alone.
CONFIG = CLI_CONFIG.replace('to = ["erp-edi", "canonical"]', 'to = ["erp-edi"]')
assert CONFIG != CLI_CONFIG
HEADER = "shipment_id,ship_date,line_no,sku,gtin,description,quantity_shipped\n"


def test_run_once_makes_a_case_of_the_input_for_the_refusing_target(root: Path) -> None:
    config = root / "gateway.toml"
    config.write_text(CONFIG)
    (root / "inbound" / "good.csv").write_text(HEADER + "SHP-1,2026-11-26,1,W-1,4000862141404,Widget,5\n")
    (root / "inbound" / "long.csv").write_text(HEADER + f'SHP-2,2026-11-26,1,W-1,4000862141404,"{LONG}",5\n')
    done = run_cli("--config", config, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    (edi,) = (root / "outbound" / "erp-edi").glob("*.edi")
    assert edi.name.startswith("good.") and "BGM+351+SHP-1+9'" in edi.read_text(encoding="latin-1")
    (case,) = (root / "quarantine").iterdir()
    quarantined = case / "erp-edi"
    error = json.loads((quarantined / "error.json").read_text())
    assert error["stage"] == "write" and error["original_name"] == "long.csv" and error["target"] == "erp-edi"
    (finding,) = error["errors"]
    assert finding["code"] == "too_long" and finding["value"] == LONG
    assert finding["location"] == {
        "segment": "IMD",
        "segment_index": finding["location"]["segment_index"],
        "element": 3,
        "component": 4,
        "record": "SHP-2",
    }
    assert finding["rule"] == "schema edifact/DESADV_D96A, IMD 7008 an..35"
    assert "(IMD), element 3.4: " in (quarantined / "error.txt").read_text()
    assert "is longer than 35 characters" in (quarantined / "error.txt").read_text()


@pytest.mark.parametrize("una", [False, True])
def test_syntax_4_releases_the_repetition_separator(
    tmp_path: Path, make_config: Callable[..., Config], una: bool
) -> None:
    # Without UNA a syntax 4 reader splits repetitions at `*`; with the default UNA the
    # reserved character is the space, which separates nothing.
    description = "Widget * 2 pack"
    record = record_from_dict(_shipment(line={"description": description}))
    written, findings = _write([record], syntax_version="4", una=una)
    assert findings == []
    assert (b"Widget ?* 2 pack" in written) is not una
    path = tmp_path / "desadv.edi"
    path.write_bytes(written)
    (shipment,), report = records(path, make_config())
    assert report.valid, report.findings
    assert shipment.lines[0].description == description  # type: ignore[attr-defined]
