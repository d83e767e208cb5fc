"""Publishing onto an SFTP server: stage locally, upload under a temporary name, rename.

`deliver = "sftp:<source>:/remote/dir"` reuses the server settings (host, port, user, keys,
known_hosts) of the sftp source of that name; `?exists=fail|overwrite|unique` after the folder
picks what happens when the final name is taken (default `fail`).

The pipeline's protocol is kept: an output is staged in `work/outbound/<target>/` (a local
file, synced), the intent is recorded, then `publish` uploads it to `.<name>.tmp` in the
destination folder, syncs it there where the server allows (`fsync@openssh.com`), renames the
local staged file to `<staged>.sent` (synced), renames the remote one to its final name and
only then removes the local copy, so `staged()` is true until the file is in place. `publish`
is idempotent: after a crash before the upload was complete it uploads again; once `.sent`
exists, the remote temporary file tells the rest: still there, the rename is to be done; gone,
it was done. That holds even when a consumer has already taken and deleted the final file,
which a comparison with the final file could not tell from "never published".
"""

from __future__ import annotations

import contextlib
import errno
import posixpath
from pathlib import Path
from typing import Any

import structlog

from gateway.config import TargetConfig
from gateway.delivery.local import SyncedFile, fsync_dir
from gateway.errors import DeliveryFailed
from gateway.sources.sftp_connection import Connection, ServerSettings, exists, remove_if_present

log = structlog.get_logger("gateway")

POLICIES = ("fail", "overwrite", "unique")
TMP_SUFFIX = ".tmp"
SENT_SUFFIX = ".sent"
BLOCK = 1 << 20
MAX_UNIQUE = 1000


def parse_deliver(deliver: str) -> tuple[str, str, str]:
    """`sftp:server:/dir?exists=policy` -> (server, dir, policy); ValueError says what is wrong."""
    method, _, rest = deliver.partition(":")
    server, _, folder = rest.partition(":")
    if method != "sftp" or not server or not folder:
        raise ValueError("expected 'sftp:<source-name>:/remote/folder'")
    folder, _, query = folder.partition("?")
    policy = "fail"
    if query:
        key, _, policy = query.partition("=")
        if key != "exists" or policy not in POLICIES:
            raise ValueError(f"expected '?exists=' one of {', '.join(POLICIES)} after the folder")
    return server, folder.rstrip("/") or "/", policy


def unique_names(name: str) -> list[str]:
    """`name`, then `stem-1.ext`, `stem-2.ext` ... for the `unique` policy."""
    stem, dot, ext = name.rpartition(".")
    if not stem:
        stem, dot, ext = name, "", ""
    return [name] + [f"{stem}-{n}{dot}{ext}" for n in range(1, MAX_UNIQUE)]


