"""Read-only look-ups in ANOTHER environment's database (never written): whether it holds a key
or a CSR, so that an artifact offered here can be named as belonging to
the other environment."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def _readonly(path: Path) -> Iterator[sqlite3.Connection | None]:
    if not path.is_file():
        yield None
        return
    try:
        con = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        yield None
        return
    try:
        yield con
    finally:
        con.close()


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
