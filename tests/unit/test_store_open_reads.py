"""Opening a store that is up to date reads its schema versions once (on a team store each read
is a round trip to the server, at every open of every command): on both backends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from smki_desktop.store.db import Database, schema_modules

pytestmark = pytest.mark.both_backends


class _Spy:
    """A connection that notes each statement it is given."""

    def __init__(self, conn: Any, seen: list[str]) -> None:
        self._conn = conn
        self._seen = seen

    def execute(self, sql: str, *args: Any) -> Any:
        self._seen.append(sql)
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_an_up_to_date_store_reads_its_versions_once(
        open_db: Callable[[], Database], monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_db()  # a new store: migrated on opening
    seen: list[str] = []
    real = db.conn
    monkeypatch.setattr(db, "conn", lambda: _Spy(real(), seen))
    versions = db.migrate()
    assert versions == {m.COMPONENT: len(m.MIGRATIONS) for m in schema_modules()}
    assert seen == ["SELECT component, version FROM schema_versions"]
