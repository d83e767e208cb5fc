"""A real OpenSSH server for the SFTP tests: one per session, plus fresh ones for fault tests."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.sshd import Sshd
from gateway.config import SourceConfig
from tests.conftest import require_sshd


@pytest.fixture(name="sshd", scope="session")
def _sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """One sshd on 127.0.0.1 for the whole session."""
    require_sshd()
    server = Sshd(tmp_path_factory.mktemp("sshd"))
    server.start()
    yield server
    server.remove()


@pytest.fixture(name="fresh_sshd")
def _fresh_sshd(sshd: Sshd, tmp_path: Path) -> Iterator[Sshd]:
    """An sshd of its own (same keys as the session's), for a test that stops, freezes or restarts it."""
    base = tmp_path / "sshd"
    base.mkdir()
    for key in [*sshd.host_keys.values(), *sshd.user_keys.values()]:
        for path in (key, Path(f"{key}.pub")):
            shutil.copy2(path, base / path.name)
    server = Sshd(base)
    server.start()
    yield server
    server.remove()


@pytest.fixture(name="remote")
def _remote(tmp_path: Path) -> Path:
    """A folder the server serves (the sftp user sees the real file system: no chroot)."""
    folder = tmp_path / "remote"
    (folder / "in").mkdir(parents=True)
    return folder


def server_options(server: Sshd, remote_dir: Path | str, **extra: Any) -> dict[str, Any]:
    """sftp source options for `server`, with fast timings."""
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "username": server.user,
        "key_file": str(server.user_keys["ed25519"]),
        "known_hosts": str(server.known_hosts),
        "remote_dir": str(remote_dir),
        "timeout_seconds": 5,
    }
    options.update(extra)
    return {k: v for k, v in options.items() if v is not None}


def sftp_source_config(
    server: Sshd, remote_dir: Path | str, name: str = "partner", **extra: Any
) -> SourceConfig:
    """A SourceConfig for an sftp source, fast settling."""
    settle = extra.pop("settle_seconds", 0.05)
    poll = extra.pop("poll_seconds", 0.1)
    done_suffix = extra.pop("done_suffix", None)
    return SourceConfig(
        name=name,
        type="sftp",
        settle_seconds=settle,
        poll_seconds=poll,
        done_suffix=done_suffix,
        options=server_options(server, remote_dir, **extra),
    )


@pytest.fixture(name="make_source")
def _make_source(sshd: Sshd, remote: Path) -> Callable[..., Any]:
    """Build an SftpSource on the session server, closed after the test."""
    from gateway.sources.sftp import SftpSource

    made: list[SftpSource] = []

    def make(server: Sshd | None = None, remote_dir: Path | None = None, **extra: Any) -> SftpSource:
        config = sftp_source_config(server or sshd, remote_dir or remote / "in", **extra)
        source = SftpSource(config, threading.Event())
        made.append(source)
        return source

    yield make
    for source in made:
        source.stop()


def settled(source: Any, rounds: int = 3) -> list[Any]:
    """Poll until something is ready (a bounded number of rounds)."""
    for _ in range(rounds):
        ready = source.poll()
        if ready:
            return list(ready)
        time.sleep(source.config.settle_seconds + 0.02)
    return []
