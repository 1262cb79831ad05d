"""Read-only look-ups in ANOTHER environment's database (never written): whether it holds a key
or a CSR, so that an artifact offered here can be named as belonging to
the other environment."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from smki_desktop.store import team_link


def _readonly(path: Path) -> AbstractContextManager[Any | None]:
    return team_link.readonly_connection(path)


def holds_key(path: Path, key_id: str) -> bool:
    """Whether the database at `path` has a key or an Organisation CSR for `key_id`."""
    with _readonly(path) as con:
        if con is None:
            return False
        for sql in ("SELECT 1 FROM keys WHERE key_id=?",
                    "SELECT 1 FROM csr_requests WHERE key_id=?"):
            try:
                if con.execute(sql, (key_id,)).fetchone():
                    return True
            except sqlite3.Error:
                continue
    return False


def made_key(path: Path, key_id: str) -> bool:
    """Whether the audit log of the database at `path` records making key `key_id` (a
    `key.generate` record naming it, though its row may have gone)."""
    with _readonly(path) as con:
        if con is None:
            return False
        try:
            return con.execute("SELECT 1 FROM audit_log WHERE action='key.generate' AND "
                               "details LIKE ?", (f"%{key_id}%",)).fetchone() is not None
        except sqlite3.Error:
            return False


def holds_key_here(con: sqlite3.Connection, key_id: str) -> bool:
    """Whether this environment's own database has a key or an Organisation CSR for it."""
    for sql in ("SELECT 1 FROM keys WHERE key_id=?",
                "SELECT 1 FROM csr_requests WHERE key_id=?"):
        if con.execute(sql, (key_id,)).fetchone():
            return True
    return False


def device_keys(path: Path, key_ids: set[str]) -> set[str]:
    """Which of `key_ids` the database at `path` holds as Device CSRs (packaged, submitted)."""
    if not key_ids:
        return set()
    with _readonly(path) as con:
        if con is None:
            return set()
        try:
            return {r[0] for r in con.execute("SELECT key_id FROM device_csrs")} & key_ids
        except sqlite3.Error:
            return set()


def device_keys_here(con: sqlite3.Connection, key_ids: set[str]) -> set[str]:
    if not key_ids:
        return set()
    return {r[0] for r in con.execute("SELECT key_id FROM device_csrs")} & key_ids
