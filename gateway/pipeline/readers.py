"""Readers in worker processes: detection, decoding, validation and mapping of the files of a
group run on the other cores while the main process does the durable steps (claims, ledger
transactions, staged outputs, fsyncs) in the files' order.

A file is submitted when it is claimed; each worker reads its files in submission order and
streams back the records in chunks and, at the end, what the reader noted on its
context (findings, warnings, keys, acknowledgements, set-aside parts). The pipeline takes the
reads in the same order, so outcomes, duplicates and per-partner order are those of reading in
the main process; a read it no longer needs (a duplicate by content) is drained and dropped. A
pipe holds only a few chunks, so a worker ahead of the main process waits instead of filling
memory.

A worker that dies (killed, out of memory) is replaced and its unfinished reads are submitted
again; records the pipeline already took are skipped, since reading is deterministic. A file
whose read kills two workers is refused with `internal_error`: hostile input must not stop the
service.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

from gateway import logging, plugins
from gateway.canonical.records import Record
from gateway.config import Config
from gateway.errors import Finding, RejectedFile, TransientError
from gateway.formats.base import Acknowledgement, Inbound, ReadContext
from gateway.formats.encoding import Encoding

log = structlog.get_logger("gateway")

#: Records per message: small files travel in one message, large ones in bounded pieces.
CHUNK = 64
#: Seconds between heartbeats while the main process waits for a worker.
BEAT_SECONDS = 1.0
#: Workers a read may kill before its file is refused.
MAX_DEATHS = 2


@dataclass
class Noted:
    """What a reader noted on its context, sent back with the read's end."""

    format: str
    stage: str
    first_stage: str | None
    encoding: Encoding | None
    partner: str | None
    findings: list[Finding]
    warnings: list[Finding]
    keys: list[tuple[str, str]]
    unique_keys: list[tuple[str, str]]
    rejected_parts: list[tuple[str, bytes, list[Finding]]]
    acknowledgements: list[Acknowledgement]

    @classmethod
    def of(cls, ctx: ReadContext) -> Noted:
        return cls(ctx.format, ctx.stage, ctx.first_stage, ctx.encoding, ctx.partner,
                   ctx.findings, ctx.warnings, ctx.keys, ctx.unique_keys, ctx.rejected_parts,
                   ctx.acknowledgements)  # fmt: skip

    def into(self, ctx: ReadContext) -> None:
        """Become the main process's context (the stager adds its routing findings after)."""
        ctx.format, ctx.stage, ctx.first_stage = self.format, self.stage, self.first_stage
        ctx.encoding, ctx.partner = self.encoding, self.partner
        ctx.findings, ctx.warnings = self.findings, self.warnings
        ctx.keys, ctx.unique_keys = self.keys, self.unique_keys
        ctx.rejected_parts, ctx.acknowledgements = self.rejected_parts, self.acknowledgements


@dataclass
class Failure:
    """How a read ended, when it did not end well: the exception to raise in the main process."""

    kind: str  # "rejected", "transient" or "internal"
    message: str
    rejected: type[RejectedFile] | None = None
    findings: list[Finding] = field(default_factory=list)

    def exception(self) -> Exception:
        if self.kind == "rejected" and self.rejected is not None:
            return self.rejected(self.findings)
        if self.kind == "transient":
            return TransientError(self.message)
        return ReaderFailed(self.message)


class Unavailable(TransientError):
    """The reader processes cannot start: the pipeline reads files itself."""


class ReaderFailed(Exception):
    """A reader raised in its worker (a gateway bug): the message carries the worker's traceback."""

    def __repr__(self) -> str:
        return str(self).split("\n", 1)[0]  # the worker's repr of what its reader raised


def serve(conn: Connection, config: Config, json_logs: bool) -> None:
    """A worker's life: read the files it is sent (with their detected formats) until the main
    process closes the pipe."""
    # A warm stop is the main process's to run: it finishes its group with the workers' help.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.configure(json=json_logs)
    try:
        conn.send(("ready", os.getpid(), None))
        while True:
            read(conn, config, *conn.recv())
    except (EOFError, OSError):  # the main process closed the pipe, or is gone
        return


