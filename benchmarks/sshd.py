"""A throwaway OpenSSH server on 127.0.0.1, for the SFTP tests and the SFTP benchmark.

It runs the system's own `/usr/sbin/sshd` (Debian's openssh-server) in the foreground with a
configuration, host keys and user keys generated in a temporary folder: no chroot, no PAM, the
current user as the SFTP user, `internal-sftp` as the subsystem. A second port serves the same
tree with renames and removals denied, a third with opening files denied: that is how the
tests meet "permission denied" even when they run as root (root ignores file modes).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
KEY_TYPES = ("ed25519", "ecdsa", "rsa")
DENIED = "rename,posix-rename@openssh.com,remove"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def keygen(path: Path, kind: str) -> Path:
    """Generate an unencrypted key pair with ssh-keygen; return the private key's path."""
    subprocess.run(
        [KEYGEN, "-q", "-t", kind, "-N", "", "-C", f"gateway-test-{kind}", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def fingerprint_of(public_key: Path) -> str:
    """The SHA256 fingerprint ssh-keygen prints for a public key."""
    out = subprocess.run([KEYGEN, "-l", "-f", str(public_key)], check=True, capture_output=True,
                         text=True).stdout  # fmt: skip
    return out.split()[1]


@dataclass
class Sshd:
    """One sshd process and the files it serves; `start`/`stop` may be repeated on the same port."""

    base: Path
    port: int = field(default_factory=free_port)
    denied_port: int = field(default_factory=free_port)
    unreadable_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.host_keys = {k: self.base / f"ssh_host_{k}_key" for k in KEY_TYPES}
        self.user_keys = {k: self.base / f"id_{k}" for k in KEY_TYPES}
        for kind in KEY_TYPES:
            if not self.host_keys[kind].exists():
                keygen(self.host_keys[kind], kind)
            if not self.user_keys[kind].exists():
                keygen(self.user_keys[kind], kind)
        authorized = self.base / "authorized_keys"
        authorized.write_text("".join(
            Path(f"{p}.pub").read_text(encoding="ascii") for p in self.user_keys.values()
        ), encoding="ascii")  # fmt: skip
        self.known_hosts = self.base / "known_hosts"
        self.known_hosts.write_text(self.known_hosts_lines(), encoding="ascii")
        self.config = self.base / "sshd_config"
        self.config.write_text(self._config(authorized), encoding="ascii")

    def known_hosts_lines(self, kinds: tuple[str, ...] = KEY_TYPES) -> str:
        """known_hosts lines for this server's host keys of the given kinds."""
        lines = []
        for kind in kinds:
            key_type, blob = Path(f"{self.host_keys[kind]}.pub").read_text(encoding="ascii").split()[:2]
            for port in (self.port, self.denied_port, self.unreadable_port):
                lines.append(f"[127.0.0.1]:{port} {key_type} {blob}\n")
        return "".join(lines)

    def server_settings(self, key: str = "ed25519", known_hosts: Path | None = None) -> str:
        """The TOML lines of an SFTP source that reach this server with the user's `key`."""
        hosts = known_hosts or self.known_hosts
        return (f'host = "127.0.0.1"\nport = {self.port}\nusername = "{self.user}"\n'
                f'key_file = "{self.user_keys[key]}"\nknown_hosts = "{hosts}"\n')  # fmt: skip

    def fingerprint(self, kind: str = "ed25519") -> str:
        """The SHA256 fingerprint of one host key."""
        return fingerprint_of(Path(f"{self.host_keys[kind]}.pub"))

    def _config(self, authorized: Path) -> str:
        host_keys = "".join(f"HostKey {p}\n" for p in self.host_keys.values())
        return (
            f"Port {self.port}\nPort {self.denied_port}\nPort {self.unreadable_port}\n"
            f"ListenAddress 127.0.0.1\n{host_keys}"
            f"PidFile {self.base / 'sshd.pid'}\nAuthorizedKeysFile {authorized}\n"
            "UsePAM no\nStrictModes no\nPermitRootLogin yes\nPasswordAuthentication yes\n"
            "KbdInteractiveAuthentication no\nMaxStartups 100\nMaxSessions 100\n"
            "LogLevel ERROR\nSubsystem sftp internal-sftp\n"
            f"Match LocalPort {self.denied_port}\n  ForceCommand internal-sftp -P {DENIED}\n"
            f"Match LocalPort {self.unreadable_port}\n  ForceCommand internal-sftp -P open\n"
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start sshd and wait until it accepts connections."""
        if os.geteuid() == 0:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
        log = (self.base / "sshd.log").open("ab")
        self.process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(self.config)],
                                        stdout=log, stderr=log, start_new_session=True)  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.base / 'sshd.log').read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("sshd did not start listening")

    def pids(self) -> list[int]:
        """sshd and every process it forked (per-connection servers, sftp sessions)."""
        if self.process is None:
            return []
        parents: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended meanwhile
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        found = [self.process.pid]
        for pid in found:
            found.extend(parents.get(pid, []))
        return found

    def signal_all(self, signum: int) -> None:
        """Send a signal to sshd and all its descendants (SIGSTOP makes every connection hang)."""
        for pid in reversed(self.pids()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def stop(self) -> None:
        """Kill sshd and its sessions at once, like a server that goes away."""
        if self.process is None:
            return
        self.signal_all(signal.SIGCONT)
        self.signal_all(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def remove(self) -> None:
        """Stop and delete the server's folder."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
