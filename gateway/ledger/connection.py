"""How the ledger's SQL reaches an engine: the `Connection` it is written against, and the
adapter that runs the same SQL on PostgreSQL.

The ledger's statements are written once, in SQLite's dialect (`?` placeholders, `INSERT OR
IGNORE` and `OR REPLACE`, `VALUES` without a column list, the implicit `rowid`). `PgConnection`
translates each statement once (`Dialect`) and answers with rows readable by index and by name,
as `sqlite3.Row` is, so a method written for the SQLite ledger runs on PostgreSQL unchanged. On
PostgreSQL every table without an integer key has a real `rowid` column (a sequence), last,
which the rows hide from `keys()` so that `SELECT *` reads as on SQLite.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import psycopg

from gateway.errors import LedgerUnreachable

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

#: SQLite's implicit row number, a real last column on PostgreSQL.
ROWID = "rowid"


class Cursor(Protocol):
    """The part of a DB-API cursor the ledger uses."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """The part of `sqlite3.Connection` the ledger's SQL is written against."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...


class Row:
    """A result row by position (`row[0]`) or by column name (`row["state"]`, `dict(row)`)."""

    __slots__ = ("names", "values")

    def __init__(self, names: tuple[str, ...], values: Sequence[Any]) -> None:
        self.names = names
        self.values = tuple(values)

    def __getitem__(self, key: int | str) -> Any:
        return self.values[self.names.index(key) if isinstance(key, str) else key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def keys(self) -> list[str]:
        """The column names, as `sqlite3.Row.keys()`, without the engine's own `rowid`."""
        return [n for n in self.names if n != ROWID]


class Result:
    """A statement's rows, fetched at once so the connection can go back to its pool."""

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self.rows = rows
        self._rowcount = rowcount

    @property
    def rowcount(self) -> int:
        """Rows changed by the statement."""
        return self._rowcount

    def fetchone(self) -> Row | None:
        """The first row, if any."""
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[Row]:
        """Every row."""
        return self.rows

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)


_LITERAL = re.compile(r"('(?:[^']|'')*')")
_NUMBERED = re.compile(r"\?(\d+)")
_INSERT = re.compile(r"^\s*INSERT\s+(?:OR\s+(IGNORE|REPLACE)\s+)?INTO\s+(\w+)\s+(VALUES\b)?", re.IGNORECASE)


@lru_cache(maxsize=1024)
def placeholders(sql: str) -> tuple[str, bool]:
    """`sql` with `?` as `%s` (and `?1` as `%(p1)s`), a literal `%` doubled, string literals
    left alone; and whether the placeholders were numbered."""
    parts = _LITERAL.split(sql)
    numbered = False
    for i in range(0, len(parts), 2):
        text = parts[i].replace("%", "%%")
        if _NUMBERED.search(text):
            numbered = True
            text = _NUMBERED.sub(r"%(p\1)s", text)
        parts[i] = text.replace("?", "%s")
    return "".join(parts), numbered


#: SQLite's functions the ledger uses, as PostgreSQL spells them: a JSON array of ids as a table
#: (`SELECT value FROM json_each(?)`), the aggregate of texts, the position of a substring.
_FUNCTIONS = (
    (re.compile(r"json_each\(\?\)"), "json_array_elements_text(?::json)"),
    (re.compile(r"GROUP_CONCAT\(", re.IGNORECASE), "string_agg("),
    (re.compile(r"\binstr\(", re.IGNORECASE), "strpos("),
)


def functions(sql: str) -> str:
    """`sql` with SQLite's function names replaced by PostgreSQL's."""
    for pattern, replacement in _FUNCTIONS:
        sql = pattern.sub(replacement, sql)
    return sql