def read(conn: Connection, config: Config, file: Inbound, fmt: str) -> None:
    """Read one file as `fmt`, streaming its records and its end to `conn`."""
    ctx = ReadContext(file, config, format=fmt, stage="decode")
    failure: Failure | None = None
    with bound_contextvars(file_id=file.file_id, source=file.source.name, name=file.name):
        try:
            chunk: list[Record] = []
            for record in plugins.reader(ctx.format)().read(ctx):
                chunk.append(ctx.warned(record))
                if len(chunk) >= CHUNK:
                    conn.send(("records", chunk, ctx.partner))
                    chunk = []
            if chunk:
                conn.send(("records", chunk, ctx.partner))
        except RejectedFile as exc:
            failure = Failure("rejected", str(exc), type(exc), exc.findings)
        except TransientError as exc:
            failure = Failure("transient", str(exc))
        except Exception as exc:
            failure = Failure("internal", f"{exc!r}\n{traceback.format_exc()}")
    conn.send(("end", Noted.of(ctx), failure))


class Worker:
    """One worker process and the reads sent to it, oldest first.

    The process is started by hand rather than by multiprocessing's spawn: a service killed while
    spawn hands a new process its start-up data leaves that process to print a traceback on the
    service's log; ours finds the pipe empty and ends quietly. Its own process group keeps a
    terminal's Ctrl-C (the service's to handle) from it.
    """

    def __init__(self, config: Config, target: str) -> None:
        ours, theirs = socket.socketpair()
        self.conn = Connection(ours.detach())
        here = str(Path(__file__).resolve().parents[2])  # where the gateway package is imported from
        path = os.pathsep.join(filter(None, (here, os.environ.get("PYTHONPATH"))))
        env = {**os.environ, "PYTHONPATH": path}
        self.process = subprocess.Popen(
            [sys.executable, "-c", START, str(theirs.fileno())],
            pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL, process_group=0,
        )  # fmt: skip
        theirs.close()
        # One that died at once is found out by the first wait for it, and counted unstarted.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.conn.send((target, config, not os.isatty(1), sys.path))
        self.reads: deque[RemoteRead] = deque()
        #: Whether the process said it is ready: one that dies before cannot read at all.
        self.ready = False

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, remote: RemoteRead) -> None:
        self.conn.send((remote.file, remote.format))

    def close(self) -> None:
        self.conn.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


#: What a worker process runs: `start` with the end of the pipe it was handed.
START = "import sys; from gateway.pipeline.readers import start; start(int(sys.argv[1]))"


def start(fd: int) -> None:
    """A worker process's entry: take its target and configuration from the pipe, then serve."""
    conn = Connection(fd)
    try:
        target, config, json_logs, path = conn.recv()
    except (EOFError, OSError):  # the service ended before it handed them over
        return
    sys.path[:] = path
    module, _, name = target.partition(":")
    getattr(importlib.import_module(module), name)(conn, config, json_logs)


