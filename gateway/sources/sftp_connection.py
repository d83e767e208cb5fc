"""One SFTP server: settings, a verified and authenticated connection, and error translation.

The host key is checked before anything else is sent: against the `known_hosts` file (the
OpenSSH format, hashed names included) or a pinned `host_key_fingerprint` (`SHA256:...`, as
`ssh-keygen -l` prints it). An unknown or changed key is never accepted: it raises
`HostKeyRejected`, which the service shows as the source's status, and the source stays
stopped until the key on record matches (the file is read again on each attempt, so fixing
known_hosts needs no restart).

Every paramiko exception is translated here into the gateway's error tree, so callers see only
`SourceUnavailable` / `DeliveryFailed` (or `FileVanished` for a file that is gone). A failure
of the connection itself drops it; the next use reconnects, after a backoff.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import re
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
import structlog
from paramiko.auth_strategy import AuthFailure

from gateway.errors import GatewayError, TransientError

log = structlog.get_logger("gateway")

WINDOW = 1 << 26  # a large window keeps many prefetch requests in flight
PACKET = 1 << 17
KEEPALIVE_SECONDS = 15
MAX_BACKOFF = 60.0

#: What each paramiko exception means, for the message an operator reads. Every subclass of
#: `paramiko.SSHException` must be listed (a test enforces it), so none is reported vaguely.
SSH_ERRORS: dict[type[Exception], str] = {
    paramiko.SSHException: "SSH protocol error",
    paramiko.AuthenticationException: "authentication failed",
    paramiko.PasswordRequiredException: "the key file is encrypted and no passphrase is configured",
    paramiko.BadAuthenticationType: "the server does not allow this authentication method",
    paramiko.ssh_exception.PartialAuthentication: "the server wants a further authentication step",
    paramiko.ssh_exception.UnableToAuthenticate: "authentication failed",
    AuthFailure: "authentication failed",
    paramiko.ChannelException: "the server refused the SFTP channel",
    paramiko.BadHostKeyException: "HOST KEY MISMATCH",
    paramiko.ssh_exception.IncompatiblePeer: "no common algorithm with the server",
    paramiko.ProxyCommandFailure: "proxy command failed",
    paramiko.ssh_exception.CouldNotCanonicalize: "cannot resolve the host name",
    paramiko.ssh_exception.ConfigParseError: "bad SSH configuration",
    paramiko.ssh_exception.MessageOrderError: "SSH message out of order (possible attack)",
    paramiko.SFTPError: "SFTP protocol error",
    paramiko.ssh_exception.NoValidConnectionsError: "cannot connect",
    EOFError: "the server closed the connection",
    TimeoutError: "timed out",
    ConnectionError: "connection lost",
}


class HostKeyRejected(TransientError):
    """The server's host key is unknown or changed: the source is stopped until it matches."""


def describe(exc: BaseException) -> str:
    """A message naming what went wrong, by the closest known exception class."""
    for kind in type(exc).__mro__:
        if kind in SSH_ERRORS:
            detail = str(exc) or type(exc).__name__
            return f"{SSH_ERRORS[kind]}: {detail}"
    return str(exc) or type(exc).__name__


def breaks_connection(exc: BaseException) -> bool:
    """Whether the connection is unusable after this error (an SFTP status error leaves it fine)."""
    if isinstance(exc, (paramiko.SSHException, EOFError, TimeoutError, ConnectionError, socket.gaierror)):
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.ENOTCONN, errno.ECONNRESET,
                                                       errno.ENETUNREACH, errno.EHOSTUNREACH)  # fmt: skip