class SftpDelivery:
    """Publishes a target's outputs into one folder of an SFTP server."""

    def __init__(self, target: TargetConfig) -> None:
        if target.server is None or target.staging_dir is None:
            raise DeliveryFailed(f"target {target.name}: deliver names no sftp source")
        _, self.folder, self.policy = parse_deliver(target.deliver)
        self.settings = ServerSettings.from_options(target.server.name, target.server.options)
        self.staging = target.staging_dir
        self.conn = Connection(self.settings, DeliveryFailed, target.server.poll_seconds)
        self.folder_ready = False

    @classmethod
    def for_target(cls, target: TargetConfig) -> SftpDelivery:
        """The delivery into the folder of an `sftp:server:/dir` setting."""
        return cls(target)

    @staticmethod
    def problems(deliver: str) -> list[str]:
        """Problems with an sftp `deliver` setting (config check)."""
        try:
            parse_deliver(deliver)
        except ValueError as exc:
            return [f"deliver: {exc}"]
        return []

    def staging_path(self, name: str) -> Path:
        """The local staged file of an output."""
        return self.staging / (name + TMP_SUFFIX)

    def open(self, name: str) -> SyncedFile:
        """Open a staged output for writing (locally)."""
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
            return SyncedFile(self.staging_path(name))
        except OSError as exc:
            raise DeliveryFailed(f"cannot stage in {self.staging}: {exc.strerror}") from exc

    def staged(self, tmp: str) -> bool:
        """Whether the local staged file (or its `.sent` form) is still there, i.e. the output
        may not be in place yet."""
        return Path(tmp).exists() or _sent(tmp).exists()

    def discard(self, tmp: str) -> None:
        """Drop a staged output that will not be published."""
        Path(tmp).unlink(missing_ok=True)
        _sent(tmp).unlink(missing_ok=True)

    def publish(self, tmp: str, name: str) -> str:
        """Upload, sync and rename into place; return `sftp://user@host:port/dir/final`."""
        local, sent = Path(tmp), _sent(tmp)
        remote_tmp = posixpath.join(self.folder, f".{name}{TMP_SUFFIX}")
        names = unique_names(name) if self.policy == "unique" else [name]
        try:
            with self.conn.session(f"publishing {name} to {self.folder}") as sftp:
                self._ensure_folder(sftp)
                if not sent.exists():
                    final = self._already_there(sftp, local, names)
                    if final is None:
                        final = self._send(sftp, local, remote_tmp, names)
                elif exists(sftp, remote_tmp):  # uploaded before a crash, not renamed yet
                    final = self._rename(sftp, remote_tmp, names, sent)
                else:  # renamed before a crash, and perhaps imported and deleted since
                    final = posixpath.join(self.folder, name)
        except OSError as exc:  # a file or folder missing on the server (or the staged file here)
            raise DeliveryFailed(f"{self.settings.name}: publishing {name} to {self.folder}: {exc}") from exc
        sent.unlink(missing_ok=True)
        local.unlink(missing_ok=True)
        location = f"sftp://{self.settings.address}{final}"
        log.info("sftp_published", target_dir=self.folder, name=posixpath.basename(final))
        return location

    def _ensure_folder(self, sftp: Any) -> None:
        if self.folder_ready:
            return
        parts = [p for p in self.folder.split("/") if p]
        path = "/" if self.folder.startswith("/") else ""
        for part in parts:
            path = posixpath.join(path, part) if path else part
            try:
                sftp.stat(path)
            except OSError:
                sftp.mkdir(path)
        self.folder_ready = True

    def _already_there(self, sftp: Any, local: Path, names: list[str]) -> str | None:
        """A final name already holding exactly our file: a publish that a crash interrupted."""
        size = local.stat().st_size
        for candidate in names:
            path = posixpath.join(self.folder, candidate)
            try:
                attrs = sftp.stat(path)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    return None
                raise
            if attrs.st_size == size and _same(sftp, path, local):
                return path
        return None

    def _send(self, sftp: Any, local: Path, remote_tmp: str, names: list[str]) -> str:
        """Upload under the temporary name, mark the staged copy as sent, rename into place."""
        _upload(sftp, local, remote_tmp)
        sent = _sent(str(local))
        local.rename(sent)
        fsync_dir(local.parent)
        return self._rename(sftp, remote_tmp, names, sent)

    def _rename(self, sftp: Any, remote_tmp: str, names: list[str], sent: Path) -> str:
        if self.policy == "overwrite":
            path = posixpath.join(self.folder, names[0])
            try:
                sftp.posix_rename(remote_tmp, path)
            except OSError:  # no posix-rename@openssh.com: not atomic, but what the server allows
                remove_if_present(sftp, path)
                sftp.rename(remote_tmp, path)
            return path
        for candidate in names:
            path = posixpath.join(self.folder, candidate)
            try:
                sftp.rename(remote_tmp, path)  # SFTP v3 rename never replaces an existing file
            except OSError:
                try:
                    sftp.stat(path)
                except OSError:
                    raise  # not a name clash: the original error
                if self.policy == "fail":
                    # Staged again first: from now on the file must be uploaded anew.
                    sent.rename(sent.with_name(sent.name.removesuffix(SENT_SUFFIX)))
                    remove_if_present(sftp, remote_tmp)
                    raise DeliveryFailed(
                        f"{path} already exists on {self.settings.address} (exists = fail)"
                    ) from None
                continue
            return path
        raise DeliveryFailed(f"no free name for {names[0]} in {self.folder}")


def _sent(tmp: str) -> Path:
    """The staged file's name once it is uploaded in full."""
    return Path(tmp + SENT_SUFFIX)



def _upload(sftp: Any, local: Path, remote: str) -> None:
    with local.open("rb") as src, sftp.open(remote, "wb") as dst:
        dst.set_pipelined(True)
        while block := src.read(BLOCK):
            dst.write(block)
        dst.flush()
        _fsync(sftp, dst)
    if sftp.stat(remote).st_size != local.stat().st_size:
        raise OSError(errno.EIO, f"{remote}: size differs after upload")


def _fsync(sftp: Any, handle: Any) -> None:
    """fsync@openssh.com on the open file, where the server supports it (paramiko has no API)."""
    # Unsupported extension: the rename is still atomic, only less durable.
    with contextlib.suppress(OSError):
        sftp._request(200, "fsync@openssh.com", handle.handle)  # 200 = SSH_FXP_EXTENDED


def _same(sftp: Any, path: str, local: Path) -> bool:
    with sftp.open(path, "rb") as remote, local.open("rb") as mine:
        remote.prefetch(local.stat().st_size)
        while True:
            a, b = remote.read(BLOCK), mine.read(BLOCK)
            if a != b:
                return False
            if not a:
                return True
