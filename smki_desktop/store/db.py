"""The per-environment SQLite database: WAL mode, one connection per thread, and migrations
collected from every component's schema module (`store/schemas/<component>.py`).

Each component's migrations are numbered by position; the versions applied are kept in
`schema_versions`, and `PRAGMA user_version` holds the sum of all applied versions so that any
tool can see at a glance that the schema moved.
"""

from __future__ import annotations

import importlib
import pkgutil
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from smki_desktop.core.errors import SmkiError


class StoreError(SmkiError):
    """The database cannot be opened or written (full disk, permissions, corruption)."""


def pending(applied: dict[str, int]) -> bool:
    """Does a store with these component versions applied miss a migration?"""
    return any(applied.get(m.COMPONENT, 0) != len(m.MIGRATIONS) for m in schema_modules())


def schema_modules() -> list[ModuleType]:
    import smki_desktop.store.schemas as pkg

    mods = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        if hasattr(mod, "COMPONENT") and hasattr(mod, "MIGRATIONS"):
            mods.append(mod)
    # the base component first: others may reference its tables
    mods.sort(key=lambda m: (m.COMPONENT != "base", m.COMPONENT))
    return mods


def explain(exc: BaseException, folder: Path) -> str:
    """SQLite says 'disk I/O error' when it cannot grow its journal: name the real cause."""
    import shutil

    text = str(exc)
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return text
    if free < 1024 * 1024:
        return f"{text} — the disk holding {folder} is full ({free // 1024} KiB free)"
    return text


class _Holder:
    """What a thread's local storage holds: its connection (see Database._all)."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


class Database:
    backend = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        # each thread's connection, with a weak reference to the holder in the thread's local
        # storage: when that storage goes (the thread ended, or a Qt pool thread finished a
        # job: Python drops its local storage after each job) the connection is closed, rather
        # than one more open file per job for the rest of the session
        self._all: list[tuple[weakref.ref[_Holder], sqlite3.Connection]] = []
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.migrate()

    def conn(self) -> sqlite3.Connection:
        holder: _Holder | None = getattr(self._local, "holder", None)
        c = holder.conn if holder is not None else None
        if c is None:
            try:
                c = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                    check_same_thread=False)
                c.execute("PRAGMA journal_mode=WAL")
                c.execute("PRAGMA foreign_keys=ON")
                c.execute("PRAGMA synchronous=NORMAL")
                c.execute("PRAGMA busy_timeout=30000")
            except sqlite3.Error as exc:
                raise StoreError(
                    f"Cannot open the database {self.path}: {explain(exc, self.path.parent)}"
                ) from exc
            c.row_factory = sqlite3.Row
            holder = _Holder(c)
            self._local.holder = holder
            with self._lock:
                self._close_ended()
                self._all.append((weakref.ref(holder), c))
        return c

    def _close_ended(self) -> None:
        """Close the connections whose thread's local storage has gone (under `_lock`)."""
        keep = []
        for holder, c in self._all:
            if holder() is not None:
                keep.append((holder, c))
                continue
            try:
                c.close()
            except sqlite3.Error:
                pass
        self._all = keep

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._all)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An IMMEDIATE transaction: all of it is written, or none of it. Opened again on the
        same thread while one is open, it is a savepoint of the open one: a user action's rows,
        its outbox request and its audit record commit together (`AuditLog.change`)."""
        c = self.conn()
        depth: int = getattr(self._local, "depth", 0)
        if depth:
            with nested(self._local, c, depth):
                yield c
            return
        try:
            c.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(
                f"Cannot write the database {self.path}: {explain(exc, self.path.parent)}"
            ) from exc
        self._local.depth = 1
        try:
            yield c
        except sqlite3.OperationalError as exc:
            # disk full, read-only or locked database: a cause the user can act on
            self._rollback(c)
            raise StoreError(f"Cannot write the database {self.path}: "
                             f"{explain(exc, self.path.parent)}. Nothing was saved.") from exc
        except BaseException:
            self._rollback(c)
            raise
        else:
            try:
                c.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(c)
                raise StoreError(f"Cannot write the database {self.path}: "
                                 f"{explain(exc, self.path.parent)}. Nothing was saved.") \
                    from exc
        finally:
            self._local.depth = 0

    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open (`transaction()`)."""
        return bool(getattr(self._local, "depth", 0))

    def ping(self) -> None:
        """A file on this workstation is always there to reach; opening it is the check."""
        self.conn().execute("SELECT 1")

    @staticmethod
    def _rollback(c: sqlite3.Connection) -> None:
        # SQLite may already have rolled back by itself (e.g. SQLITE_FULL on COMMIT)
        if c.in_transaction:
            c.execute("ROLLBACK")

    def _applied_if_current(self) -> dict[str, int] | None:
        """Read-only check, so that an up-to-date database opens without a write: the
        versions applied when no migration is pending (read once), else None."""
        c = self.conn()
        try:
            applied = {r["component"]: r["version"]
                       for r in c.execute("SELECT component, version FROM schema_versions")}
        except sqlite3.OperationalError:
            return None
        return None if pending(applied) else applied

    def migrate(self) -> dict[str, int]:
        """Apply every component's pending migrations; return the versions now applied."""
        current = self._applied_if_current()
        if current is not None:
            return current
        with self.transaction() as c:
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_versions ("
                " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            applied = {
                r["component"]: r["version"]
                for r in c.execute("SELECT component, version FROM schema_versions")
            }
            for mod in schema_modules():
                have = applied.get(mod.COMPONENT, 0)
                for n, script in enumerate(mod.MIGRATIONS[have:], start=have + 1):
                    for stmt in statements(script):
                        c.execute(stmt)
                    applied[mod.COMPONENT] = n
                c.execute(
                    "INSERT INTO schema_versions(component, version) VALUES(?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version=excluded.version",
                    (mod.COMPONENT, applied.get(mod.COMPONENT, 0)),
                )
            c.execute(f"PRAGMA user_version={int(sum(applied.values()))}")
        return applied

    def close(self) -> None:
        with self._lock:
            for _holder, c in self._all:
                try:
                    c.close()
                except sqlite3.Error:
                    pass
            self._all.clear()
        self._local = threading.local()


@contextmanager
def nested(local: threading.local, c: Any, depth: int) -> Iterator[None]:
    """A savepoint inside the transaction open on this thread (both backends): its part is
    undone on an error, the rest of the transaction stays and commits with the outer one."""
    name = f"smki_sp{depth}"
    c.execute(f"SAVEPOINT {name}")
    local.depth = depth + 1
    try:
        yield
    except BaseException:
        try:
            c.execute(f"ROLLBACK TO SAVEPOINT {name}")
            c.execute(f"RELEASE SAVEPOINT {name}")
        except Exception:  # the outer transaction is rolled back anyway
            pass
        raise
    else:
        c.execute(f"RELEASE SAVEPOINT {name}")
    finally:
        local.depth = depth


def statements(script: str) -> list[str]:
    """Split a migration script into statements (sqlite3's execute takes one at a time, and
    executescript would commit our transaction)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
