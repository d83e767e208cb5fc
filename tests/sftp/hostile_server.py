"""A malicious SFTP server (paramiko's server interface) on 127.0.0.1, for the hostile-name tests.

It serves one real folder but lists extra names that a real file system cannot hold and a
hostile or broken server can send: `x/../../victim.txt`, `sub/x.csv`, `/abs/x.csv`. Every path
a client opens is recorded, and any path outside the served folder yields `EVIL` bytes, so a
test can tell whether the gateway read or wrote something it must not.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

EVIL = b"EVIL: this content came from a path outside the polled folder\n"
HOSTILE_NAMES = ("x/../../victim.txt", "sub/x.csv", "/abs/x.csv", "../up.csv")
#: A name in Latin-1, as an old Windows server writes it: not UTF-8.
NOT_UTF8 = b"caf\xe9.csv"


class _Handle(paramiko.SFTPHandle):
    def __init__(self, fh: Any, path: Path | None) -> None:
        super().__init__()
        self.readfile = fh
        self.path = path

    def stat(self) -> paramiko.SFTPAttributes:
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))


@dataclass
class HostileSftp:
    """The server: `start()` listens on a free port; `opened` lists every path asked for."""

    folder: Path
    remote_dir: str
    host_key: Path
    evil_file: Path
    opened: list[str] = field(default_factory=list)
    port: int = 0
    #: List a file whose name is not UTF-8 as well.
    not_utf8: bool = False

    def start(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        self.sock.close()

    def real(self, path: str) -> Path | None:
        """The served file for a remote path, or None when the path leaves the folder."""
        if path.startswith(self.remote_dir + "/"):
            name = path[len(self.remote_dir) + 1 :]
            if "/" not in name and name not in ("", ".", ".."):
                return self.folder / name
        return None

    def _serve(self) -> None:
        key = paramiko.Ed25519Key.from_private_key_file(str(self.host_key))
        transports: list[paramiko.Transport] = []
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            transport = paramiko.Transport(conn)
            transport.add_server_key(key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Files, self)
            transport.start_server(server=_Auth())
            transports.append(transport)
        for transport in transports:
            transport.close()


class _Auth(paramiko.ServerInterface):
    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Files(paramiko.SFTPServerInterface):
    def __init__(self, server: Any, hostile: HostileSftp, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.hostile = hostile

    def canonicalize(self, path: str) -> str:
        return path

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes] | int:
        if path.rstrip("/") != self.hostile.remote_dir:
            return paramiko.SFTP_NO_SUCH_FILE
        entries = [
            paramiko.SFTPAttributes.from_stat(p.stat(), p.name) for p in sorted(self.hostile.folder.iterdir())
        ]
        evil = self.hostile.evil_file.stat()
        entries += [paramiko.SFTPAttributes.from_stat(evil, name) for name in HOSTILE_NAMES]
        if self.hostile.not_utf8:
            # paramiko sends the filename as given: bytes go out as they are.
            entries.append(paramiko.SFTPAttributes.from_stat(evil, NOT_UTF8))  # type: ignore[arg-type]
        return entries

    def _target(self, path: str) -> Path:
        return self.hostile.real(path) or self.hostile.evil_file

    def stat(self, path: str) -> paramiko.SFTPAttributes | int:
        if path.rstrip("/") == self.hostile.remote_dir:
            return paramiko.SFTPAttributes.from_stat(self.hostile.folder.stat())
        target = self._target(path)
        if not target.exists():
            return paramiko.SFTP_NO_SUCH_FILE
        return paramiko.SFTPAttributes.from_stat(target.stat())

    lstat = stat

    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes) -> _Handle | int:
        self.hostile.opened.append(path)
        if flags & (os.O_WRONLY | os.O_RDWR):
            return paramiko.SFTP_PERMISSION_DENIED
        target = self._target(path)
        return _Handle(target.open("rb"), target) if target.exists() else paramiko.SFTP_NO_SUCH_FILE
