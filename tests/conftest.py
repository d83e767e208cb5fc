"""Shared fixtures: a state root per test, the shared corpus, and running the CLI."""

from __future__ import annotations

import itertools
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings

from benchmarks.postgres import Postgres, binaries
from benchmarks.sshd import SSHD
from gateway import config as config_module
from gateway.config import Config

# Fixtures of the fault mechanisms (tmpfs, ext4, serve) and of the console's quarantine cases live
# in modules of their own: a second conftest.py would shadow this one for the tests that import
# `conftest` by name.
pytest_plugins = ["tests.faults.mechanisms", "tests.console.cases"]

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
CORPUS = REPO.parent / "shared" / "corpus"
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Property tests are bounded by their own max_examples. Under CI they are derandomized (the
# same examples every run: a failure reproduces, a pass is not luck); elsewhere each run
# explores new examples and a failure prints the blob that replays it (@reproduce_failure).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if CI else "dev")


@pytest.fixture(name="root")
def _root(tmp_path: Path) -> Path:
    """An empty state directory."""
    root = tmp_path / "root"
    (root / "inbound").mkdir(parents=True)
    return root


@pytest.fixture(name="postgres", scope="session")
def _postgres() -> Iterator[Postgres]:
    """One throwaway PostgreSQL server for the session (Debian's `postgresql`; tests/run.sh
    installs it)."""
    with throwaway_postgres() as server:
        yield server
        # Pools a test left open would retry the stopped server and fill the end of the run with
        # connection errors that say nothing about any test.
        logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)


@contextmanager
def throwaway_postgres() -> Iterator[Postgres]:
    """A PostgreSQL server started in a temporary folder on 127.0.0.1, removed afterwards."""
    found = binaries()
    if found is None:
        unavailable("PostgreSQL is not installed: install Debian's postgresql (tests/run.sh does)")
    server = Postgres(found)
    server.start()
    try:
        yield server
    finally:
        server.remove()


_schemas = itertools.count(1)


@pytest.fixture(name="pg_url")
def _pg_url(postgres: Postgres) -> str:
    """A ledger URL of an empty schema of its own on the session's PostgreSQL."""
    import psycopg

    name = f"test_{os.getpid()}_{next(_schemas)}"
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{postgres.url}?options=-csearch_path%3D{name}"


@pytest.fixture(name="engine", params=["sqlite", "postgresql"])
def _engine(request: pytest.FixtureRequest) -> str:
    """The ledger's URL for a test run over both engines ("" for SQLite in the state folder)."""
    return "" if request.param == "sqlite" else str(request.getfixturevalue("pg_url"))


@pytest.fixture(name="make_config")
def _make_config(root: Path, request: pytest.FixtureRequest) -> Callable[..., Config]:
    """Build a Config from TOML-shaped keyword arguments, rooted at `root`; fast settling. In a
    test that uses `engine`, on that engine's ledger."""
    ledger = str(request.getfixturevalue("engine")) if "engine" in request.fixturenames else ""

    def make(**raw: object) -> Config:
        raw.setdefault("source", [{"name": "inbound", "settle_seconds": 0.05, "poll_seconds": 0.2}])
        if ledger:
            raw.setdefault("ledger", ledger)
        return config_module.parse(dict(raw), root)

    return make


def run_cli(
    *args: str | Path, cwd: Path | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Run `python -m gateway` as a real process and capture its output.

    The time-out is generous: a `run --once` over thousands of records takes a while on a loaded
    machine, and a test that fails only there is a flaky test.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "gateway", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or REPO,
        env=env,
        check=False,
    )


def unavailable(message: str) -> NoReturn:
    """Skip a test whose real part is missing here; under CI (which must run it) fail instead."""
    if CI:
        pytest.fail(message)
    pytest.skip(message)


def require_sshd() -> None:
    """The system's OpenSSH server, which the SFTP tests and the crash harness run."""
    if not SSHD.exists():
        unavailable(f"{SSHD} is missing: install openssh-server (tests/run.sh does)")


@pytest.fixture(name="corpus")
def _corpus() -> Path:
    """The shared real-world corpus (../shared/corpus beside the checkout)."""
    if not CORPUS.is_dir():
        unavailable("../shared/corpus is not present beside this checkout")
    return CORPUS
