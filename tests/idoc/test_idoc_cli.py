"""IDoc end to end through the command line: validate, convert, run --once, duplicates."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from helpers_idoc import SAMPLES

from tests.conftest import run_cli

CONFIG = """
[[source]]
name = "sap"
settle_seconds = 0.05
poll_seconds = 0.2
idoc_sku = "strip_zeros"

[[target]]
name = "sap-out"
format = "idoc"
deliver = "local:{out}"
client = "100"
sender_partner = "WMS01"
receiver_partner = "PRDCLNT100"
movement_by_reason = {{ "0001" = "551" }}

[[route]]
doc_type = ["receipt", "transfer", "inventory_adjustment", "shipment"]
to = ["sap-out", "canonical"]
"""


def config(tmp_path: Path) -> Path:
    out = tmp_path / "sap-out"
    path = tmp_path / "gateway.toml"
    path.write_text(CONFIG.format(out=out.as_posix()), encoding="utf-8")
    return path


def test_validate_samples_and_corpus(corpus: Path) -> None:
    files = [
        *sorted(p for p in SAMPLES.iterdir() if p.suffix in (".idoc", ".xml")),
        corpus / "idoc-xml" / "sap-samples__ORDERS05_PO_outbound_S4_755.xml",
    ]
    done = run_cli("validate", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": ok (idoc") == len(files)


def test_validate_reports_located_findings(tmp_path: Path) -> None:
    lines = (SAMPLES / "orders05-purchase-order.idoc").read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("E1EDP01"))
    menge = 63 + 6 + 3 + 1 + 1  # SDATA + POSEX, ACTION, PSTYP, KZABS
    lines[at] = lines[at][:menge] + "abc".ljust(15) + lines[at][menge + 15 :]
    bad = tmp_path / "bad.idoc"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_cli("validate", "--json", bad)
    assert done.returncode == 1
    (report,) = json.loads(done.stdout) if done.stdout.lstrip().startswith("[") else [json.loads(done.stdout)]
    (error,) = report["errors"]
    assert error["code"] == "not_numeric"
    assert error["value"] == "abc"
    where = {"line": at + 1, "segment": "E1EDP01", "segment_index": at, "field": "MENGE"}
    assert error["location"] == {**where, "record": "0000000000500001"}
    text = run_cli("validate", bad)
    assert (
        f"bad.idoc: record 0000000000500001, line {at + 1}, segment {at} (E1EDP01), field MENGE"
        in text.stdout
    )


def test_convert_to_jsonl_and_to_idoc(tmp_path: Path) -> None:
    done = run_cli("convert", SAMPLES / "wmmbid02-movements.xml")
    assert done.returncode == 0, done.stderr
    docs = [json.loads(line) for line in done.stdout.splitlines()]
    assert [d["doc_type"] for d in docs] == ["receipt", "transfer", "inventory_adjustment"]
    out = tmp_path / "out"
    done = run_cli("--config", config(tmp_path), "--root", tmp_path / "root", "convert",
                   SAMPLES / "wmmbid02-movements.xml", "--target", "sap-out", "--out", out)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (written,) = out.iterdir()
    assert written.name.endswith(".WMMBID02.xml")
    assert written.read_text(encoding="utf-8").count('<IDOC BEGIN="1">') == 3


def test_run_once_and_duplicate_docnum(tmp_path: Path, corpus: Path) -> None:
    root = tmp_path / "root"
    inbound = root / "inbound"
    inbound.mkdir(parents=True)
    shutil.copy(SAMPLES / "wmmbid02-movements.xml", inbound)
    shutil.copy(SAMPLES / "orders05-purchase-order.idoc", inbound)
    shutil.copy(corpus / "idoc-xml" / "sap-samples__DELVRY07_DESADV_S4_755.xml", inbound)
    shutil.copy(corpus / "idoc-xml" / "sap-samples__INVOIC02_S4_755.xml", inbound)
    cfg = config(tmp_path)
    done = run_cli("--config", cfg, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    canonical = sorted(p.name for p in (root / "outbound" / "canonical").iterdir())
    assert len(canonical) == 3
    sap = sorted(p.name for p in (tmp_path / "sap-out").iterdir())
    assert len(sap) == 2
    assert any(name.endswith(".WMMBID02.xml") for name in sap)
    assert any(name.endswith(".DELVRY07.xml") for name in sap)
    texts = [(tmp_path / "sap-out" / name).read_text(encoding="utf-8") for name in sap]
    docnums = [d for text in texts for d in re.findall(r"<DOCNUM>(\d+)</DOCNUM>", text)]
    assert sorted(docnums) == [f"{n:016d}" for n in range(1, 5)]  # unique, sequential, from the ledger
    trace = run_cli("--config", cfg, "--root", root, "trace", "0000000000800002")  # a bare DOCNUM
    assert "wmmbid02-movements.xml" in trace.stdout, trace.stdout + trace.stderr
    (quarantined,) = (root / "quarantine").iterdir()
    error = json.loads((quarantined / "error.json").read_text(encoding="utf-8"))
    assert error["stage"] == "map"
    assert error["errors"][0]["code"] == "unsupported_message"

    # The same IDoc (same sender and DOCNUM) again, with other bytes: a duplicate, not published.
    again = (
        (SAMPLES / "orders05-purchase-order.idoc").read_text(encoding="utf-8").replace("101500", "101501", 1)
    )
    (inbound / "po-again.idoc").write_text(again, encoding="utf-8")
    done = run_cli("--config", cfg, "--root", root, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(list((root / "outbound" / "canonical").iterdir())) == 3
    trace = run_cli("--config", cfg, "--root", root, "trace", "PRDCLNT100:0000000000500001")
    assert trace.returncode == 0, trace.stdout + trace.stderr
    assert "orders05-purchase-order.idoc" in trace.stdout
    trace = run_cli("--config", cfg, "--root", root, "trace", "po-again.idoc")
    assert "state duplicate" in trace.stdout, trace.stdout


def test_config_check_reports_bad_idoc_options(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[target]]\nname = "sap"\nformat = "idoc"\ndeliver = "local:out"\nsyntax = "edi"\nclient = "1000"\n',
        encoding="utf-8",
    )
    done = run_cli("--config", path, "--root", tmp_path / "root", "config", "check")
    assert done.returncode == 78
    assert "target[0].syntax: must be one of xml, flat" in done.stderr + done.stdout
    assert "target[0].client: longer than the control record's 3 characters" in done.stderr + done.stdout