class Dialect:
    """Turns the ledger's SQLite statements into PostgreSQL ones, knowing the tables' columns."""

    def __init__(self) -> None:
        self.columns: dict[str, list[str]] = {}
        self.translated: dict[str, tuple[str, bool]] = {}

    def forget(self) -> None:
        """Drop what was learnt of the tables (after a migration)."""
        self.columns.clear()
        self.translated.clear()

    def translate(self, conn: psycopg.Connection[Any], sql: str) -> tuple[str, bool]:
        """The PostgreSQL text of a statement, and whether its placeholders are numbered."""
        if sql not in self.translated:
            self.translated[sql] = placeholders(self._inserts(conn, functions(sql)))
        return self.translated[sql]

    def _inserts(self, conn: psycopg.Connection[Any], sql: str) -> str:
        match = _INSERT.match(sql)
        if match is None:
            return sql
        verb, table, bare = match.group(1), match.group(2), match.group(3)
        columns = self._columns(conn, table)
        # Positional VALUES name their columns: the rowid column must not take a value.
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES" if bare else f"INSERT INTO {table} "
        sql = head + sql[match.end():]
        if verb and verb.upper() == "IGNORE":
            return f"{sql} ON CONFLICT DO NOTHING"
        if verb:
            # SQLite's REPLACE deletes the old row and numbers the new one; so does this.
            every = [*columns, ROWID] if ROWID in self._columns(conn, table, hidden=True) else columns
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in every)
            return f"{sql} ON CONFLICT ON CONSTRAINT {table}_pkey DO UPDATE SET {sets}"
        return sql

    def _columns(self, conn: psycopg.Connection[Any], table: str, *, hidden: bool = False) -> list[str]:
        if table not in self.columns:
            rows = conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                (table,),
            ).fetchall()
            self.columns[table] = [r[0] for r in rows]
        return self.columns[table] if hidden else [c for c in self.columns[table] if c != ROWID]


def row_factory(cursor: psycopg.Cursor[Any]) -> Any:
    """psycopg's row maker for `Row`s."""
    names = tuple(d.name for d in cursor.description or ())
    return lambda values: Row(names, values)


class PgConnection:
    """`Connection` over a psycopg pool: inside `transaction()` on this thread, its connection;
    otherwise one from the pool per statement (autocommit)."""

    def __init__(self, pool: ConnectionPool[Any], dialect: Dialect) -> None:
        self.pool = pool
        self.dialect = dialect
        self.local = threading.local()

    @property
    def current(self) -> psycopg.Connection[Any] | None:
        """The connection of this thread's open transaction, if any."""
        conn: psycopg.Connection[Any] | None = getattr(self.local, "conn", None)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[PgConnection]:
        """One transaction; a nested one joins the outer (so an override can wrap its base)."""
        if self.current is not None:
            yield self
            return
        try:
            with self.pool.connection() as conn, conn.transaction():
                self.local.conn = conn
                try:
                    yield self
                finally:
                    self.local.conn = None
        except psycopg.OperationalError as exc:
            raise unreachable(exc) from exc

    def _run(self, sql: str, parameters: Any, many: bool) -> Result:
        conn = self.current
        try:
            if conn is None:
                with self.pool.connection() as pooled:
                    return self._on(pooled, sql, parameters, many)
            return self._on(conn, sql, parameters, many)
        except psycopg.OperationalError as exc:
            raise unreachable(exc) from exc

    def _on(self, conn: psycopg.Connection[Any], sql: str, parameters: Any, many: bool) -> Result:
        text, numbered = self.dialect.translate(conn, sql)
        with conn.cursor(row_factory=row_factory) as cursor:
            if many:
                params = [_named(p) if numbered else p for p in parameters]
                cursor.executemany(text, params)
                return Result([], cursor.rowcount)
            cursor.execute(text, _named(parameters) if numbered else parameters)
            rows = cursor.fetchall() if cursor.description else []
            return Result(rows, cursor.rowcount)

    def execute(self, sql: str, parameters: Any = (), /) -> Result:
        """Run one statement."""
        return self._run(sql, parameters, many=False)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Result:
        """Run one statement for each set of parameters."""
        return self._run(sql, parameters, many=True)


def unreachable(exc: psycopg.OperationalError) -> LedgerUnreachable:
    """A lost database as what it is to the gateway: a transient failure, never the file's
    fault (the file waits, the service is restarted), so no file is quarantined for it."""
    return LedgerUnreachable(f"the PostgreSQL ledger does not answer: {exc}")


def _named(parameters: Sequence[Any]) -> dict[str, Any]:
    return {f"p{i}": value for i, value in enumerate(parameters, 1)}
