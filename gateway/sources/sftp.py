"""A remote folder on an SFTP server, polled over one reused connection.

Each poll streams the folder listing (`listdir_iter`), filters names as they come, and keeps
one small record per file: our own observations of its size and mtime (readiness), or, for a
file already ours that is still on the server, its signature (so it is never fetched twice).
Nothing else of the listing is held, so a folder of 100,000 files costs one pass and one entry
per file; at most `max_files_per_poll` ready files are offered per poll, oldest first.

Claim follows the design: the ledger row first, then the download to `work/<id>.part` with
prefetch, size check, fsync and rename to the row's work path, the hash and the `processing`
state, and only then the remote action (`after`): move to an archive folder, delete, or keep.
A remote action that fails (permission denied, full disk) is recorded and retried on later
polls; the ledger lookup by path, size and mtime keeps the file from being fetched again.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import os
import posixpath
import stat
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import structlog
from paramiko.sftp import CMD_DATA, CMD_READ, int64

from gateway import options as opt
from gateway.config import SourceConfig
from gateway.delivery.local import fsync_dir
from gateway.errors import ConfigError, FileVanished, SourceUnavailable, TransientError
from gateway.ledger.sqlite import FileRow, Ledger
from gateway.ledger.states import FileState
from gateway.pipeline.claim import finish_claim
from gateway.sources.base import Candidate, Readiness, is_ignored, log_refused, unsafe_name
from gateway.sources.sftp_connection import (
    Connection,
    ServerSettings,
    exists,
    problems,
    raw_listing,
    remove_if_present,
)

log = structlog.get_logger("gateway")

NOT_UTF8 = "the name is not UTF-8, and the SFTP client reaches files by UTF-8 names: rename it on the server"
PIPELINE = 16  # reads in flight: more only adds contention in paramiko's channel
MAX_RETRY_DELAY = 300.0


class SftpSource:
    """Files offered in one folder of an SFTP server (not recursive)."""

    options: ClassVar[tuple[opt.Option, ...]] = (
        opt.text("host", None, "the server's host name or address (required)"),
        opt.count("port", 22, "the server's SSH port", maximum=65535),
        opt.text("username", None, "the login name (required)"),
        opt.text("key_file", None, "a private key file (or password_file, password_env)"),
        opt.text("password_file", None, "a file holding the password"),
        opt.text("password_env", None, "an environment variable holding the password"),
        opt.text("known_hosts", None, "an OpenSSH known_hosts file the host key must be in"),
        opt.Option("host_key_fingerprint", (str, list), None,
                   "pinned host key(s), 'SHA256:...' as ssh-keygen -l prints them"),
        opt.text("remote_dir", None, "the folder polled on the server (required)"),
        opt.text("after", "keep", "what to do with a claimed file: keep, delete or move:/folder"),
        opt.count("max_files_per_poll", 1000, "at most this many ready files are offered per poll"),
        opt.Option("timeout_seconds", (float,), 30.0, "network timeout of each SFTP operation"),
    )  # fmt: skip

    @staticmethod
    def check(options: dict[str, Any]) -> list[str]:
        """Required keys, host key verification and login, the `after` action."""
        return problems(options)

    def __init__(self, config: SourceConfig, wake: threading.Event) -> None:
        found = problems(config.options)
        if found:
            raise ConfigError([f"source {config.name}: {p}" for p in found])
        options = config.options
        self.config = config
        self.wake = wake
        self.settings = ServerSettings.from_options(config.name, options)
        self.remote_dir = str(options["remote_dir"]).rstrip("/") or "/"
        self.after = str(options.get("after", "keep"))
        archive = self.after.removeprefix("move:")
        self.archive_dir = posixpath.join(self.remote_dir, archive) if self.after.startswith("move:") else ""
        self.max_files = int(options.get("max_files_per_poll", 1000))
        self.conn = Connection(self.settings, SourceUnavailable, config.poll_seconds)
        self.readiness = Readiness(config.settle_seconds)
        self.fetched: dict[str, tuple[int, int]] = {}  # on the server but already ours
        self.action_retry: dict[str, tuple[int, float]] = {}  # name -> (failures, next attempt)
        self.fetch_retry: dict[str, tuple[int, float]] = {}
        self.due: float | None = None  # when the first file not yet settled could be
        self.archive_ready = False
        self.ledger: Ledger | None = None
        self.refused: dict[str, str] = {}
        #: Once a listing met a name that is not UTF-8, list by bytes (one request at a time).
        self.raw_names = False

    def path_of(self, name: str) -> str:
        """The remote path of a file in the polled folder."""
        return posixpath.join(self.remote_dir, name)

    def start(self) -> None:
        """Nothing to do: the connection is made by the first poll, and remade when it breaks."""

    def stop(self) -> None:
        """Close the connection."""
        self.conn.close()

    def next_due(self) -> float | None:
        """Seconds until the first file seen changing (or seen once) could be ready."""
        return None if self.due is None else max(0.0, self.due - time.monotonic())

    def poll(self) -> list[Candidate]:
        """List the folder once, observe every file, return up to `max_files_per_poll` ready ones."""
        old_seen, old_fetched = self.readiness.seen, self.fetched
        fresh = Readiness(self.readiness.settle)
        fetched: dict[str, tuple[int, int]] = {}
        done: set[str] = set()
        ready: list[Candidate] = []
        again: list[str] = []
        suffix = self.config.done_suffix
        due: float | None = None
        refused: dict[str, str] = {}
        try:
            with self.conn.session(f"listing {self.remote_dir}") as sftp:
                for name, attrs, not_utf8 in self._listing(sftp):
                    why = NOT_UTF8 if not_utf8 else unsafe_name(name)
                    if why is not None:
                        refused[name] = why
                        continue
                    if suffix and name.endswith(suffix):
                        done.add(name.removesuffix(suffix))
                        continue
                    if is_ignored(name, self.config) or not stat.S_ISREG(attrs.st_mode or 0):
                        continue
                    signature = (attrs.st_size or 0, int(attrs.st_mtime or 0) * 1_000_000_000)
                    if old_fetched.pop(name, None) == signature:
                        fetched[name] = signature
                        if self.after != "keep":
                            again.append(name)
                        continue
                    if name in old_seen:
                        fresh.seen[name] = old_seen.pop(name)
                    at = time.monotonic()  # this observation's own time: long listings take seconds
                    if not fresh.observe(name, (*signature, 0), at):
                        since = fresh.seen[name].since + fresh.settle
                        due = since if due is None else min(due, since)
                    elif self._due(self.fetch_retry, name, at):
                        if self._known(name, signature, fetched):
                            fresh.forget(name)
                            if self.after != "keep":
                                again.append(name)
                            continue
                        ready.append(Candidate(name, self.path_of(name), *signature))
                        if not suffix and len(ready) > 2 * self.max_files:
                            ready = heapq.nsmallest(self.max_files, ready, key=_age)
        except OSError as exc:  # the folder itself is missing
            old_seen.update(fresh.seen)
            old_fetched.update(fetched)
            raise SourceUnavailable(f"{self.config.name}: cannot list {self.remote_dir}: {exc}") from exc
        except BaseException:
            old_seen.update(fresh.seen)
            old_fetched.update(fetched)
            raise
        self.readiness, self.fetched, self.due = fresh, fetched, due
        log_refused(self.config.name, self.refused, refused)
        self.refused = refused
        self.fetch_retry = {k: v for k, v in self.fetch_retry.items() if k in fresh.seen}
        self.action_retry = {k: v for k, v in self.action_retry.items() if k in fetched}
        if suffix:
            ready = [c for c in ready if c.name in done]
        self._retry_actions(again)
        return sorted(heapq.nsmallest(self.max_files, ready, key=_age), key=_age)

    def _listing(self, sftp: Any) -> Iterator[tuple[str, Any, bool]]:
        """(name, attributes, whether the name was not UTF-8) of every entry; such a name comes
        readably (`\\xff`), to be refused, since paramiko addresses files by UTF-8 names only."""
        if not self.raw_names:
            try:
                for attrs in sftp.listdir_iter(self.remote_dir, read_aheads=64):
                    yield attrs.filename, attrs, False
            except UnicodeDecodeError:
                # The read-ahead requests still in flight leave the channel unusable: start over.
                self.raw_names = True
                self.conn.close()
                raise SourceUnavailable(f"{self.config.name}: a name in {self.remote_dir} is not UTF-8;"
                                        " listing again by bytes") from None  # fmt: skip
            return
        for raw, attrs in raw_listing(sftp, self.remote_dir):
            try:
                yield raw.decode("utf-8"), attrs, False
            except UnicodeDecodeError:
                yield raw.decode("utf-8", "backslashreplace"), attrs, True

    def _known(self, name: str, signature: tuple[int, int], fetched: dict[str, tuple[int, int]]) -> bool:
        """Whether the ledger already has this very file (kept on the server, or not yet moved)."""
        if self.ledger is None:
            return False  # until the first claim hands us the ledger, claim() checks instead
        row = self.ledger.fetched(self.config.name, name, self.path_of(name), *signature)
        if row is None or row.state is FileState.CLAIMED:
            return False
        fetched[name] = signature
        return True

    def claim(self, ledger: Ledger, work_dir: Path, candidate: Candidate) -> FileRow:
        """Ledger row, download into work/, hash; then the remote action."""
        self.ledger = ledger
        self.readiness.forget(candidate.name)
        row = ledger.fetched(self.config.name, candidate.name, candidate.path, candidate.size,
                             candidate.mtime_ns)  # fmt: skip
        if row is not None and row.state is not FileState.CLAIMED:
            self.fetched[candidate.name] = (candidate.size, candidate.mtime_ns)
            self._after(ledger, row)
            raise FileVanished(f"{candidate.path}: fetched before, as {row.file_id}")
        if row is None:
            row = ledger.claim(self.config.name, candidate.name, candidate.path, candidate.size,
                               candidate.mtime_ns, work_dir)  # fmt: skip
        try:
            row = self._finish(ledger, row)
        except TransientError as exc:
            self._failed(ledger, self.fetch_retry, row, "fetch", exc)
            raise
        self.fetch_retry.pop(candidate.name, None)
        return row

    @staticmethod
    def _due(retry: dict[str, tuple[int, float]], name: str, at: float) -> bool:
        return retry.get(name, (0, 0.0))[1] <= at

    def _failed(
        self,
        ledger: Ledger,
        retry: dict[str, tuple[int, float]],
        row: FileRow,
        action: str,
        exc: TransientError,
    ) -> None:
        """Record a failed fetch or remote action; the file waits a growing delay before the next try."""
        name = row.original_name
        failures = retry.get(name, (0, 0.0))[0]
        delay = min(self.config.poll_seconds * 2**failures, MAX_RETRY_DELAY)
        retry[name] = (failures + 1, time.monotonic() + delay)
        ledger.event(row.file_id, f"{action}_failed", path=row.source_path, error=str(exc))
        ledger.source_seen(self.config.name, reachable=self.conn.alive(), error=str(exc))
        log.warning(f"sftp_{action}_failed", file_id=row.file_id, source=self.config.name, name=name,
                    error=str(exc), retry_in=round(delay, 1))  # fmt: skip

    def resume(self, ledger: Ledger, row: FileRow) -> FileRow:
        """Finish a claim a crash interrupted: download again unless the file is already in work/."""
        self.ledger = ledger
        return self._finish(ledger, row)

    def _finish(self, ledger: Ledger, row: FileRow) -> FileRow:
        assert row.work_path is not None
        work = Path(row.work_path)
        if not work.exists():
            self._download(ledger, row, work)
        row = finish_claim(ledger, row)
        self.fetched[row.original_name] = (row.size or 0, row.mtime_ns or 0)
        self._after(ledger, row)
        return row

    def _download(self, ledger: Ledger, row: FileRow, work: Path) -> None:
        part = work.with_name(f"{row.file_id}.part")
        work.parent.mkdir(parents=True, exist_ok=True)
        try:
            with (
                self.conn.session(f"fetching {row.source_path}") as sftp,
                sftp.open(row.source_path, "rb") as remote,
            ):
                attrs = remote.stat()
                if (attrs.st_size, int(attrs.st_mtime or 0) * 1_000_000_000) != (row.size, row.mtime_ns):
                    self._vanished(ledger, row, "changed since it was listed")
                written = _copy(remote, part, row.size or 0, self.conn.read_size)
            if written != row.size:
                raise SourceUnavailable(
                    f"{self.config.name}: fetching {row.source_path}: got {written} of {row.size} bytes"
                )
            os.rename(part, work)
            fsync_dir(work.parent)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                self._vanished(ledger, row, "gone before it could be fetched")
            raise SourceUnavailable(f"{self.config.name}: fetching {row.source_path}: {exc}") from exc
        finally:
            part.unlink(missing_ok=True)

    def _vanished(self, ledger: Ledger, row: FileRow, why: str) -> None:
        ledger.vanish(row.file_id, why)
        raise FileVanished(f"{row.source_path}: {why}")

    def _retry_actions(self, names: list[str]) -> None:
        ledger = self.ledger
        if ledger is None:
            return
        at = time.monotonic()
        for name in names[: self.max_files]:
            if not self._due(self.action_retry, name, at):
                continue
            size, mtime_ns = self.fetched[name]
            row = ledger.fetched(self.config.name, name, self.path_of(name), size, mtime_ns)
            if row is not None and not self._after(ledger, row):
                return  # the server is failing: try the rest on a later poll

    def _after(self, ledger: Ledger, row: FileRow) -> bool:
        """The configured remote action; a failure is recorded and retried later. True if done."""
        if self.after == "keep":
            return True
        path, name = row.source_path, row.original_name
        action = "delete" if self.after == "delete" else "move"
        try:
            with self.conn.session(f"{action} {path}") as sftp:
                target = self._act(sftp, path, name, row.file_id)
                if self.config.done_suffix:
                    remove_if_present(sftp, path + self.config.done_suffix)
        except (TransientError, OSError) as exc:
            error = exc if isinstance(exc, TransientError) else SourceUnavailable(f"{action} {path}: {exc}")
            self.archive_ready = False  # the folder may be what is missing: try to create it again
            self._failed(ledger, self.action_retry, row, f"remote_{action}", error)
            return False
        self.action_retry.pop(name, None)
        self.fetched.pop(name, None)
        ledger.event(row.file_id, f"remote_{action}d", path=path, to=target)
        return True

    def _act(self, sftp: Any, path: str, name: str, file_id: str) -> str | None:
        if self.after == "delete":
            remove_if_present(sftp, path)
            return None
        if not self.archive_ready:
            with contextlib.suppress(OSError):  # usually: it exists; a real problem shows below
                sftp.mkdir(self.archive_dir)
            self.archive_ready = True
        target = posixpath.join(self.archive_dir, name)
        try:
            sftp.rename(path, target)
        except OSError as exc:
            if exc.errno == errno.ENOENT and not exists(sftp, path):
                return target  # moved before an interruption
            try:
                sftp.stat(target)
            except OSError:
                raise exc from None
            target = posixpath.join(self.archive_dir, f"{name}.{file_id}")  # keep the older copy
            sftp.rename(path, target)
        return target


def _age(candidate: Candidate) -> tuple[int, str]:
    return candidate.mtime_ns, candidate.name


class _Replies:
    """Collects SFTP replies by request number (paramiko hands each to `_async_response`)."""

    def __init__(self) -> None:
        self.done: dict[int, tuple[int, Any]] = {}

    def _async_response(self, kind: int, msg: Any, num: int) -> None:
        self.done[num] = (kind, msg)


def _copy(remote: Any, part: Path, size: int, chunk: int) -> int:
    """Stream a remote file into `part` with `PIPELINE` reads in flight, fsync; return bytes written.

    Requests are sent and answered in this thread, so memory stays at PIPELINE x chunk and no
    helper thread outlives a broken connection (paramiko's own prefetch runs one). This uses
    paramiko's request plumbing (`_async_request`, `_read_response`), as its prefetch does.
    """
    sftp, replies = remote.sftp, _Replies()
    queue: deque[tuple[int, int, int]] = deque()
    asked = written = 0

    def ask(offset: int, length: int) -> None:
        num = sftp._async_request(replies, CMD_READ, remote.handle, int64(offset), int(length))
        queue.append((num, offset, length))

    with part.open("wb") as out:
        while queue or asked < size:
            while asked < size and len(queue) < PIPELINE:
                length = min(chunk, size - asked)
                ask(asked, length)
                asked += length
            num, offset, length = queue.popleft()
            while num not in replies.done:
                sftp._read_response()
            kind, msg = replies.done.pop(num)
            if kind != CMD_DATA:
                sftp._convert_status(msg)  # raises, unless end of file: the file shrank
                break
            data = msg.get_string()
            out.write(data)
            written += len(data)
            if 0 < len(data) < length:  # a server that serves shorter reads: ask for the rest next
                ask(offset + len(data), length - len(data))
                queue.rotate(1)
            elif not data:
                break
        out.flush()
        os.fsync(out.fileno())
    return written

