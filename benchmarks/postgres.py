"""A throwaway PostgreSQL server on 127.0.0.1, for the PostgreSQL ledger's tests and benchmark.

It runs Debian's `postgresql` binaries (`initdb`, `postgres`) on a cluster created in a
temporary folder, trusting local connections, with fsync on (the ledger's durability is what is
measured). initdb refuses to run as root, so as root the cluster belongs to the `postgres` user
the package creates, and the server runs as that user (`setpriv`).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.sshd import free_port

ROOT = Path("/usr/lib/postgresql")


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder, if there is one."""
    found = sorted(ROOT.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name), reverse=True)
    return found[0].parent if found else None


def _as_owner() -> list[str]:
    """The command prefix that runs a server program as the cluster's owner."""
    if os.geteuid() != 0:
        return []
    owner = pwd.getpwnam("postgres")
    return ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}", "--init-groups"]


@dataclass
class Postgres:
    """One PostgreSQL cluster and its server; `start`/`stop` may be repeated on the same port."""

    bin: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        # Not under pytest's root-only temporary folder: the postgres user must reach it.
        self.base = Path(tempfile.mkdtemp(prefix="gateway-pg-"))
        self.data = self.base / "data"
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.base, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            [*_as_owner(), str(self.bin / "initdb"), "-D", str(self.data), "-U", "gateway",
             "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "-N"],
            check=True, capture_output=True,
        )  # fmt: skip

    @property
    def url(self) -> str:
        """The libpq URL of the `gateway` role's default database."""
        return f"postgresql://gateway@127.0.0.1:{self.port}/postgres"

    def database(self, name: str) -> str:
        """Create an empty database; its URL."""
        subprocess.run([str(self.bin / "psql"), "-q", "-d", self.url, "-c", f'CREATE DATABASE "{name}"'],
                       check=True, capture_output=True)  # fmt: skip
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until it accepts connections."""
        log = (self.base / "postgres.log").open("ab")
        self.process = subprocess.Popen(
            [*_as_owner(), str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.base}",
             "-c", "max_connections=200"],
            stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log_text = (self.base / "postgres.log").read_text(errors="replace")
                raise RuntimeError(f"postgres exited: {log_text}")
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)], check=False
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not start accepting connections")

    def stop(self, *, fast: bool = True) -> None:
        """Stop the server: at once, dropping every connection (`fast`), or waiting for them."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT if fast else signal.SIGTERM)
        self.process.wait(timeout=60)
        self.process = None

    def remove(self) -> None:
        """Stop and delete the cluster."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
