"""Keys, read-only in ANOTHER environment's database: whether a key id (or a prefix) is held
there, so that a key of the other environment offered here is named as such (never used)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def key_ids_elsewhere(path: Path, prefix: str) -> list[str]:
    """Key ids starting with `prefix` in the database at `path` (read-only; [] when there is
    no such database or it cannot be read)."""
    if not path.is_file():
        return []
    try:
        con = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return []
    try:
        rows = con.execute("SELECT key_id FROM keys WHERE substr(key_id, 1, ?) = ?",
                           (len(prefix), prefix)).fetchall()
        return [str(r[0]) for r in rows]
    except sqlite3.Error:
        return []
    finally:
        con.close()
