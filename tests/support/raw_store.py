"""The store behind a data folder, opened around the app: its SQLite file, or the team store the
folder is linked to. For tests that play someone who edits the database directly (the tampering
tests), so that the same attack is tried on either backend."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Protocol

from smki_desktop.store import team_link

AUDIT_GUARDS = ("audit_no_update", "audit_no_delete")
"""The triggers that keep the app's own code from editing the audit log (not an attacker)."""


class RawStore(Protocol):
    def execute(self, sql: str, params: Any = ..., /) -> Any: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...


class _TeamStore:
    """The team store's connection (autocommit: `commit` has nothing left to do)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._conn = store.conn()

    def execute(self, sql: str, params: Any = (), /) -> Any:
        return self._conn.execute(sql, params)

    def commit(self) -> None:
        pass

    def close(self) -> None:
        self._store.close()


def open_raw(data_root: Path, env: str = "test") -> RawStore:
    """A connection taking `?` placeholders to the store of `data_root`'s environment `env`."""
    env_dir = data_root / env
    link = team_link.load(env_dir)
    if link is None:
        return sqlite3.connect(env_dir / "smki.sqlite3")
    return _TeamStore(team_link.open_store(link, None, env_dir, migrate=False))


def drop_audit_guards(c: RawStore) -> None:
    """Remove the audit log's append-only triggers, as someone with the database's rights can."""
    on = "" if isinstance(c, sqlite3.Connection) else " ON audit_log"
    for name in AUDIT_GUARDS:
        c.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
