"""Small per-environment settings (`settings`: name -> text) and the two one-row profiles
(`party_profile`, `officer_profile`, stored as JSON text): plain values in and out."""

from __future__ import annotations

import json
from typing import Any

from smki_desktop.store.db import Database

PROFILE_TABLES = ("party_profile", "officer_profile")


def get(db: Database, name: str) -> str | None:
    """The setting's value, or None when it was never set."""
    row = db.conn().execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
    return str(row["value"]) if row is not None else None


def put(db: Database, name: str, value: str) -> None:
    """Set (or replace) a setting."""
    db.conn().execute(
        "INSERT INTO settings(name, value) VALUES(?, ?) "
        "ON CONFLICT(name) DO UPDATE SET value=excluded.value", (name, value))


def put_first(db: Database, name: str, value: str) -> str:
    """Set a setting only when it has no value yet; returns the value now held (the one an
    earlier or concurrent writer stored wins)."""
    c = db.conn()
    c.execute("INSERT INTO settings(name, value) VALUES(?, ?) ON CONFLICT(name) DO NOTHING",
              (name, value))
    row = c.execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
    return str(row["value"])


def delete(db: Database, name: str) -> None:
    db.conn().execute("DELETE FROM settings WHERE name=?", (name,))


def _table(kind: str) -> str:
    table = f"{kind}_profile"
    if table not in PROFILE_TABLES:
        raise ValueError(f"unknown profile kind {kind!r}")
    return table


def profile(db: Database, kind: str) -> dict[str, Any] | None:
    """The stored profile ('party' or 'officer') as a dict, or None when none is set."""
    row = db.conn().execute(f"SELECT data FROM {_table(kind)} WHERE id=1").fetchone()
    return dict(json.loads(row["data"])) if row is not None else None


def save_profile(db: Database, kind: str, environment: str, data: dict[str, Any],
                 updated: str) -> None:
    """Store the profile ('party' or 'officer'), replacing the one there."""
    with db.transaction() as c:
        c.execute(
            f"INSERT INTO {_table(kind)}(id, environment, data, updated) VALUES(1, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data=excluded.data, updated=excluded.updated",
            (environment, json.dumps(data, sort_keys=True), updated))
