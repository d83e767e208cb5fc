"""Password login that succeeds, against the real sshd, with a throwaway system account.

sshd checks passwords against the system's accounts, so the test creates one with a random
name and password and removes it afterwards. That needs root, which CI is; elsewhere the test
is skipped, and with CI=true a missing root is a failure, never a skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.ledger.sqlite import SqliteLedger
from tests.conftest import unavailable
from tests.sftp.conftest import settled


@pytest.fixture(name="account")
def _account() -> Iterator[tuple[str, str]]:
    if os.geteuid() != 0 or not shutil.which("useradd"):
        unavailable("creating a throwaway login account needs root and useradd")
    name = "gwsftp" + secrets.token_hex(4)
    password = secrets.token_urlsafe(18)
    subprocess.run(
        ["useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)
        yield name, password
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


@pytest.fixture(name="readable")
def _readable() -> Iterator[Path]:
    """A folder the unprivileged account can read (pytest's own tmp folders are root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="gw-sftp-pw-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("via", ["password_env", "password_file"])
def test_password_login_fetches(
    make_source, account: tuple[str, str], readable: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, via: str,
) -> None:  # fmt: skip
    name, password = account
    (readable / "orders.csv").write_bytes(b"sku,qty\nA,1\n")
    (readable / "orders.csv").chmod(0o644)
    if via == "password_env":
        monkeypatch.setenv("GW_TEST_SFTP_PASSWORD", password)
        options = {"password_env": "GW_TEST_SFTP_PASSWORD"}
    else:
        secret = tmp_path / "password"
        secret.write_text(password + "\n")
        options = {"password_file": str(secret)}
    source = make_source(remote_dir=readable, key_file=None, username=name, after="keep", **options)
    ready = settled(source)
    assert [c.name for c in ready] == ["orders.csv"]
    ledger = SqliteLedger(tmp_path / "state" / "gateway.db")
    try:
        row = source.claim(ledger, tmp_path / "work", ready[0])
    finally:
        ledger.close()
    assert Path(row.work_path or "").read_bytes() == b"sku,qty\nA,1\n"
    assert (readable / "orders.csv").exists()  # after = "keep"
