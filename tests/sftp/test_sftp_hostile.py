"""A hostile SFTP server listing names with path separators: nothing outside the folder is touched."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.sshd import Sshd
from gateway.config import SourceConfig
from gateway.errors import SourceUnavailable
from gateway.ledger.sqlite import SqliteLedger
from gateway.sources.sftp import SftpSource
from tests.conftest import run_cli
from tests.sftp.conftest import settled
from tests.sftp.hostile_server import EVIL, HOSTILE_NAMES, HostileSftp

CSV = b"adjustment_id,sku,mode,quantity_change\nADJ-1,SKU-1,delta,3\n"


@pytest.fixture(name="hostile")
def _hostile(sshd: Sshd, tmp_path: Path) -> Iterator[HostileSftp]:
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "good.csv").write_bytes(CSV)
    evil = tmp_path / "evil.bin"
    evil.write_bytes(EVIL)
    server = HostileSftp(folder, "/in", sshd.host_keys["ed25519"], evil)
    server.start()
    yield server
    server.stop()


def options(sshd: Sshd, server: HostileSftp, tmp_path: Path) -> dict[str, object]:
    key_type, blob = Path(f"{sshd.host_keys['ed25519']}.pub").read_text(encoding="ascii").split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{server.port} {key_type} {blob}\n", encoding="ascii")
    return {
        "host": "127.0.0.1", "port": server.port, "username": "partner",
        "key_file": str(sshd.user_keys["ed25519"]), "known_hosts": str(known),
        "remote_dir": "/in", "after": "keep", "timeout_seconds": 5,
    }  # fmt: skip


def outside_files(tmp_path: Path, server: HostileSftp) -> list[Path]:
    """Files holding the hostile content anywhere but the server's own evil file."""
    return [
        p for p in tmp_path.rglob("*")
        if p.is_file() and p != server.evil_file and p.read_bytes() == EVIL
    ]  # fmt: skip


def test_listed_paths_are_refused_and_never_opened(sshd: Sshd, hostile: HostileSftp, tmp_path: Path) -> None:
    config = SourceConfig(name="partner", type="sftp", settle_seconds=0.05, poll_seconds=0.1,
                          options=options(sshd, hostile, tmp_path))  # fmt: skip
    source = SftpSource(config, threading.Event())
    ledger = SqliteLedger(tmp_path / "state" / "gateway.db")
    try:
        ready = settled(source)
        assert [c.name for c in ready] == ["good.csv"]
        assert set(source.refused) == set(HOSTILE_NAMES)
        assert all("path separator" in why or "not a file name" in why for why in source.refused.values())
        row = source.claim(ledger, tmp_path / "state" / "work", ready[0])
        assert Path(row.work_path or "").read_bytes() == CSV
    finally:
        source.stop()
        ledger.close()
    assert hostile.opened == ["/in/good.csv"]
    assert outside_files(tmp_path, hostile) == []


def test_service_takes_the_good_file_and_shows_the_refused_names(
    sshd: Sshd, hostile: HostileSftp, tmp_path: Path
) -> None:
    opts = options(sshd, hostile, tmp_path)
    lines = ["[[source]]", 'name = "partner"', 'type = "sftp"', "settle_seconds = 0.05", "poll_seconds = 0.1"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in opts.items()]
    config = tmp_path / "gateway.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    root = tmp_path / "root"
    done = run_cli("--config", config, "run", "--once", "--root", root, timeout=120)
    assert done.returncode == 0, done.stderr
    refused = [json.loads(line) for line in done.stdout.splitlines() if '"name_refused"' in line]
    assert sorted(event["name"] for event in refused) == sorted(HOSTILE_NAMES)
    (output,) = (root / "outbound" / "canonical").iterdir()
    assert output.name.startswith("good.")
    assert hostile.opened == ["/in/good.csv"]
    assert outside_files(tmp_path, hostile) == []
    status = run_cli("--config", config, "status", "--json", "--root", root)
    assert status.returncode == 0, status.stderr
    assert "refused" in json.dumps(json.loads(status.stdout))


def test_a_name_that_is_not_utf8_is_refused_alone(sshd: Sshd, hostile: HostileSftp, tmp_path: Path) -> None:
    hostile.not_utf8 = True
    config = SourceConfig(name="partner", type="sftp", settle_seconds=0.05, poll_seconds=0.1,
                          options=options(sshd, hostile, tmp_path))  # fmt: skip
    source = SftpSource(config, threading.Event())
    try:
        # paramiko's fast listing decodes names strictly; the source lists by bytes from then on.
        with pytest.raises(SourceUnavailable, match="not UTF-8"):
            source.poll()
        ready = settled(source, rounds=5)
        assert [c.name for c in ready] == ["good.csv"]
        assert "not UTF-8" in source.refused["caf\\xe9.csv"]
        assert set(source.refused) == {*HOSTILE_NAMES, "caf\\xe9.csv"}
    finally:
        source.stop()
    assert hostile.opened == []  # listed, never opened
