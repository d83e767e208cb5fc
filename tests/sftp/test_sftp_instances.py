"""Three gateways on one root, one SFTP source and one PostgreSQL ledger, one of them killed and
restarted again and again, PostgreSQL itself restarted once: every file has exactly one
outcome and every output is published exactly once.

The file count is `GATEWAY_FLEET_FILES` (default 5,000, the issue's count: 4m40s on this
project's two-core machine with other jobs running, under a minute for 1,500 when idle; a
smaller count for a quick run), two thirds dropped in the shared folder, one third on the SFTP
server, which is `ordered`.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from benchmarks.instances import Fleet, adjustment, config_text
from benchmarks.postgres import Postgres
from tests.conftest import run_cli, throwaway_postgres
from tests.sftp.conftest import server_options

FILES = int(os.environ.get("GATEWAY_FLEET_FILES", "5000"))
KILL_EVERY = 3.0
TIMEOUT = 1500.0


@pytest.fixture(name="own_postgres")
def _own_postgres() -> Any:
    """A PostgreSQL server of this test's own: it is restarted in the middle."""
    with throwaway_postgres() as server:
        yield server


def states(url: str) -> list[tuple[str, str, str]]:
    """(source, name, state) of every file row; empty while the database is away."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            rows = conn.execute("SELECT source, original_name, state FROM files")
            return [(r[0], r[1], r[2]) for r in rows]
    except psycopg.OperationalError:
        return []


@pytest.mark.timeout(TIMEOUT + 300)
def test_three_instances_share_the_work_through_kills_and_a_database_restart(
    own_postgres: Postgres, sshd: Any, remote: Path, tmp_path: Path
) -> None:
    url = own_postgres.database("fleet")
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    names = {}
    for n in range(FILES):
        name = f"adj-{n:05}.csv"
        folder = remote / "in" if n % 3 == 2 else root / "inbound"
        (folder / name).write_text(adjustment(n), encoding="utf-8")
        names[name] = "partner" if n % 3 == 2 else "drop"
    sftp = "".join(f"{k} = {json.dumps(v)}\n" for k, v in server_options(sshd, remote / "in").items())
    config = tmp_path / "gateway.toml"
    config.write_text(config_text(root, url, lease=2, extra=(
        f'[[source]]\nname = "partner"\ntype = "sftp"\nordered = true\nsettle_seconds = 0.05\n'
        f"poll_seconds = 0.5\n{sftp}"
    )), encoding="utf-8")  # fmt: skip
    assert run_cli("ledger", "migrate", "--config", config).returncode == 0
    fleet = Fleet(config, root, tmp_path / "logs", 3)
    fleet.start_all()
    kills, restarted_db, crashes = 0, False, []
    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            final = [s for s in states(url) if s[2] not in ("claimed", "processing", "publishing")]
            if len(final) >= FILES:
                break
            assert time.monotonic() < deadline, f"{len(final)} of {FILES} files final after {TIMEOUT:g}s"
            if not restarted_db and len(final) > FILES // 3:
                own_postgres.stop()
                time.sleep(1)
                own_postgres.start()
                restarted_db = True
            time.sleep(KILL_EVERY)
            crashes += fleet.supervise()
            fleet.kill(0)
            fleet.start(0)
            kills += 1
    finally:
        fleet.stop()
    rows = states(url)
    assert kills >= 3 and restarted_db
    per_file = Counter((source, name) for source, name, _ in rows)
    assert {k for k, n in per_file.items() if n > 1} == set()
    assert sorted(rows) == sorted((source, name, "accepted") for name, source in names.items())
    outputs = list((root / "outbound" / "canonical").iterdir())
    docs = Counter(json.loads(p.read_text(encoding="utf-8"))["doc_id"] for p in outputs)
    assert len(outputs) == FILES and set(docs.values()) == {1}
    assert sorted(docs) == sorted(f"ADJ-{n}" for n in range(FILES))
    assert not list((root / "work").iterdir())
    kept = sorted(n for n, s in names.items() if s == "partner")
    assert sorted(p.name for p in (remote / "in").iterdir()) == kept  # listed by one poller, fetched once
    # The ordered source's files were accepted in their arrival order, whoever held it.
    with psycopg.connect(url) as conn:
        accepted = [r[0] for r in conn.execute(
            "SELECT f.original_name FROM events e JOIN files f USING (file_id)"
            " WHERE f.source = 'partner' AND e.event = 'state_accepted' ORDER BY e.seq"
        )]  # fmt: skip
    assert accepted == kept
    # A crash of an instance while the database was away is the supervisor's to restart (exit 1).
    assert set(crashes) <= {1}, crashes