def fingerprint(key: paramiko.PKey) -> str:
    """`SHA256:...`, the form `ssh-keygen -l` prints."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class ServerSettings:
    """Where an SFTP server is and how to log in, from an sftp source's options."""

    name: str
    host: str
    port: int
    username: str
    key_file: str | None
    password_file: str | None
    password_env: str | None
    known_hosts: str | None
    fingerprints: tuple[str, ...]
    timeout: float

    @classmethod
    def from_options(cls, name: str, options: dict[str, Any]) -> ServerSettings:
        """Build settings from options already checked by `problems`."""
        pins = options.get("host_key_fingerprint", ())
        return cls(
            name=name,
            host=str(options["host"]),
            port=int(options.get("port", 22)),
            username=str(options["username"]),
            key_file=options.get("key_file"),
            password_file=options.get("password_file"),
            password_env=options.get("password_env"),
            known_hosts=options.get("known_hosts"),
            fingerprints=(pins,) if isinstance(pins, str) else tuple(pins),
            timeout=float(options.get("timeout_seconds", 30.0)),
        )

    @property
    def address(self) -> str:
        """`user@host:port`, for messages."""
        return f"{self.username}@{self.host}:{self.port}"

    def password(self) -> str | None:
        """The password from its file or environment variable (never logged)."""
        if self.password_file:
            try:
                return Path(self.password_file).read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise TransientError(f"cannot read password_file: {exc.strerror}") from exc
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise TransientError(f"environment variable {self.password_env} is not set")
            return value
        return None


FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")
TEXT_KEYS = ("host", "username", "remote_dir", "key_file", "password_file", "password_env", "known_hosts")


def problems(options: dict[str, Any]) -> list[str]:
    """What the declared types of an sftp source's keys (`SftpSource.options`) cannot say, each
    as `key: problem`; `options` holds values of the declared types."""
    found = [f"{key}: required for an sftp source" for key in ("host", "username", "remote_dir")
             if key not in options]  # fmt: skip
    found += [f"{key}: must not be empty" for key in TEXT_KEYS if options.get(key) == ""]
    if options.get("timeout_seconds", 1) <= 0:
        found.append("timeout_seconds: expected a number greater than 0")
    pins = options.get("host_key_fingerprint", [])
    if not all(FINGERPRINT.match(pin) for pin in ([pins] if isinstance(pins, str) else pins)):
        found.append("host_key_fingerprint: expected 'SHA256:...' as ssh-keygen -l prints it (or a list)")
    if not options.get("known_hosts") and not options.get("host_key_fingerprint"):
        found.append("known_hosts: required (or host_key_fingerprint); host keys are always verified")
    if not any(options.get(k) for k in ("key_file", "password_file", "password_env")):
        found.append("key_file: required (or password_file, password_env)")
    after = options.get("after", "keep")
    if after not in ("keep", "delete") and not (after.startswith("move:") and len(after) > len("move:")):
        found.append("after: expected 'move:/folder', 'delete' or 'keep'")
    return found


