"""The service loop: recover, then poll sources, claim ready files and process them one by one.

The first SIGTERM (or SIGINT) asks for a warm stop: the file in hand is finished and the loop
ends with exit 0. A second one stops at once; the ledger lets the next start finish whatever
was interrupted. `once=True` drains instead of serving: it processes every ready file, waits
for files still settling, closes every open batch, and returns when nothing is left (or
`drain_timeout` runs out for files that never settle). Between files the loop closes batches
whose size or window is reached (batching.py), and performs the operators' actions handed to
it through the ledger (actions.py).

Every `TICK_SECONDS` the loop (or a long file, between its records) writes its heartbeat into
the ledger (`status` tells a live service from a stuck or dead one by it) and the loop runs the
alert monitor (alerts.py); once a day, and at start, it applies `retention_days`
(retention.py). With `metrics_listen` it serves /metrics from a thread of its own (metrics.py).

A ledger that cannot be written for want of room (`LedgerFull`) is a pause, not a crash: the
failed transaction left the ledger as it was, so the service waits with backoff (feeding the
watchdog), then recovers exactly as a restart would and goes on. It never exits for it, which
under systemd would only become a restart loop on the same full disk.
"""

from __future__ import annotations

import contextlib
import errno
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from types import FrameType
from wsgiref.simple_server import WSGIServer

import structlog
from structlog.contextvars import bound_contextvars

from gateway import actions, metrics, plugins, retention
from gateway.alerts import Monitor
from gateway.config import Config
from gateway.errors import (
    ClaimTaken,
    ConfigError,
    DeliveryFailed,
    FileVanished,
    LeaseLost,
    LedgerFull,
    StopRequested,
    TransientError,
)
from gateway.ledger import engines
from gateway.ledger.protocol import Peers
from gateway.ledger.sqlite import FileRow, Ledger
from gateway.ledger.states import UNFINISHED, FileState
from gateway.notify import Notifier
from gateway.pipeline import pairs
from gateway.pipeline.claim import readable
from gateway.pipeline.group import Group
from gateway.pipeline.process import Pipeline
from gateway.pipeline.readers import Readers
from gateway.sources.base import ROUND, Candidate, GroupClaiming, Source

log = structlog.get_logger("gateway")

IDLE_SECONDS = 30.0
GROUP = 32
GROUP_BYTES = 4 << 20
RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 600.0
FULL_PAUSE_SECONDS = 1.0
MAX_FULL_PAUSE_SECONDS = 60.0
TICK_SECONDS = 2.0
#: Alerts wait until the files that were waiting at start are taken, or this long at most, so
#: that a file already in the drop folder is not reported late.
CATCH_UP_SECONDS = 60.0
RETENTION_SECONDS = 86400.0


def wait(seconds: float, notifier: Notifier, wake: threading.Event, stopped: Callable[[], bool]) -> None:
    """Wait `seconds` (less once `stopped()`), feeding the watchdog meanwhile."""
    until = time.monotonic() + seconds
    while not stopped() and (left := until - time.monotonic()) > 0:
        notifier.alive()
        wake.wait(min(left, notifier.interval / 2) if notifier.interval else left)
        wake.clear()


