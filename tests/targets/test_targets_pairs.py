"""Per-target outcomes: each target's share of an accepted file is delivered, or refused as a
case of its own (quarantine/<file_id>/<target>/), without holding back the other targets."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from gateway.config import load
from gateway.ledger.engines import open_ledger
from gateway.ledger.sqlite import SqliteLedger
from gateway.ledger.states import DeliveryState, FileState, OutputState
from gateway.service import Service
from tests.conftest import REPO, SAMPLES, run_cli

CSV = SAMPLES / "inbound" / "csv"

#: Sage takes the warehouse code as it comes (3 characters at most); NetSuite and the canonical
#: JSON Lines have no such limit.
PAIR_CONFIG = """
[[source]]
name = "wms"
side = "wms"
path = "inbound"

[[target]]
name = "sage"
format = "sage100.shipment"
{sage_options}

[[target]]
name = "netsuite"
format = "netsuite"
adjustment_account = "Inventory Adjustment"

[[route]]
doc_type = "shipment"
from = ["wms"]
to = ["sage", "netsuite", "canonical"]
"""


def write_config(path: Path, sage_options: str = "", ledger: str = "") -> Path:
    head = f'ledger = "{ledger}"\n' if ledger else ""
    path.write_text(head + PAIR_CONFIG.format(sage_options=sage_options), encoding="utf-8")
    return path


def test_a_warehouse_code_too_long_for_sage_is_a_case_for_sage_alone(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    config = write_config(tmp_path / "gateway.toml")
    text = (CSV / "erp-shipment.csv").read_text(encoding="utf-8").replace(",DC1,", ",DC-NORTH,")
    (root / "inbound" / "north.csv").write_text(text, encoding="utf-8")
    assert run_cli("--config", config, "--root", root, "run", "--once").returncode == 0

    ledger = SqliteLedger(root / "gateway.db")
    (row,) = ledger.files()
    assert row.state is FileState.ACCEPTED
    shares = {d.target: d.state for d in ledger.deliveries(file_id=row.file_id)}
    assert shares == {
        "sage": DeliveryState.REFUSED,
        "netsuite": DeliveryState.PUBLISHED,
        "canonical": DeliveryState.PUBLISHED,
    }
    ledger.close()
    assert len(list((root / "outbound" / "netsuite").iterdir())) == 1
    assert len(list((root / "outbound" / "canonical").iterdir())) == 1
    assert not (root / "outbound" / "sage").exists() or not list((root / "outbound" / "sage").iterdir())
    assert len(list((root / "archive").glob(f"*/{row.file_id}.north.csv"))) == 1

    case = root / "quarantine" / row.file_id / "sage"
    error = json.loads((case / "error.json").read_text(encoding="utf-8"))
    assert (error["stage"], error["target"], error["original_name"]) == ("write", "sage", "north.csv")
    (finding,) = error["errors"]
    assert (finding["code"], finding["value"]) == ("too_long", "DC-NORTH")
    assert finding["location"]["field"] == "WarehouseCode"
    assert "`lengths`" in error["remedy"] and "`value_map`" in error["remedy"]
    report = (case / "error.txt").read_text(encoding="utf-8")
    assert "WarehouseCode" in report and "remedy: for target 'sage'" in report

    listed = run_cli("--config", config, "--root", root, "quarantine", "list", "--json")
    assert [(e["case"], e["target"]) for e in json.loads(listed.stdout)] == [(f"{row.file_id}/sage", "sage")]
    shown = run_cli("--config", config, "--root", root, "quarantine", "show", f"{row.file_id}/sage")
    assert json.loads(shown.stdout)["target"] == "sage"
    status = json.loads(run_cli("--config", config, "--root", root, "status", "--json").stdout)
    assert (status["pair_cases"], status["quarantine"]) == ({"sage": 1}, 0)
    text = run_cli("--config", config, "--root", root, "status").stdout
    assert "target sage: 1 accepted file(s) it refused (pair cases)" in text
    assert f"{row.file_id}/sage [write]" in text

    # The remedy: a value map for the new warehouse; then the pair alone is tried again.
    write_config(config, 'value_map = { warehouse = { "DC-NORTH" = "003", DC2 = "001" } }')
    # The file's id names its pair cases.
    retried = run_cli("--config", config, "--root", root, "quarantine", "retry", row.file_id)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert f"{row.file_id}/sage: retried: published" in retried.stdout
    (sage,) = (root / "outbound" / "sage").iterdir()
    assert ",003," in sage.read_text(encoding="cp1252")
    assert len(list((root / "outbound" / "netsuite").iterdir())) == 1  # not delivered twice
    assert not (root / "quarantine" / row.file_id).exists()

    ledger = SqliteLedger(root / "gateway.db")
    attempts = [(d.attempt, d.state) for d in ledger.deliveries(file_id=row.file_id) if d.target == "sage"]
    assert attempts == [(1, DeliveryState.RETRIED), (2, DeliveryState.PUBLISHED)]
    ledger.close()
    trace = run_cli("--config", config, "--root", root, "trace", row.file_id).stdout
    assert "delivery_retried" in trace and "delivery sage #2: published" in trace
    status = json.loads(run_cli("--config", config, "--root", root, "status", "--json").stdout)
    assert status["pair_cases"] == {}


def test_a_pair_case_can_be_discarded_with_a_reason(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    config = write_config(tmp_path / "gateway.toml")
    text = (CSV / "erp-shipment.csv").read_text(encoding="utf-8").replace(",DC1,", ",DC-NORTH,")
    (root / "inbound" / "north.csv").write_text(text, encoding="utf-8")
    assert run_cli("--config", config, "--root", root, "run", "--once").returncode == 0
    (case,) = (root / "quarantine").iterdir()
    done = run_cli("--config", config, "--root", root, "quarantine", "discard", f"{case.name}/sage",
                   "--reason", "keyed in by hand")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (root / "archive" / "discarded" / case.name / "sage" / "error.json").is_file()
    assert not case.exists()
    again = run_cli("--config", config, "--root", root, "quarantine", "retry", f"{case.name}/sage")
    assert again.returncode == 1 and "is not in quarantine" in again.stderr


def example(name: str, tmp_path: Path) -> tuple[Path, Path]:
    """A shipped example configuration with its absolute paths moved into `tmp_path`."""
    root = tmp_path / "root"
    text = (REPO / "deploy" / name).read_text(encoding="utf-8")
    text = text.replace('state_dir = "/var/lib/gateway"', f'state_dir = "{root}"')
    text = text.replace('"local:/srv/wms/import"', f'"local:{tmp_path / "wms-import"}"')
    assert "/var/" not in text and "/srv/" not in text
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return root, path


EXAMPLES = {
    "gateway.toml.example": {
        "inbound/erp": ["sales-orders.csv", "products.csv", "customers-windows1252.csv"],
        "inbound/wms": ["shipments.csv", "adjustments.csv"],
    },
    "erp-targets.toml.example": {
        "inbound/wms": ["erp-shipment.csv", "erp-adjustment.csv", "erp-receipt-po.csv", "erp-transfer.csv"],
        "inbound/erp": ["erp-product.csv", "erp-customer.csv"],
    },
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_output_of_every_target_is_published_with_the_example_configs(
    name: str, tmp_path: Path
) -> None:
    root, path = example(name, tmp_path)
    for folder, files in EXAMPLES[name].items():
        (root / folder).mkdir(parents=True)
        for file in files:
            shutil.copy(CSV / file, root / folder / file)
    done = run_cli("--config", path, "run", "--once")
    assert done.returncode == 0, done.stdout + done.stderr
    config = load(path)
    ledger = open_ledger(config)
    rows = ledger.files()
    assert {r.original_name: r.state for r in rows} == dict.fromkeys(
        [f for files in EXAMPLES[name].values() for f in files], FileState.ACCEPTED
    )
    assert ledger.deliveries(DeliveryState.REFUSED) == []
    # What the examples show: two targets giving one file's outputs the same name.
    names = [(row.file_id, o.path) for row in rows for o in ledger.outputs(row.file_id)]
    assert len(set(names)) < len(names)
    targets = set()
    for row in rows:
        for output in ledger.outputs(row.file_id):
            targets.add(output.target)
            assert output.state is OutputState.PUBLISHED
            assert (config.target(output.target).local_dir / output.path).is_file()
            assert not Path(output.tmp_path).exists()
    ledger.close()
    assert targets == {t.name for t in config.targets} | {"canonical"}
    leftovers = [p for p in [*root.rglob("*.tmp"), *tmp_path.glob("wms-import/*.tmp")] if p.is_file()]
    assert leftovers == []


def test_log_events_carry_the_file_they_are_about(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    text = (CSV / "erp-shipment.csv").read_text(encoding="utf-8").replace(",DC1,", ",DC-NORTH,")
    (root / "inbound" / "north.csv").write_text(text, encoding="utf-8")
    shutil.copy(CSV / "broken-adjustment.csv", root / "inbound" / "broken.csv")
    config = load(write_config(tmp_path / "gateway.toml"), root)
    ledger = open_ledger(config)
    with capture_logs(processors=[merge_contextvars]) as events:
        assert Service(config, ledger).run(once=True) == 0
    ids = {row.original_name: row.file_id for row in ledger.files()}
    ledger.close()

    def about(name: str, event: str) -> dict[str, object]:
        (found,) = [e for e in events if e["event"] == event and e.get("name") == name]
        assert (found["file_id"], found["source"]) == (ids[name], "wms")
        return found

    processed = about("north.csv", "file_processed")
    assert (processed["outcome"], processed["refused_targets"], processed["records"]) == (
        "accepted",
        ["sage"],
        2,
    )
    refused = about("north.csv", "delivery_refused")
    assert (refused["log_level"], refused["target"], refused["code"]) == ("warning", "sage", "too_long")
    quarantined = about("broken.csv", "file_quarantined")
    assert (quarantined["log_level"], quarantined["stage"]) == ("warning", "validate")
    assert about("broken.csv", "file_processed")["outcome"] == "quarantined"
    # The context ends with the file: the service's own events name no file.
    (stopped,) = [e for e in events if e["event"] == "service_stopped"]
    assert "file_id" not in stopped and "name" not in stopped


def test_a_pair_attempt_cut_short_is_finished_when_the_service_starts(tmp_path: Path, engine: str) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    text = (CSV / "erp-shipment.csv").read_text(encoding="utf-8").replace(",DC1,", ",DC-NORTH,")
    (root / "inbound" / "north.csv").write_text(text, encoding="utf-8")
    path = write_config(tmp_path / "gateway.toml", ledger=engine)
    ledger = open_ledger(load(path, root))
    assert Service(load(path, root), ledger).run(once=True) == 0
    (row,) = ledger.files()
    # A crash right after `quarantine retry` recorded the new attempt, before it wrote anything.
    ledger.retry_delivery(row.file_id, "sage")
    ledger.close()
    sage_options = 'value_map = { warehouse = { "DC-NORTH" = "003", DC2 = "001" } }'
    fixed = load(write_config(path, sage_options, ledger=engine), root)
    ledger = open_ledger(fixed)
    assert Service(fixed, ledger).run(once=True) == 0
    (sage,) = (root / "outbound" / "sage").iterdir()
    (delivery,) = [d for d in ledger.deliveries(file_id=row.file_id) if d.attempt == 2]
    assert delivery.state is DeliveryState.PUBLISHED
    # A crash between the intent and the rename: the next start renames, once.
    (output,) = ledger.outputs(row.file_id, "sage")
    sage.rename(output.tmp_path)
    ledger.db.execute("UPDATE outputs SET state = ? WHERE target = 'sage'", (OutputState.INTENT,))
    ledger.db.execute("UPDATE deliveries SET state = ? WHERE attempt = 2", (DeliveryState.PUBLISHING,))
    ledger.close()
    ledger = open_ledger(fixed)
    assert Service(fixed, ledger).run(once=True) == 0
    assert [p.name for p in (root / "outbound" / "sage").iterdir()] == [sage.name]
    assert [o.state for o in ledger.outputs(row.file_id, "sage")] == [OutputState.PUBLISHED]
    assert ledger.deliveries(DeliveryState.PUBLISHING, DeliveryState.WRITING, DeliveryState.REFUSED) == []
    ledger.close()
    assert not (root / "quarantine" / row.file_id).exists()