class Connection:
    """A reused SSH connection with one SFTP session, verified, authenticated and timed out.

    `session()` is the only way in: it connects when needed, translates every failure into
    `error`, drops the connection when the failure broke it, and refuses to reconnect before
    the backoff delay has passed (raising the last error again, so the status stays true).
    """

    def __init__(self, settings: ServerSettings, error: type[TransientError], base_delay: float) -> None:
        self.settings = settings
        self.error = error
        self.base_delay = max(base_delay, 0.1)
        self.transport: paramiko.Transport | None = None
        self.sftp: paramiko.SFTPClient | None = None
        self.failures = 0
        self.retry_at = 0.0
        self.last_error: TransientError | None = None

    @property
    def read_size(self) -> int:
        """SFTP read request size: OpenSSH 9 serves 255 KiB reads; others are safer at 32 KiB."""
        version = self.transport.remote_version if self.transport is not None else ""
        match = re.search(r"OpenSSH_(\d+)", version)
        return 1 << 17 if match and int(match.group(1)) >= 9 else 1 << 15

    @contextmanager
    def session(self, what: str) -> Iterator[paramiko.SFTPClient]:
        """The SFTP session for one operation; `what` names it in error messages."""
        sftp = self._connected()
        try:
            yield sftp
        except GatewayError:
            raise
        except Exception as exc:  # a hostile or broken server must not crash the service
            if isinstance(exc, OSError) and exc.errno == errno.ENOENT and not breaks_connection(exc):
                raise
            expected = isinstance(exc, (OSError, EOFError, paramiko.SSHException, paramiko.SFTPError))
            broken = breaks_connection(exc) or not self.alive() or not expected
            error = self.error(f"{self.settings.name}: {what}: {describe(exc)}")
            if broken:
                self._failed(error)
            raise error from exc

    def alive(self) -> bool:
        """Whether the connection is still up."""
        return self.transport is not None and self.transport.is_active()

    def _connected(self) -> paramiko.SFTPClient:
        if self.sftp is not None and self.alive():
            return self.sftp
        self.close()
        if self.last_error is not None and time.monotonic() < self.retry_at:
            wait = self.retry_at - time.monotonic()
            raise self.error(f"{self.last_error} (next attempt in {wait:.0f}s)")
        try:
            self.sftp = self._connect()
        except HostKeyRejected as exc:
            self._failed(exc)
            raise
        except TransientError as exc:
            error = exc if isinstance(exc, self.error) else self.error(str(exc))
            self._failed(error)
            raise error from exc
        except Exception as exc:  # every failure to connect is reported, none crashes the service
            error = self.error(f"{self.settings.name}: cannot connect to {self.settings.address}: "
                               f"{describe(exc)}")  # fmt: skip
            self._failed(error)
            raise error from exc
        self.failures, self.last_error = 0, None
        log.info("sftp_connected", server=self.settings.name, address=self.settings.address)
        return self.sftp

    def _failed(self, error: TransientError) -> None:
        self.close()
        delay = min(self.base_delay * 2**self.failures, max(MAX_BACKOFF, self.base_delay))
        self.failures += 1
        self.retry_at = time.monotonic() + delay
        self.last_error = error

    def _connect(self) -> paramiko.SFTPClient:
        s = self.settings
        sock = socket.create_connection((s.host, s.port), timeout=s.timeout)
        transport = paramiko.Transport(sock, default_window_size=WINDOW, default_max_packet_size=PACKET)
        self.transport = transport
        transport.banner_timeout = s.timeout
        transport.auth_timeout = s.timeout
        transport.handshake_timeout = s.timeout
        known = self._known_keys()
        options = transport.get_security_options()
        options.ciphers = _prefer(options.ciphers, ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com"))
        if known:
            options.key_types = _prefer(options.key_types, _algorithms(known))
        transport.start_client(timeout=s.timeout)
        self._verify(transport.get_remote_server_key(), known)
        self._authenticate(transport)
        transport.set_keepalive(KEEPALIVE_SECONDS)
        sftp = paramiko.SFTPClient.from_transport(transport, window_size=WINDOW, max_packet_size=PACKET)
        if sftp is None:
            raise paramiko.ChannelException(0, "no SFTP channel")
        sftp.get_channel().settimeout(s.timeout)  # type: ignore[union-attr]
        return sftp

    def _known_keys(self) -> dict[str, paramiko.PKey]:
        s = self.settings
        if not s.known_hosts:
            return {}
        try:
            keys = paramiko.HostKeys(s.known_hosts)
        except (OSError, paramiko.SSHException) as exc:
            raise HostKeyRejected(
                f"{s.name}: cannot read known_hosts {s.known_hosts}: {exc}; host keys are always verified"
            ) from exc
        entry = keys.lookup(s.host if s.port == 22 else f"[{s.host}]:{s.port}")
        return dict(entry) if entry else {}

    def _verify(self, key: paramiko.PKey, known: dict[str, paramiko.PKey]) -> None:
        s = self.settings
        offered = fingerprint(key)
        if offered in s.fingerprints or (
            key.get_name() in known and known[key.get_name()].asbytes() == key.asbytes()
        ):
            return
        on_record = sorted({fingerprint(k) for k in known.values()} | set(s.fingerprints))
        if on_record:
            why = (f"it does NOT MATCH the key on record ({', '.join(on_record)}): the server was "
                   "reinstalled or re-keyed, or SOMEONE MAY BE INTERCEPTING the connection")  # fmt: skip
        else:
            why = f"no key for this host is on record in {s.known_hosts or 'host_key_fingerprint'}"
        message = (
            f"HOST KEY VERIFICATION FAILED for {s.name} ({s.host}:{s.port}): the server presented "
            f"{key.get_name()} {offered}; {why}. Nothing was sent; the source is stopped. Check the "
            "key with the server's operator, then record it in known_hosts or host_key_fingerprint."
        )
        log.error("sftp_host_key_rejected", server=s.name, host=s.host, port=s.port,
                  key_type=key.get_name(), fingerprint=offered, on_record=on_record)  # fmt: skip
        raise HostKeyRejected(message)

    def _authenticate(self, transport: paramiko.Transport) -> None:
        s = self.settings
        has_password = bool(s.password_file or s.password_env)
        if s.key_file:
            try:
                key = paramiko.PKey.from_path(s.key_file)
            except OSError as exc:
                raise self.error(f"{s.name}: cannot read key_file: {exc.strerror}") from exc
            except Exception as exc:  # encrypted, corrupt or of an unknown type
                raise self.error(
                    f"{s.name}: cannot use key_file (is it encrypted or damaged?): {exc}"
                ) from exc
            try:
                transport.auth_publickey(s.username, key)
            except paramiko.AuthenticationException:
                if not has_password:
                    raise
            else:
                return
        password = s.password()  # read only when needed, and never logged
        if password is not None:
            transport.auth_password(s.username, password)
        if not transport.is_authenticated():
            raise paramiko.AuthenticationException("no accepted credentials")

    def close(self) -> None:
        """Drop the connection (the next session reconnects)."""
        sftp, transport = self.sftp, self.transport
        self.sftp = self.transport = None
        try:
            if sftp is not None:
                sftp.close()
        except (OSError, EOFError, paramiko.SSHException):
            pass
        if transport is not None:
            transport.close()


def _prefer(available: Sequence[str], first: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(a for a in first if a in available)
    return chosen + tuple(a for a in available if a not in chosen)


def _algorithms(known: dict[str, paramiko.PKey]) -> tuple[str, ...]:
    """Host key algorithms for the key types on record (an RSA key is checked with SHA-2)."""
    result: list[str] = []
    for key_type in known:
        if key_type == "ssh-rsa":
            result += ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        else:
            result.append(key_type)
    return tuple(result)


def remove_if_present(sftp: Any, path: str) -> None:
    """Remove a remote file; one that is already gone is what we wanted."""
    try:
        sftp.remove(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


def exists(sftp: Any, path: str) -> bool:
    """Whether a remote file is there (any error but "no such file" is the server's)."""
    try:
        sftp.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    return True


def raw_listing(sftp: Any, path: str) -> Iterator[tuple[bytes, paramiko.SFTPAttributes]]:
    """Every entry of a remote folder with its name as the server sent it, in bytes.

    paramiko decodes names as strict UTF-8, so one name written in Latin-1 fails the whole
    listing (`listdir_iter`). This asks the server the same way, one READDIR at a time, keeping
    the bytes, so that only that file is refused. It uses paramiko's request layer (`_request`),
    which has no public equivalent (hence `Any`: the type stubs describe the public API only).
    """
    attributes: Any = paramiko.SFTPAttributes
    kind, msg = sftp._request(paramiko.sftp.CMD_OPENDIR, path)
    if kind != paramiko.sftp.CMD_HANDLE:
        raise paramiko.SFTPError(f"listing {path}: expected a handle")
    handle = msg.get_binary()
    try:
        while True:
            try:
                kind, msg = sftp._request(paramiko.sftp.CMD_READDIR, handle)
            except EOFError:  # paramiko's translation of the server's end-of-folder status
                return
            if kind != paramiko.sftp.CMD_NAME:
                raise paramiko.SFTPError(f"listing {path}: expected names")
            for _ in range(msg.get_int()):
                name = msg.get_binary()
                msg.get_binary()  # the long name, as `ls -l` would show it
                attrs = attributes._from_msg(msg)
                if name not in (b".", b".."):
                    yield name, attrs
    finally:
        sftp._request(paramiko.sftp.CMD_CLOSE, handle)
