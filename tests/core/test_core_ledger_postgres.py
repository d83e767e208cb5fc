"""What only the PostgreSQL ledger has: its dialect, migrations, configuration, and several
instances sharing it (exclusive claims, takeover after the lease, fencing, one holder per role)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from gateway import metrics, retention
from gateway.alerts import Monitor
from gateway.cli import report
from gateway.config import Config
from gateway.console.app import build
from gateway.errors import ClaimTaken, ConfigError, LeaseLost, LedgerUnreachable
from gateway.ledger import schema
from gateway.ledger.connection import placeholders
from gateway.ledger.postgres import PG_STEPS, PostgresLedger, ddl, shown
from gateway.ledger.protocol import Commit
from gateway.ledger.states import FileState
from tests.conftest import run_cli


@pytest.fixture(name="open_pg")
def _open_pg(pg_url: str) -> Iterator[Callable[[], PostgresLedger]]:
    """Opens ledgers on one schema (each one as another instance would), closing them at the end."""
    opened: list[PostgresLedger] = []

    def make() -> PostgresLedger:
        opened.append(PostgresLedger(pg_url))
        return opened[-1]

    yield make
    for ledger in opened:
        ledger.close()


def die(ledger: PostgresLedger) -> None:
    """Make an instance look dead to the others: no heartbeat since long before its lease."""
    assert ledger.instances is not None
    ledger.instances.stopped.set()
    ledger.instances.thread.join()
    ledger.db.execute("UPDATE instances SET heartbeat_at = now() - interval '1 hour' WHERE instance = ?",
                      (ledger.instances.instance,))  # fmt: skip


def test_statements_are_translated_once_and_literals_kept() -> None:
    assert placeholders("SELECT '?%' FROM t WHERE a = ? AND b LIKE 'x%'") == (
        "SELECT '?%' FROM t WHERE a = %s AND b LIKE 'x%'", False)  # fmt: skip
    assert placeholders("WHERE a = ?1 OR b = ?1") == ("WHERE a = %(p1)s OR b = %(p1)s", True)


def test_tables_get_64_bit_integers_serial_keys_and_a_rowid() -> None:
    text = ddl(schema.FRESH)
    assert "INTEGER" not in text
    assert "seq BIGSERIAL PRIMARY KEY" in text and "item BIGSERIAL PRIMARY KEY" in text
    outputs = text[text.index("CREATE TABLE IF NOT EXISTS outputs"):]
    assert outputs[: outputs.index(");")].rstrip().endswith("rowid BIGSERIAL")


def test_migrations_are_versioned_and_run_once(open_pg: Callable[[], PostgresLedger]) -> None:
    first = open_pg()
    assert first.found == {"shared": 0}
    assert first.version == {"shared": schema.VERSION, "postgresql": len(PG_STEPS)}
    again = open_pg()
    assert again.found == again.version


def test_the_migrate_command_names_the_versions(pg_url: str, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(f'ledger = "{pg_url}"\n', encoding="utf-8")
    done = run_cli("ledger", "migrate", "--config", config, "--root", tmp_path)
    assert done.returncode == 0, done.stderr
    versions = f"shared 0 -> {schema.VERSION}, postgresql 0 -> {len(PG_STEPS)}"
    assert done.stdout.strip() == f"ledger schema: {versions}"
    again = run_cli("ledger", "migrate", "--config", config, "--root", tmp_path)
    assert again.stdout.strip().startswith(f"ledger schema: shared {schema.VERSION} -> {schema.VERSION}")


def test_a_password_never_sits_in_the_config_or_a_message(
    make_config: Callable[..., Config], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="has a password: put it in ledger_password_file"):
        make_config(ledger="postgresql://gw:s3cret@db/gw")
    with pytest.raises(ConfigError, match="expected a postgresql:// URL"):
        make_config(ledger="mysql://db/gw")
    (tmp_path / "pw").write_text("from-file\n", encoding="utf-8")
    assert make_config(ledger="postgresql://gw@db/gw", ledger_password_file=str(tmp_path / "pw")
                       ).ledger_password() == "from-file"  # fmt: skip
    monkeypatch.setenv("GW_PW", "from-env")
    from_env = make_config(ledger="postgresql://gw@db/gw", ledger_password_env="GW_PW")
    assert from_env.ledger_password() == "from-env"
    assert shown("postgresql://gw:s3cret@db:5432/gw") == "postgresql://gw:***@db:5432/gw"


def test_a_file_is_claimed_by_one_instance_only(
    open_pg: Callable[[], PostgresLedger], tmp_path: Path
) -> None:
    a, b = open_pg(), open_pg()
    a.join(30), b.join(30)
    row = a.claim("in", "x.csv", "/in/x.csv", 5, 7, tmp_path)
    with pytest.raises(ClaimTaken):
        b.claim("in", "x.csv", "/in/x.csv", 5, 7, tmp_path)
    assert [r.file_id for r in b.files()] == [row.file_id]  # the refused claim left nothing
    # Another file at the same path (new size or mtime) is a new claim; so is one that vanished.
    b.claim("in", "x.csv", "/in/x.csv", 6, 8, tmp_path)
    a.vanish(row.file_id)
    assert b.claim("in", "x.csv", "/in/x.csv", 5, 7, tmp_path).state is FileState.CLAIMED


def test_a_dead_instances_file_is_taken_over_and_the_old_holder_fenced(
    open_pg: Callable[[], PostgresLedger], tmp_path: Path
) -> None:
    a, b = open_pg(), open_pg()
    a.join(30), b.join(30)
    row = a.claim("in", "x.csv", "/in/x.csv", 5, 7, tmp_path)
    a.start(row.file_id, "abc", 5)
    assert not b.take(row.file_id)  # its holder is alive
    die(a)
    assert b.take(row.file_id)
    with pytest.raises(LeaseLost):
        a.commit(row.file_id, Commit("csv", "utf-8", 1, [], []))
    with pytest.raises(LeaseLost):
        a.stage_output(row.file_id, "canonical", "x.jsonl", "x.jsonl.tmp")
    with pytest.raises(LeaseLost):  # nor delete or rename the new holder's files
        a.outputs(row.file_id)
    b.commit(row.file_id, Commit("csv", "utf-8", 1, [], []))
    b.accept(row.file_id, None)
    assert b.get(row.file_id).state is FileState.ACCEPTED  # type: ignore[union-attr]


def test_a_role_has_one_holder_until_it_goes(open_pg: Callable[[], PostgresLedger]) -> None:
    a, b = open_pg(), open_pg()
    peers_a, peers_b = a.join(30), b.join(30)
    assert peers_a.holds("poll:sftp")
    assert peers_a.holds("poll:sftp")  # asked again each round
    assert not peers_b.holds("poll:sftp")
    assert peers_b.holds("batches")
    peers_a.leave()  # its session closes: PostgreSQL frees the lock
    assert peers_b.holds("poll:sftp")


def test_status_lists_the_live_instances(
    open_pg: Callable[[], PostgresLedger], make_config: Callable[..., Config], pg_url: str, tmp_path: Path
) -> None:
    a = open_pg()
    peers = a.join(30)
    a.claim("in", "x.csv", "/in/x.csv", 5, 7, tmp_path)
    data = report.status(make_config(ledger=pg_url))
    (instance,) = data["instances"]
    assert (instance["instance"], instance["claims"]) == (peers.instance, 1)
    assert f"instance {peers.instance} (host " in report.render_status(data)


def test_an_unreachable_database_is_a_clear_message_and_exit_1(tmp_path: Path) -> None:
    with pytest.raises(LedgerUnreachable, match=r"postgresql://gw:\*\*\*@127.0.0.1:1/gw does not answer"):
        PostgresLedger("postgresql://gw:pw@127.0.0.1:1/gw", wait=1)
    # Exit 1, not 78: the service manager starts it again until the database is back.
    config = tmp_path / "gateway.toml"
    config.write_text('ledger = "postgresql://gw@127.0.0.1:1/gw"\n', encoding="utf-8")
    done = run_cli("trace", "x", "--config", config, "--root", tmp_path, timeout=120)
    assert done.returncode == 1 and "127.0.0.1:1/gw does not answer" in done.stderr


def test_a_quarantine_retry_beside_running_gateways_holds_what_it_claims(pg_url: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    (root / "inbound" / "bad.csv").write_text("adjustment_id,sku,mode,quantity_change\nADJ-1,A,delta,x\n")
    config = tmp_path / "gateway.toml"
    source = '[[source]]\nname = "in"\nsettle_seconds = 0.05\n'
    config.write_text(f'ledger = "{pg_url}"\n{source}', encoding="utf-8")
    assert run_cli("run", "--once", "--config", config, "--root", root).returncode == 0
    retried = run_cli("quarantine", "retry", "--all", "--config", config, "--root", root)
    assert retried.returncode == 1, retried.stderr  # the kept original is still broken
    assert '"event": "instance_joined"' in retried.stderr
    ledger = PostgresLedger(pg_url)
    (new,) = [r for r in ledger.files() if r.retry_of]
    holder = ledger.db.execute("SELECT instance FROM claims WHERE file_id = ?", (new.file_id,)).fetchone()
    assert holder is not None and ledger.db.execute("SELECT count(*) FROM instances").fetchone()[0] == 0
    ledger.close()


def test_only_the_holder_of_the_batches_role_writes_batches(open_pg: Callable[[], PostgresLedger]) -> None:
    a, b = open_pg(), open_pg()
    a.join(30), b.join(30)
    assert a.close_batch("b1", "lines", None, "t") is None  # nothing waits; a holds the role now
    with pytest.raises(LeaseLost, match="batches role"):
        b.close_batch("b2", "lines", None, "t")
    with pytest.raises(LeaseLost):
        b.publish_batch("b1", "t", [])


def test_metrics_and_the_console_show_each_live_instance(
    open_pg: Callable[[], PostgresLedger], make_config: Callable[..., Config], pg_url: str, tmp_path: Path
) -> None:
    a, b = open_pg(), open_pg()
    first, second = a.join(30), b.join(30)
    a.claim("in", "x.csv", "/in/x.csv", 5, 7, tmp_path)
    config = make_config(ledger=pg_url)
    body, _ = metrics.exposition(config, a)
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    held = {s.labels["instance"]: s.value for s in families["gateway_instance_claims"].samples}
    assert held == {first.instance: 1, second.instance: 0}
    assert len(families["gateway_instance_heartbeat_timestamp_seconds"].samples) == 2
    page = TestClient(build(config), base_url="http://127.0.0.1:8470").get("/partners")
    assert page.status_code == 200
    listed = page.text.split("<h1>Instances")[1].split("<h1>")[0]
    assert first.instance in listed and second.instance in listed


def test_operations_and_every_console_page_run_on_postgresql(
    open_pg: Callable[[], PostgresLedger], make_config: Callable[..., Config], pg_url: str, tmp_path: Path
) -> None:
    """The SQL written for SQLite by the operations and the console runs on PostgreSQL too: a
    quarantined file with a warning, an operator's action, an interchange overdue, the alert
    monitor, retention, and every page of the console."""
    ledger = open_pg()
    ledger.join(30)
    row = ledger.claim("in", "x.edi", "/in/x.edi", 5, 7, tmp_path)
    ledger.start(row.file_id, "a" * 64, 5)
    ledger.note_read(row.file_id, "edifact", [("unb", "SENDER:REF1")])
    warning = {"code": "bad_character", "severity": "warning", "message": "lower case", "location": {}}
    error = {"code": "wrong_count", "severity": "error", "message": "says 3", "location": {}}
    ledger.quarantine(row.file_id, "validate", [error, warning], "q", "latin-1")
    seq = ledger.request_action(row.file_id, "discard", "ann", "a test")
    assert [a.seq for a in ledger.pending_actions()] == [seq]
    ledger.interchange_sent("f-1", "edi-out", "RETAILER", "GATEWAY", "REF-1", [{"ref": "1"}], 0.0)
    config = make_config(ledger=pg_url, retention_days=1)
    Monitor(config, ledger).check()
    retention.prune(config, ledger)
    assert ledger.warning_counts() == {"in": {"files": 1, "warnings": 1}}
    assert ledger.ack_summary() == {"RETAILER": {"overdue": 1}}
    web = TestClient(build(config), base_url="http://127.0.0.1:8470")
    for page in ("/quarantine", "/files", f"/files/{row.file_id}", "/partners", "/targets", "/metrics"):
        assert web.get(page).status_code == 200, page
