"""Every paramiko exception has a meaning at the boundary; options are checked at config time."""

from __future__ import annotations

import importlib
import pkgutil

import paramiko
import pytest

from gateway.config import parse
from gateway.errors import ConfigError
from gateway.sources.sftp_connection import SSH_ERRORS, breaks_connection, describe, fingerprint, problems


def _subclasses(base: type) -> set[type]:
    found: set[type] = set()
    todo = [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_ssh_exception_has_a_mapping() -> None:
    for module in pkgutil.iter_modules(paramiko.__path__, "paramiko."):
        if module.name.endswith(("_winapi", "win_pageant", "win_openssh")):
            continue
        try:
            importlib.import_module(module.name)
        except ImportError:
            continue  # optional dependencies (GSS-API)
    missing = [
        f"{c.__module__}.{c.__qualname__}"
        for c in _subclasses(paramiko.SSHException)
        if c.__module__.startswith("paramiko") and c not in SSH_ERRORS
    ]
    assert missing == [], f"add these to gateway.sources.sftp_connection.SSH_ERRORS: {missing}"
    assert paramiko.SFTPError in SSH_ERRORS


def test_describe_names_the_kind() -> None:
    assert describe(paramiko.BadAuthenticationType("no", ["password"])).startswith(
        "the server does not allow"
    )
    assert describe(EOFError()).startswith("the server closed the connection")
    assert describe(TimeoutError("timed out")).startswith("timed out")
    assert describe(ConnectionResetError(104, "reset")).startswith("connection lost")
    assert describe(ValueError("plain")) == "plain"


def test_which_errors_break_the_connection() -> None:
    assert breaks_connection(EOFError())
    assert breaks_connection(TimeoutError())
    assert breaks_connection(paramiko.SSHException("x"))
    assert not breaks_connection(OSError(13, "Permission denied"))
    assert not breaks_connection(OSError(2, "No such file"))
    assert not breaks_connection(OSError("Failure"))


def test_fingerprint_form() -> None:
    key = paramiko.Ed25519Key.from_private_key_file  # noqa: F841 - keep the import honest
    rsa = paramiko.RSAKey.generate(1024)
    assert fingerprint(rsa).startswith("SHA256:")
    assert len(fingerprint(rsa)) == len("SHA256:") + 43


BASE = {"name": "p", "type": "sftp", "host": "h", "username": "u", "remote_dir": "/out",
        "key_file": "k", "known_hosts": "kh"}  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"port": "22"}, "port"),
        ({"port": 70000}, "port"),
        ({"after": "archive"}, "after"),
        ({"after": "move:"}, "after"),
        ({"max_files_per_poll": 0}, "max_files_per_poll"),
        ({"timeout_seconds": -1}, "timeout_seconds"),
        ({"host_key_fingerprint": "MD5:aa:bb"}, "host_key_fingerprint"),
        ({"key_file": None}, "key_file: required"),
        ({"known_hosts": None}, "known_hosts: required"),
    ],
)
def test_bad_options_are_config_errors(extra: dict[str, object], problem: str) -> None:
    raw = {k: v for k, v in {**BASE, **extra}.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        parse({"source": [raw]})
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_good_options_pass() -> None:
    assert problems({**BASE, "after": "move:/out/archive", "port": 2222, "max_files_per_poll": 10}) == []


@pytest.mark.parametrize(
    ("deliver", "problem"),
    [
        ("sftp:nobody:/in", "no sftp source named 'nobody'"),
        ("sftp:p", "expected 'sftp:<source-name>:/remote/folder'"),
        ("sftp:p:/in?exists=maybe", "?exists="),
        ("sftp:p:/in?mode=unique", "?exists="),
    ],
)
def test_bad_deliveries_are_config_errors(deliver: str, problem: str) -> None:
    raw = {"source": [BASE], "target": [{"name": "t", "format": "jsonl", "deliver": deliver}]}
    with pytest.raises(ConfigError) as caught:
        parse(raw)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_delivery_takes_server_settings_from_the_source(tmp_path) -> None:
    raw = {
        "source": [BASE],
        "target": [{"name": "t", "format": "jsonl", "deliver": "sftp:p:/in?exists=unique"}],
    }
    config = parse(raw, tmp_path)
    target = config.target("t")
    assert target.server is not None and target.server.options["host"] == "h"
    assert target.staging_dir == tmp_path / "work" / "outbound" / "t"