class Readers:
    """A pool of reader processes; `submit` files in order, `take` their reads in the same order."""

    def __init__(self, config: Config, count: int, target: str = "gateway.pipeline.readers:serve") -> None:
        self.config = config
        self.count = count
        self.target = target
        self.workers: list[Worker] = []
        self.submitted: dict[str, RemoteRead] = {}
        self.turn = 0
        #: Set when a worker cannot even start: the pipeline then reads files itself.
        self.broken = False
        self.unstarted = 0  # workers in a row that died before they were ready
        #: Called while waiting for a worker, so that systemd's watchdog hears the service.
        self.heartbeat: Callable[[], None] = lambda: None

    def start(self) -> None:
        """Start the workers (they import the readers while the service starts)."""
        if not self.workers and not self.broken:
            self.workers = [Worker(self.config, self.target) for _ in range(self.count)]

    def submit(self, file: Inbound, fmt: str) -> None:
        """Start reading `file` as `fmt` on the next worker."""
        self.start()
        if self.broken or file.file_id in self.submitted:
            return
        worker = self.workers[self.turn % len(self.workers)]
        self.turn += 1
        remote = RemoteRead(self, worker, file, fmt)
        worker.reads.append(remote)
        self.submitted[file.file_id] = remote
        self._send(worker, remote)

    def take(self, file_id: str) -> RemoteRead | None:
        """The read of a submitted file, once."""
        return self.submitted.pop(file_id, None)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers = []
        self.submitted.clear()

    def _send(self, worker: Worker, remote: RemoteRead) -> None:
        try:
            worker.send(remote)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self.replace(worker)

    def replace(self, dead: Worker) -> None:
        """Start a new worker in place of `dead` and hand it the dead one's unfinished reads."""
        dead.close()
        code = dead.process.returncode
        worker = Worker(self.config, self.target)
        self.workers[self.workers.index(dead)] = worker
        log.warning("reader_process_died", exit_code=code, reads=len(dead.reads), started=dead.ready)
        # What the worker sent before it died is still read from the pipe, so it died reading
        # the oldest read not yet ended; those behind it are only sent again.
        for n, remote in enumerate(dead.reads):
            remote.restart(worker, code if n == 0 and dead.ready else None)
        for remote in worker.reads:
            if not remote.failed:
                self._send(worker, remote)

    def receive(self, remote: RemoteRead) -> tuple[str, Any, Any]:
        """The next message of `remote`, whose earlier neighbours on its worker are drained first."""
        while True:
            worker = remote.worker
            while worker.reads and worker.reads[0] is not remote:
                worker.reads[0].drain()
            if remote.failed:
                return ("end", None, remote.failure)
            try:
                while not worker.conn.poll(BEAT_SECONDS):
                    self.heartbeat()
                    if not worker.alive() and not worker.conn.poll(0):
                        raise EOFError
                message: tuple[str, Any, Any] = worker.conn.recv()
            except (EOFError, OSError):
                # One worker killed while starting is bad luck; two in a row cannot start.
                self.unstarted = 0 if worker.ready else self.unstarted + 1
                if self.unstarted >= MAX_DEATHS:
                    self.broken = True
                    self.close()
                    log.error("reader_processes_unavailable", exit_code=worker.process.returncode)
                    raise Unavailable("the reader processes cannot start") from None
                self.replace(worker)
                continue
            if message[0] != "ready":
                return message
            worker.ready = True
            self.unstarted = 0


class RemoteRead:
    """One file's read in a worker, seen from the main process."""

    def __init__(self, readers: Readers, worker: Worker, file: Inbound, fmt: str) -> None:
        self.readers = readers
        self.worker = worker
        self.file = file
        self.format = fmt
        self.taken = 0  # records handed to the pipeline
        self.skip = 0  # records a restarted read sends again
        self.deaths = 0
        self.ended = False
        self.failed = False
        self.failure: Failure | None = None

    def restart(self, worker: Worker, code: int | None) -> None:
        """Read again on `worker`; `code`: its last worker died reading this file, so."""
        self.worker = worker
        worker.reads.append(self)
        self.skip = self.taken
        if code is None:
            return
        self.deaths += 1
        if self.deaths >= MAX_DEATHS:
            self.failed = True
            self.failure = Failure("internal", f"reading this file ended its reader process {self.deaths} "
                                               f"times (last exit code {code})")  # fmt: skip

    def records(self, ctx: ReadContext) -> Iterator[Record]:
        """The file's records; at the end, the reader's notes are merged into `ctx`."""
        while True:
            try:
                kind, value, extra = self.readers.receive(self)
            except Unavailable:
                if self.taken:
                    raise  # the file is read again later, from its start
                yield from plugins.reader(self.format)().read(ctx)
                return
            if kind == "end":
                self._end(value, extra, ctx)
                return
            ctx.partner = extra  # a chunk comes with its sender, whose strictness judges routing
            for record in value:
                if self.skip:
                    self.skip -= 1
                    continue
                self.taken += 1
                yield record

    def drain(self) -> None:
        """Read and drop what is left of this read (a read not taken, or abandoned midway)."""
        while not self.ended:
            if self.readers.receive(self)[0] == "end":
                self._finish()

    def _finish(self) -> None:
        self.ended = True
        if self.worker.reads and self.worker.reads[0] is self:
            self.worker.reads.popleft()

    def _end(self, noted: Noted | None, failure: Failure | None, ctx: ReadContext) -> None:
        self._finish()
        if noted is not None:
            noted.into(ctx)
        if failure is not None:
            raise failure.exception()

