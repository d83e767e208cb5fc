"""Several gateway instances on one PostgreSQL ledger: who is alive, and who does what alone.

Each instance has a row in `instances` whose heartbeat a thread renews every third of the lease
(server time, so the hosts' clocks do not matter). A file's claim row names the instance that
holds it (postgres.py); when that instance's heartbeat is older than the lease, another may take
the file over. Work that one instance must do alone (polling one SFTP source, closing and
writing batches) goes to whoever holds a session advisory lock: PostgreSQL drops it with its
holder's connection, however the holder died, so nothing of ours elects a leader.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
from collections.abc import Callable
from typing import Any

import psycopg
import structlog
from psycopg_pool import ConnectionPool

from gateway.ledger.protocol import now
from gateway.ledger.states import UNFINISHED

log = structlog.get_logger("gateway")

#: An advisory lock's two keys: the gateway's class and the role's hash in this schema.
KEY = "%s, hashtext(current_schema() || ':' || %s)"

#: The first half of every advisory lock key of the gateway ("gate"); the second hashes the role
#: with the ledger's schema, so that ledgers in two schemas of one database never share a role.
LOCK_CLASS = 0x6761_7465


class Instances:
    """This instance among the others on the ledger (`pool`'s database)."""

    def __init__(
        self, pool: ConnectionPool[Any], connect: Callable[[], psycopg.Connection[Any]], lease_seconds: float
    ) -> None:
        self.pool = pool
        self.connect = connect
        self.lease = lease_seconds
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.instance = f"{self.host}:{self.pid}:{secrets.token_hex(3)}"
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self.locks: psycopg.Connection[Any] | None = None
        #: No other live instance at the last heartbeat (then files are taken in arrival order).
        self.alone = True

    def join(self) -> None:
        """Appear among the live instances and keep the heartbeat going."""
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO instances VALUES (%s, %s, %s, %s, now())",
                (self.instance, self.host, self.pid, now()),
            )
            self._count(conn)
        self.thread.start()
        log.info("instance_joined", instance=self.instance, lease_seconds=self.lease)

    def _beat(self) -> None:
        while not self.stopped.wait(self.lease / 3):
            try:
                with self.pool.connection() as conn:
                    conn.execute(
                        "INSERT INTO instances VALUES (%s, %s, %s, %s, now()) ON CONFLICT (instance)"
                        " DO UPDATE SET heartbeat_at = now()",
                        (self.instance, self.host, self.pid, now()),
                    )
                    self._count(conn)
            except psycopg.Error as exc:  # the database restarting: the next beat tries again
                log.warning("heartbeat_failed", error=str(exc))

    def _count(self, conn: psycopg.Connection[Any]) -> None:
        row = conn.execute(
            "SELECT count(*) FROM instances WHERE instance != %s"
            " AND heartbeat_at > now() - make_interval(secs => %s)",
            (self.instance, self.lease),
        ).fetchone()
        self.alone = row is None or row[0] == 0

    def leave(self) -> None:
        """Stop the heartbeat and disappear: what this instance held is free at once."""
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()
        if self.locks is not None:
            # Closing alone frees the roles only when the server's backend has exited, a moment
            # later: unlocking first frees them before leave() returns.
            with contextlib.suppress(psycopg.Error):
                self.locks.execute("SELECT pg_advisory_unlock_all()")
            self.locks.close()
        try:
            with self.pool.connection() as conn:
                conn.execute("DELETE FROM instances WHERE instance = %s", (self.instance,))
        except psycopg.Error as exc:
            log.warning("instance_leave_failed", error=str(exc))

    def holds(self, role: str) -> bool:
        """Whether this instance has the role (taking it when free); asked before each round of
        that work, so a lock lost with its connection is noticed before the work is done."""
        for _ in range(2):  # a connection the database dropped is opened again once
            try:
                if self.locks is None or self.locks.closed:
                    self.locks = self.connect()
                if self._still_holds(role):
                    return True
                row = self.locks.execute(f"SELECT pg_try_advisory_lock({KEY})", (LOCK_CLASS, role)).fetchone()
                return row is not None and bool(row[0])
            except psycopg.OperationalError:
                if self.locks is not None:
                    self.locks.close()
        return False

    def _still_holds(self, role: str) -> bool:
        assert self.locks is not None
        row = self.locks.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            " AND (classid, objid) = (SELECT %s::int::oid, hashtext(current_schema() || ':' || %s)::oid)"
            " AND granted",
            (LOCK_CLASS, role),
        ).fetchone()
        return row is not None and row[0] > 0


def live(pool: ConnectionPool[Any], lease_seconds: float) -> list[dict[str, Any]]:
    """The instances whose heartbeat is within the lease: host, pid, claims held, heartbeat."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT i.instance, i.host, i.pid, i.started_at, i.heartbeat_at::text,"
            " (SELECT count(*) FROM claims c JOIN files f USING (file_id)"
            "  WHERE c.instance = i.instance AND f.state = ANY(%s))"
            " FROM instances i WHERE i.heartbeat_at > now() - make_interval(secs => %s)"
            " ORDER BY i.started_at",
            ([str(s) for s in UNFINISHED], lease_seconds),
        ).fetchall()
    keys = ("instance", "host", "pid", "started_at", "heartbeat_at", "claims")
    return [dict(zip(keys, r, strict=True)) for r in rows]
