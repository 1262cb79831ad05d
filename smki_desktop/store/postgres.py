"""The team store: the same surface as `store.db.Database` (`conn()`, `transaction()`,
`migrate()`, `close()`, rows by column name, `?` placeholders) on a PostgreSQL server, through
SQLAlchemy Core (engine and pool, `exec_driver_sql`) over psycopg 3.

Imported only when a team store is configured, so a single-workstation start pays nothing for it.

Semantics kept from the SQLite backend, so that repositories written for one run on both:
- outside `transaction()` every statement commits by itself (SQLite's autocommit);
- `transaction()` is all or nothing and, like SQLite's `BEGIN IMMEDIATE`, takes the store's
  write lock first (a transaction-scoped advisory lock), so a read-then-write inside it is not
  raced by another workstation;
- errors are `StoreError`s that are also the matching `sqlite3` error class (`IntegrityError`,
  `OperationalError` for a missing table or an unreachable server), so existing handlers work;
- BLOBs are `bytea` (read back as bytes), integers `bigint`, sums of integers plain ints.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.adapt import Loader
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection as SaConnection

from smki_desktop.core.errors import StoreUnreachable
from smki_desktop.store.db import StoreError, nested, pending, schema_modules, statements
from smki_desktop.store.pg_sql import translate_ddl, translate_query

# statements that may run again on a new connection when the old one was found dropped
_REPEATABLE = re.compile(r"\s*(SELECT|BEGIN)\b", re.IGNORECASE)
# the key of the store-wide write lock (pg_advisory_xact_lock): "SMKI" in ASCII
WRITE_LOCK_KEY = 0x534D4B49


# every store open in this process, for `release_thread_connections` (weak: a store that is
# closed and dropped leaves by itself)
_OPEN: weakref.WeakSet[PgDatabase] = weakref.WeakSet()


def release_thread_connections() -> int:
    """Give back to the pools the connections the calling thread holds on every open team
    store (none is in a transaction); returns how many. For a thread that outlives its work:
    a thread pool's thread, alive between jobs, would otherwise keep one connection per store
    for good, and a few of them drain a pool."""
    return sum(store.release_thread() for store in list(_OPEN))


class PgStoreError(StoreError, sqlite3.DatabaseError):
    """The team store refused or failed a statement."""


class PgIntegrityError(StoreError, sqlite3.IntegrityError):
    """A constraint (unique, foreign key, not null, check) refused a change."""


class PgOperationalError(StoreError, sqlite3.OperationalError):
    """The team store cannot be reached, or a table the statement needs is not there."""


class PgUnreachableError(PgOperationalError, StoreUnreachable):
    """The team store's server cannot be reached, or the connection to it was lost. `cause`
    is the driver's reason alone, for a caller that words the outcome its own way (a first
    connect, where nothing is refused)."""

    cause: str = ""


class _NumericLoader(Loader):
    """SUM() of bigint columns is numeric on PostgreSQL: give back an int (or a float)."""

    def load(self, data: Any) -> Any:
        value = Decimal(bytes(data).decode())
        return int(value) if value == value.to_integral_value() else float(value)


class Row(tuple[Any, ...]):
    """A result row read by position or by column name (case-insensitive, as sqlite3.Row)."""

    _names: dict[str, int]
    _keys: list[str]

    def __new__(cls, values: Iterable[Any], keys: list[str], names: dict[str, int]) -> Row:
        row = super().__new__(cls, values)
        row._keys = keys
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names[key.lower()])
            except KeyError:
                raise IndexError(f"No item with that key: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._keys)


class Cursor:
    """The rows of one statement, already fetched (the connection may commit right after)."""

    def __init__(self, rows: list[Row], rowcount: int,
                 conn: Connection | None = None) -> None:
        self._rows = rows
        self._pos = 0
        self.rowcount = rowcount
        self._conn = conn

    @property
    def lastrowid(self) -> int | None:
        """The id the INSERT just made (`lastval()` of this session's identity sequence), for
        code not yet written with `INSERT ... RETURNING id` (the portable way: prefer it)."""
        if self._conn is None:
            return None
        row = self._conn.execute("SELECT lastval()").fetchone()
        return int(row[0]) if row is not None else None

    def fetchone(self) -> Row | None:
        if self._pos >= len(self._rows):
            return None
        self._pos += 1
        return self._rows[self._pos - 1]

    def fetchall(self) -> list[Row]:
        rest = self._rows[self._pos:]
        self._pos = len(self._rows)
        return rest

    def fetchmany(self, size: int = 1) -> list[Row]:
        rest = self._rows[self._pos:self._pos + size]
        self._pos += len(rest)
        return rest

    def __iter__(self) -> Iterator[Row]:
        while (row := self.fetchone()) is not None:
            yield row


class _Holder:
    """What a thread's local storage holds: its connection (see PgDatabase._all)."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: Connection) -> None:
        self.conn = conn


class Connection:
    """One thread's connection to the team store, with the sqlite3.Connection calls we use."""

    def __init__(self, store: PgDatabase, raw: SaConnection, generation: int = 0) -> None:
        self._store = store
        self._raw = raw
        self.in_transaction = False
        self.generation = generation  # the store's count of lost servers when it was made

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        return self._run(translate_query(sql), tuple(params) if not isinstance(params, dict)
                         else params)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Cursor:
        rows = [tuple(p) for p in seq]
        if not rows:
            return Cursor([], 0)
        return self._run(translate_query(sql), rows)

    def _run(self, sql: str, params: Any) -> Cursor:
        if self._raw.invalidated and not self.in_transaction:
            # an earlier statement found the session dropped: SQLAlchemy would refuse this one
            # with its own PendingRollbackError (not a StoreError); start on a new session
            self._raw = self._store.fresh_raw(self)
        try:
            return self._once(sql, params)
        except sa_exc.DBAPIError as exc:
            # A connection the server dropped while it was idle (the server restarted) fails
            # its next statement without running it. A read, or the BEGIN of a transaction,
            # is safe to run again on a new connection; a write outside a transaction is not
            # (had it reached the server?), so it is refused as it is.
            if not (exc.connection_invalidated and not self.in_transaction
                    and _REPEATABLE.match(sql)):
                raise self._store.error(exc) from exc
            self._raw = self._store.fresh_raw(self)
        try:
            return self._once(sql, params)
        except sa_exc.DBAPIError as exc:
            raise self._store.error(exc) from exc

    def _once(self, sql: str, params: Any) -> Cursor:
        result = self._raw.exec_driver_sql(sql, params)
        if not result.returns_rows:
            is_insert = sql.lstrip()[:6].upper() == "INSERT"
            return Cursor([], result.rowcount, self if is_insert else None)
        keys = list(result.keys())
        names = {k.lower(): i for i, k in reversed(list(enumerate(keys)))}
        rows = [Row(r, keys, names) for r in result.fetchall()]
        return Cursor(rows, len(rows))

    def commit(self) -> None:
        """Statements outside `transaction()` are already committed (SQLite's autocommit)."""

    def close(self) -> None:
        self._raw.close()


class PgDatabase:
    """A team store on PostgreSQL: `url` is a SQLAlchemy URL (postgresql+psycopg://...)."""

    backend = "postgresql"

    def __init__(self, url: str | sa.URL, path: Path, *,
                 connect_args: dict[str, Any] | None = None, migrate: bool = True) -> None:
        # `path`: where this workstation's local database would be; its folder holds the lock
        # files of local processes (the audit writer's), as for Database.path
        self.path = path
        self.url = sa.make_url(url)
        self.where = self._where(self.url)
        self._engine = sa.create_engine(
            self.url, connect_args=dict(connect_args or {}),
            isolation_level="AUTOCOMMIT", pool_pre_ping=True, pool_size=5, max_overflow=20,
        )
        sa.event.listen(self._engine, "connect", _on_connect)
        self._local = threading.local()
        # each thread's connection, with a weak reference to the holder kept in the thread's
        # local storage: when that storage goes, the connection goes back to the pool. Not the
        # thread's liveness: a job runs on a Qt pool thread, for which Python keeps a dummy
        # Thread that is "alive" for ever (its ident is reused by the next thread) while its
        # local storage is dropped after each job, so every job took a connection of its own
        # and a few dozen jobs drained the pool
        self._all: list[tuple[weakref.ref[_Holder], Connection]] = []
        self._lock = threading.Lock()
        # how many times a thread found the server gone: every thread's connection made
        # before then is dropped at its next use, so that work resumes on each thread when the
        # server returns instead of failing once more per thread on a dead socket
        self._generation = 0
        _OPEN.add(self)
        if migrate:
            self.migrate()

    @staticmethod
    def _where(url: sa.URL) -> str:
        host = url.host or str(url.query.get("host", "")) or "local socket"
        port = f":{url.port}" if url.port else ""
        return f"{host}{port}/{url.database}"

    def error(self, exc: sa_exc.DBAPIError) -> StoreError:
        """A driver error as a StoreError naming the team store and the server's reason."""
        orig = exc.orig
        cause = str(orig).strip().splitlines()[0] if orig is not None else str(exc)
        # a trigger's RAISE EXCEPTION is SQLite's RAISE(ABORT, ...): a constraint refusal
        if isinstance(orig, psycopg.errors.IntegrityError | psycopg.errors.RaiseException):
            return PgIntegrityError(f"The team store ({self.where}) refused the change: "
                                    f"{_constraint_words(orig)}{cause}")
        if isinstance(orig, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedColumn):
            return PgOperationalError(f"The team store ({self.where}) has no such table or "
                                      f"column: {cause}")
        if isinstance(orig, psycopg.OperationalError) or exc.connection_invalidated:
            with self._lock:
                self._generation += 1
            err = PgUnreachableError(f"The team store ({self.where}) cannot be reached: "
                                     f"{cause}. Changes are refused until it returns; "
                                     "nothing was saved.")
            err.cause = cause
            return err
        return PgStoreError(f"The team store ({self.where}) failed: {cause}")

    def conn(self) -> Connection:
        holder: _Holder | None = getattr(self._local, "holder", None)
        c = holder.conn if holder is not None else None
        if c is not None and c.in_transaction:
            return c  # never swapped under an open transaction
        if c is None or c._raw.invalidated or c._raw.closed or c.generation != self._generation:
            if c is not None:
                self._drop(c)
            generation = self._generation
            try:
                raw = self._engine.connect()
            except sa_exc.DBAPIError as exc:
                raise self.error(exc) from exc
            c = Connection(self, raw, generation)
            holder = _Holder(c)
            self._local.holder = holder
            with self._lock:
                self._release_ended()
                self._all.append((weakref.ref(holder), c))
        return c

    def fresh_raw(self, c: Connection) -> SaConnection:
        """A new server connection for `c`, whose own was found dropped."""
        try:
            c._raw.invalidate()
        except sa_exc.SQLAlchemyError:
            pass
        c.generation = self._generation
        try:
            return self._engine.connect()
        except sa_exc.DBAPIError as exc:
            raise self.error(exc) from exc

    def _drop(self, c: Connection) -> None:
        """A connection from before the server was lost: closed (its socket may be dead)."""
        with self._lock:
            self._all = [(t, x) for t, x in self._all if x is not c]
        try:
            c._raw.invalidate()
        except sa_exc.SQLAlchemyError:
            pass

    @property
    def open_connections(self) -> int:
        """Connections held for threads (a job's goes back to the pool after it)."""
        with self._lock:
            return len(self._all)

    def release_thread(self) -> int:
        """This thread's connection back to the pool, unless a transaction is open on it (1 if
        one was given back). The thread's next use takes a connection again."""
        holder: _Holder | None = getattr(self._local, "holder", None)
        c = holder.conn if holder is not None else None
        if c is None or c.in_transaction:
            return 0
        self._local.holder = None
        with self._lock:
            self._all = [(t, x) for t, x in self._all if x is not c]
        try:
            c.close()
        except sa_exc.SQLAlchemyError:
            pass  # a broken connection is discarded by the pool all the same
        return 1

    def checked_out(self) -> int:
        """Connections of this store's pool in use now (for tests and diagnostics)."""
        return int(self._engine.pool.checkedout())  # type: ignore[attr-defined]

    def _release_ended(self) -> None:
        """Return to the pool the connections whose thread's local storage has gone (the
        thread ended, or a Qt pool thread finished a job) (under `_lock`)."""
        keep = []
        for holder, c in self._all:
            if holder() is not None:
                keep.append((holder, c))
                continue
            try:
                c.close()
            except sa_exc.SQLAlchemyError:
                pass  # a broken connection is discarded by the pool all the same
        self._all = keep

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All of it is written, or none of it; writers take the store's lock in turn."""
        c = self.conn()
        if c.in_transaction:
            # opened again on this thread: a savepoint of the open one (see Database)
            with nested(self._local, c, getattr(self._local, "depth", 1)):
                yield c
            return
        c.execute("BEGIN")
        c.in_transaction = True
        self._local.depth = 1
        try:
            c.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK_KEY,))
            yield c
        except BaseException:
            c.in_transaction = False
            self._rollback(c)
            raise
        else:
            c.in_transaction = False
            try:
                c.execute("COMMIT")
            except StoreError:
                self._rollback(c)
                raise
        finally:
            self._local.depth = 0

    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open (`transaction()`)."""
        holder: _Holder | None = getattr(self._local, "holder", None)
        return holder is not None and holder.conn.in_transaction

    @staticmethod
    def _rollback(c: Connection) -> None:
        try:
            c._raw.exec_driver_sql("ROLLBACK")
        except sa_exc.DBAPIError:
            pass  # the connection is gone: the server rolled back by itself

    def ping(self) -> None:
        """One round trip to the server: `PgUnreachableError` when it cannot be reached (a
        lost connection is dropped, so that the next call connects afresh)."""
        self.conn().execute("SELECT 1")

    def applied(self) -> dict[str, int]:
        try:
            rows = self.conn().execute("SELECT component, version FROM schema_versions")
        except PgOperationalError:
            return {}
        return {r["component"]: r["version"] for r in rows}

    def migrate(self) -> dict[str, int]:
        """Apply every component's pending migrations (translated from the SQLite scripts).
        An up-to-date store costs one read of its versions (one round trip at each open)."""
        current = self.applied()
        if not pending(current):
            return current
        with self.transaction() as c:
            c.execute("CREATE TABLE IF NOT EXISTS schema_versions ("
                      " component TEXT PRIMARY KEY, version BIGINT NOT NULL)")
            applied = {r["component"]: r["version"]
                       for r in c.execute("SELECT component, version FROM schema_versions")}
            for mod in schema_modules():
                have = applied.get(mod.COMPONENT, 0)
                for n, script in enumerate(mod.MIGRATIONS[have:], start=have + 1):
                    for stmt in statements(script):
                        for pg in translate_ddl(stmt):
                            c.execute(pg)
                    applied[mod.COMPONENT] = n
                c.execute(
                    "INSERT INTO schema_versions(component, version) VALUES(?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version=excluded.version",
                    (mod.COMPONENT, applied.get(mod.COMPONENT, 0)),
                )
        return applied

    def close(self) -> None:
        with self._lock:
            for _holder, c in self._all:
                try:
                    c.close()
                except sa_exc.SQLAlchemyError:
                    pass
            self._all.clear()
        self._local = threading.local()
        _OPEN.discard(self)
        self._engine.dispose()


# SQLite's words for each kind of constraint, which handlers and messages already know
_CONSTRAINT_WORDS: tuple[tuple[type[Exception], str], ...] = (
    (psycopg.errors.UniqueViolation, "UNIQUE"),
    (psycopg.errors.ForeignKeyViolation, "FOREIGN KEY"),
    (psycopg.errors.NotNullViolation, "NOT NULL"),
    (psycopg.errors.CheckViolation, "CHECK"),
)


def _constraint_words(orig: Exception) -> str:
    """'UNIQUE constraint failed: <name> - ' as SQLite begins the message, then the server's."""
    for cls, words in _CONSTRAINT_WORDS:
        if isinstance(orig, cls):
            diag = getattr(orig, "diag", None)
            name = getattr(diag, "constraint_name", None) or getattr(diag, "column_name", None)
            return f"{words} constraint failed: {name} - " if name else \
                f"{words} constraint failed - "
    return ""


def _on_connect(dbapi_conn: psycopg.Connection[Any], _record: Any) -> None:
    dbapi_conn.adapters.register_loader("numeric", _NumericLoader)
