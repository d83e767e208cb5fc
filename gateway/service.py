"""The service loop: recover, then poll sources, claim ready files and process them one by one.

The first SIGTERM (or SIGINT) asks for a warm stop: the file in hand is finished and the loop
ends with exit 0. A second one stops at once; the ledger lets the next start finish whatever
was interrupted. `once=True` drains instead of serving: it processes every ready file, waits
for files still settling, closes every open batch, and returns when nothing is left (or
`drain_timeout` runs out for files that never settle). Between files the loop closes batches
whose size or window is reached (batching.py).
"""

from __future__ import annotations

import random
import signal
import threading
import time
from types import FrameType

import structlog
from structlog.contextvars import bound_contextvars

from gateway import plugins
from gateway.config import Config
from gateway.errors import ClaimTaken, FileVanished, LeaseLost, StopRequested, TransientError
from gateway.ledger.protocol import Peers
from gateway.ledger.sqlite import FileRow, Ledger
from gateway.ledger.states import UNFINISHED, FileState
from gateway.notify import Notifier
from gateway.pipeline import pairs
from gateway.pipeline.claim import readable
from gateway.pipeline.process import Pipeline
from gateway.sources.base import Candidate, Source

log = structlog.get_logger("gateway")

IDLE_SECONDS = 30.0
BATCH = 100
RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 600.0


class Service:
    """One gateway instance over one configuration and ledger."""

    def __init__(self, config: Config, ledger: Ledger) -> None:
        self.config = config
        self.ledger = ledger
        self.pipeline = Pipeline(config, ledger)
        self.wake = threading.Event()
        self.sources: dict[str, Source] = {
            s.name: plugins.source(s.type)(s, self.wake) for s in config.sources
        }
        self.stop_requested = False
        self.work_dir = config.folder("work")
        self.notifier = Notifier()
        self.pipeline.stager.heartbeat = self.notifier.alive
        #: The other instances on a shared (PostgreSQL) ledger, once `run` has joined them.
        self.peers: Peers | None = None

    def holds(self, role: str) -> bool:
        """Whether this instance does the work that one instance does at a time (polling an
        SFTP source, batches): always alone; on a shared ledger, while it holds the role."""
        return self.peers is None or self.peers.holds(role)

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
            if self.ledger.take(row.file_id):
                self.pipeline.archive(row)
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
            except (OSError, TransientError) as exc:
                log.warning("recovery_postponed", error=str(exc))
                return
        self._process(row.file_id)

    def handle(self, source: Source, candidate: Candidate) -> None:
        """Claim one ready file and process it to its outcome."""
        with bound_contextvars(source=source.config.name, name=readable(candidate.name)):
            self._handle(source, candidate)

    def _handle(self, source: Source, candidate: Candidate) -> None:
        try:
            row = source.claim(self.ledger, self.work_dir, candidate)
        except ClaimTaken:
            log.info("file_claimed_elsewhere")
            return
        except FileVanished:
            log.info("file_vanished")
            return
        except (OSError, TransientError) as exc:  # a remote source may fail mid-claim
            log.warning("claim_failed", error=str(exc))
            reachable = not isinstance(exc, TransientError)
            self.ledger.source_seen(source.config.name, reachable=reachable, error=f"claim failed: {exc}")
            return
        with bound_contextvars(file_id=row.file_id):
            log.info("file_claimed", size=row.size, sha256=row.sha256)
            self._process(row.file_id)

    def _process(self, file_id: str) -> bool:
        """Take one claimed file to its outcome; False when it has to be tried again later."""
        try:
            self.pipeline.process(file_id)
        except LeaseLost as exc:
            # Presumed dead, this instance was fenced out: the file is another's now.
            log.warning("file_taken_over", file_id=file_id, error=str(exc))
            return True
        except TransientError as exc:
            log.warning("file_postponed", file_id=file_id, error=str(exc))
            self.ledger.event(file_id, "file_postponed", error=str(exc))  # for status and trace
            return False
        except Exception:
            # The ledger keeps the file's state; retry_postponed takes it up again later.
            log.exception("file_failed", file_id=file_id)
            return False
        return True

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
            # A burst in one source must not starve the others: the rest waits one round.
            for candidate in ready[:BATCH]:
                if self.stop_requested:
                    return progressed
                self.handle(source, candidate)
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
        try:
            self.peers = self.ledger.join(self.config.lease_seconds)
            self.recover()
            for source in self.sources.values():
                source.start()
            self.notifier.ready(f"watching {len(self.sources)} source(s)")
            self._loop(once)
        except StopRequested:
            log.warning("service_stopped_cold")
            return 1
        finally:
            for source in self.sources.values():
                source.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log.info("service_stopped")
        return 0

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
            self.notifier.alive()
            if not once and time.monotonic() >= next_retry:
                # A destination that was down is tried again, less often while it stays down.
                backoff = retry if self.retry_postponed() else min(backoff * 2, MAX_RETRY_SECONDS)
                next_retry = time.monotonic() + backoff
            progressed = self.poll_once()
            self.flush()
            waiting = self.waiting()
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
            timeout = min([rescan, IDLE_SECONDS, *(w + 0.05 for w in waiting)])
            self.wake.wait(timeout)
            self.wake.clear()
        if once and not self.stop_requested:
            # A drain is the whole window: what it accepted goes out before it ends.
            self.flush(force=True)