def open_ledger(config: Config, *, once: bool) -> Ledger | None:
    """The state root's folders and the configured ledger, once the filesystem has room for
    them; None when a drain (`once`) ran out of time waiting. A full disk at start is waited
    out, not an exit."""
    notifier = Notifier()
    deadline = time.monotonic() + config.drain_timeout
    pause = FULL_PAUSE_SECONDS
    while True:
        try:
            for name in ("work", "quarantine", "archive"):
                config.folder(name).mkdir(parents=True, exist_ok=True)
            return engines.open_ledger(config)
        except (LedgerFull, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno != errno.ENOSPC:
                raise
            log.warning("ledger_full", error=str(exc), retry_seconds=pause)
            notifier.ready(f"waiting for room: {exc}")
            if once and time.monotonic() + pause > deadline:
                return None
        wait(pause, notifier, threading.Event(), lambda: False)
        pause = min(pause * 2, MAX_FULL_PAUSE_SECONDS)


def groups(ready: list[Candidate]) -> Iterator[list[Candidate]]:
    """Ready files in groups committed together: up to GROUP files and GROUP_BYTES (a large
    file goes alone, so that a warm stop and the latency of the others stay short)."""
    group: list[Candidate] = []
    size = 0
    for candidate in ready:
        if group and (len(group) >= GROUP or size + candidate.size > GROUP_BYTES):
            yield group
            group, size = [], 0
        group.append(candidate)
        size += candidate.size
    if group:
        yield group


class Service:
    """One gateway instance over one configuration and ledger."""

    def __init__(self, config: Config, ledger: Ledger) -> None:
        self.config = config
        self.ledger = ledger
        self.notifier = Notifier()
        self.pipeline = self._pipeline()
        self.wake = threading.Event()
        self.sources: dict[str, Source] = {
            s.name: plugins.source(s.type)(s, self.wake) for s in config.sources
        }
        self.stop_requested = False
        self.work_dir = config.folder("work")
        self.monitor = Monitor(config, ledger)
        self.version = version("gateway")
        self.next_tick = 0.0
        self.next_beat = 0.0
        self.next_retention = 0.0
        self.caught_up_by = time.monotonic() + CATCH_UP_SECONDS
        #: The other instances on a shared (PostgreSQL) ledger, once `run` has joined them.
        self.peers: Peers | None = None

    def _pipeline(self) -> Pipeline:
        readers = Readers(self.config, self.config.workers) if self.config.workers else None
        pipeline = Pipeline(self.config, self.ledger, readers=readers)
        pipeline.stager.heartbeat = self.alive
        if readers is not None:
            readers.heartbeat = self.alive
        return pipeline

    def holds(self, role: str) -> bool:
        """Whether this instance does the work that one instance does at a time (polling an
        SFTP source, batches): always alone; on a shared ledger, while it holds the role."""
        return self.peers is None or self.peers.holds(role)

    def alive(self) -> None:
        """The loop, or a long file between its records, is making progress: systemd's
        watchdog hears it at once, the ledger's heartbeat every `TICK_SECONDS`."""
        self.notifier.alive()
        if time.monotonic() >= self.next_beat:
            self.next_beat = time.monotonic() + TICK_SECONDS
            self.ledger.beat(self.version)

    def tick(self, *, force: bool = False) -> None:
        """Alerts and (daily) retention, when due. A failure here is logged and never stops
        the files from flowing."""
        if not force and time.monotonic() < self.next_tick:
            return
        self.next_tick = time.monotonic() + TICK_SECONDS
        try:
            if not force and time.monotonic() < self.caught_up_by:
                return
            self.monitor.check()
            if time.monotonic() >= self.next_retention:
                self.next_retention = time.monotonic() + RETENTION_SECONDS
                retention.prune(self.config, self.ledger)
        except Exception:
            log.exception("monitor_failed")

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: warm stop first, cold stop on the second signal."""
        if self.stop_requested:
            raise StopRequested
        self.stop_requested = True
        self.notifier.stopping()
        log.info("stop_requested", signal=signal.Signals(signum).name)
        self.wake.set()

    def recover(self) -> None:
        """Finish what a previous run left between claim and outcome."""
        for row in self.ledger.files(*UNFINISHED):
            if self.ledger.take(row.file_id):
                with bound_contextvars(file_id=row.file_id, source=row.source, name=row.original_name):
                    self._recover(row)
        for row in self.ledger.files(FileState.ACCEPTED, FileState.DUPLICATE, unarchived=True):
            if not self.ledger.take(row.file_id):
                continue
            try:
                self.pipeline.archive(row)
            except LedgerFull:
                raise
            except TransientError as exc:  # the next start tries again; the file is safe in work/
                log.warning("archive_postponed", file_id=row.file_id, error=str(exc))
        if self.holds("batches"):
            pairs.resume(self.pipeline)
            self.pipeline.batcher.resume()
            self.pipeline.batcher.requeue()

    def _recover(self, row: FileRow) -> None:
        log.info("file_recovering", state=row.state)
        if row.state is FileState.CLAIMED:
            source = self.sources.get(row.source)
            if source is None:
                log.warning("source_gone")
                return
            try:
                source.resume(self.ledger, row)
            except FileVanished:
                log.warning("file_vanished")
                return
            except LedgerFull:
                raise
            except (OSError, TransientError) as exc:
                log.warning("recovery_postponed", error=str(exc))
                return
        self._process(row.file_id)

    def handle(self, source: Source, candidate: Candidate) -> None:
        """Claim one ready file and process it to its outcome."""
        self.handle_group(source, [candidate])

    def handle_group(self, source: Source, candidates: list[Candidate]) -> None:
        """Claim ready files and take them to their outcomes, the durable steps of the accepted
        ones once for all (group commit) where the source can claim them together."""
        claimed: list[FileRow | Exception]
        # On a shared ledger each claim is its own: another instance may take any one of them.
        shared = self.peers is not None and not self.peers.alone
        if isinstance(source, GroupClaiming) and len(candidates) > 1 and not shared:
            try:
                claimed = source.claim_many(self.ledger, self.work_dir, candidates)
            except LedgerFull:
                raise
            except (OSError, TransientError) as exc:  # those recorded wait in `claimed` for a restart
                claimed = [exc for _ in candidates]
        else:
            claimed = [self._claim(source, c) for c in candidates]
        rows = [r for r in claimed if isinstance(r, FileRow)]
        self.pipeline.read_ahead(rows)
        group = Group(self._failed, {r.file_id for r in rows})
        for candidate, result in zip(candidates, claimed, strict=True):
            with bound_contextvars(source=source.config.name, name=readable(candidate.name)):
                if isinstance(result, ClaimTaken):
                    log.info("file_claimed_elsewhere")
                elif isinstance(result, FileVanished):
                    log.info("file_vanished")
                elif isinstance(result, Exception):  # a remote source may fail mid-claim
                    log.warning("claim_failed", error=str(result))
                    reachable = not isinstance(result, TransientError)
                    self.ledger.source_seen(source.config.name, reachable=reachable,
                                            error=f"claim failed: {result}")  # fmt: skip
                else:
                    with bound_contextvars(file_id=result.file_id):
                        log.info("file_claimed", size=result.size, sha256=result.sha256)
                        self._process(result.file_id, group)
        self.pipeline.complete(group)

    def _claim(self, source: Source, candidate: Candidate) -> FileRow | Exception:
        try:
            return source.claim(self.ledger, self.work_dir, candidate)
        except LedgerFull:
            raise
        except (OSError, TransientError, FileVanished) as exc:
            return exc

    def _process(self, file_id: str, group: Group | None = None) -> bool:
        """Take one claimed file to its outcome (or into `group`); False when it has to be
        tried again later."""
        try:
            self.pipeline.join(file_id, group)
        except LeaseLost as exc:
            # Presumed dead, this instance was fenced out: the file is another's now.
            log.warning("file_taken_over", file_id=file_id, error=str(exc))
            return True
        except Exception as exc:
            self._failed(file_id, exc)
            return False
        return True

    def _failed(self, file_id: str, exc: Exception) -> None:
        if isinstance(exc, LedgerFull):
            raise exc  # not the file's: the loop waits for room (_serve)
        if isinstance(exc, TransientError):
            target = exc.target if isinstance(exc, DeliveryFailed) else None
            log.warning("file_postponed", file_id=file_id, error=str(exc), target=target)
            self.ledger.event(file_id, "file_postponed", error=str(exc), target=target)  # for status, trace
        else:
            # The ledger keeps the file's state; retry_postponed takes it up again later.
            log.error("file_failed", file_id=file_id, exc_info=exc)

    def poll_once(self) -> bool:
        """One round over all sources; True when a file was handled."""
        self.ledger.verify()
        progressed = False
        for name, source in self.sources.items():
            if not self._polls(source):
                continue
            try:
                ready = source.poll()
            except TransientError as exc:
                self.ledger.source_seen(name, reachable=False, error=str(exc))
                log.warning("source_unavailable", source=name, error=str(exc))
                continue
            refused = "; ".join(f"{n!r} {why}" for n, why in sorted(source.refused.items()))
            self.ledger.source_seen(name, reachable=True, error=f"refused: {refused}" if refused else None)
            if self.peers is not None and not self.peers.alone and not source.config.ordered:
                # Instances sharing a folder see the same files: each starts elsewhere in the
                # list, so that they rarely reach for the same file at once.
                ready = random.sample(ready, len(ready))
            # A burst in one source must not starve the others: the rest waits one round. An
            # ordered source goes file by file, so that a postponed file holds the later ones.
            offered = ready[:ROUND]
            for group in ([c] for c in offered) if source.config.ordered else groups(offered):
                if self.stop_requested:
                    return progressed
                self.handle_group(source, group)
                # A full batch goes out now, not after the burst.
                self.flush()
                progressed = True
                if source.config.ordered and self._behind(name):
                    break  # a later file of an ordered source never overtakes a postponed one
        return progressed

    def _polls(self, source: Source) -> bool:
        """Whether this instance polls `source` this round. On a shared ledger a remote source
        is listed by one instance at a time (listings are not repeated), and so is an ordered
        one, which first finishes the files an earlier holder left. An ordered source waits
        while one of its files waits (postponed): a later file never overtakes it."""
        config = source.config
        alone = config.type == "local" and not config.ordered
        if self.peers is not None and not alone and not self.holds(f"source:{config.name}"):
            return False
        if not config.ordered:
            return True
        if self.peers is not None:
            for row in self.ledger.files(*UNFINISHED):
                if row.source == config.name and self.ledger.take(row.file_id):
                    with bound_contextvars(file_id=row.file_id, source=row.source, name=row.original_name):
                        self._finish(row)
        return not self._behind(config.name)

    def _behind(self, source: str) -> bool:
        """Whether a file of `source` waits for its outcome (postponed, or an earlier holder's)."""
        return any(row.source == source for row in self.ledger.files(*UNFINISHED))

    def _finish(self, row: FileRow) -> bool:
        """Take a file left unfinished to its outcome; False when it has to wait."""
        if row.state is FileState.CLAIMED:
            self._recover(row)
            return True
        return self._process(row.file_id)

    def flush(self, *, force: bool = False) -> None:
        """Close and write the batches that are due (on a shared ledger, by one instance)."""
        if self.holds("batches"):
            self.pipeline.batcher.flush(force=force)

    def waiting(self) -> list[float]:
        """Seconds until each source's next settling file could be ready."""
        return [d for d in (s.next_due() for s in self.sources.values()) if d is not None]

    def run(self, *, once: bool = False) -> int:
        """Serve until stopped (or, with `once`, until drained); returns the exit code."""
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        log.info(
            "service_started",
            once=once,
            sources=list(self.sources),
            state_dir=str(self.config.state_dir),
        )
        with contextlib.suppress(LedgerFull):  # a full disk is the loop's to wait out
            self.ledger.beat(self.version, starting=True)
        server: WSGIServer | None = None
        try:
            if self.pipeline.readers is not None:
                self.pipeline.readers.start()
            listen = self.config.ops.metrics_listen
            if listen:
                try:
                    server, _ = metrics.serve(self.config)
                except OSError as exc:
                    raise ConfigError([f"metrics_listen: cannot listen on {listen}: {exc.strerror}"]) from exc
                log.info("metrics_serving", listen=listen)
            self.peers = self.ledger.join(self.config.lease_seconds)
            if not self._serve(once):
                return 1
            self.tick(force=True)  # a drain's quarantined files are alerted before it ends
        except StopRequested:
            log.warning("service_stopped_cold")
            return 1
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
            for source in self.sources.values():
                source.stop()
            if self.pipeline.readers is not None:
                self.pipeline.readers.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        with contextlib.suppress(LedgerFull):
            self.ledger.beat(self.version, stopping=True)
        log.info("service_stopped")
        return 0

    def _serve(self, once: bool) -> bool:
        """Recover, watch, loop; on a full ledger disk pause and start over from recovery.
        False when a drain (`once`) ran out of time waiting for room."""
        deadline = time.monotonic() + self.config.drain_timeout
        pause = FULL_PAUSE_SECONDS
        started = False
        while True:
            try:
                self.recover()
                if not started:
                    for source in self.sources.values():
                        source.start()
                    self.notifier.ready(f"watching {len(self.sources)} source(s)")
                    started = True
                self._loop(once)
                return True
            except LedgerFull as exc:
                log.warning("ledger_full", error=str(exc), retry_seconds=pause)
                # Started, as far as systemd is concerned: waiting for room is the service's job.
                self.notifier.ready(f"waiting for room: {exc}")
                if once and time.monotonic() + pause > deadline:
                    log.error("drain_timeout", reason="the ledger's filesystem stayed full")
                    return False
            wait(pause, self.notifier, self.wake, lambda: self.stop_requested)
            if self.stop_requested:
                return True
            pause = min(pause * 2, MAX_FULL_PAUSE_SECONDS)
            # As after a restart: nothing in memory from the interrupted attempt is trusted.
            if self.pipeline.readers is not None:
                self.pipeline.readers.close()
            self.pipeline = self._pipeline()

    def retry_postponed(self) -> bool:
        """Try again the files a transient failure left half done; True when all went through."""
        clean = True
        # On a shared ledger, files left claimed by an instance that died are taken over too.
        states = UNFINISHED if self.peers else (FileState.PROCESSING, FileState.PUBLISHING)
        for row in self.ledger.files(*states):
            if self.stop_requested:
                return False
            if not self.ledger.take(row.file_id):
                continue
            with bound_contextvars(file_id=row.file_id, source=row.source, name=row.original_name):
                clean = self._finish(row) and clean
        if not self.holds("batches"):
            return clean
        clean = pairs.resume(self.pipeline) and clean
        return self.pipeline.batcher.resume() and clean

    def _loop(self, once: bool) -> None:
        deadline = time.monotonic() + self.config.drain_timeout
        rescan = min(s.poll_seconds for s in self.config.sources)
        # On a shared ledger the files of an instance that died wait about one lease.
        retry = min(RETRY_SECONDS, self.config.lease_seconds) if self.peers else RETRY_SECONDS
        backoff = retry
        next_retry = time.monotonic() + backoff
        while not self.stop_requested:
            self.alive()
            if not once and time.monotonic() >= next_retry:
                # A destination that was down is tried again, less often while it stays down.
                backoff = retry if self.retry_postponed() else min(backoff * 2, MAX_RETRY_SECONDS)
                next_retry = time.monotonic() + backoff
            # Retries and discards asked for in the console or on the command line while we run.
            handed = bool(actions.perform_pending(self.config, self.ledger))
            progressed = self.poll_once() or handed
            self.flush()
            waiting = self.waiting()
            if not progressed and not waiting:
                self.caught_up_by = min(self.caught_up_by, time.monotonic())
            self.tick()
            if once and not progressed and not waiting:
                break
            if once and not progressed and time.monotonic() > deadline:
                log.warning("drain_timeout", waiting=len(waiting))
                break
            if progressed:
                continue
            batch_due = self.pipeline.batcher.next_due()
            if batch_due is not None:
                waiting.append(batch_due)
            if self.notifier.interval is not None:
                waiting.append(self.notifier.interval / 2)  # the watchdog hears from an idle loop
            waiting.append(max(0.0, self.next_tick - time.monotonic()))
            timeout = min([rescan, IDLE_SECONDS, *(w + 0.05 for w in waiting)])
            self.wake.wait(timeout)
            self.wake.clear()
        if once and not self.stop_requested:
            # A drain is the whole window: what it accepted goes out before it ends.
            self.flush(force=True)
