"""The team store's own facts (settings rows): for which environment and Party it was
initialised, when and by which workstation; and the Party of this workstation's local database.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smki_desktop.store.db import StoreError

if TYPE_CHECKING:
    from smki_desktop.services.context import EnvPaths
    from smki_desktop.store.db import Database
    from smki_desktop.store.postgres import PgDatabase

_KEYS = ("environment", "team.party_id", "team.initialised_at", "team.initialised_by")
# The store's identity: random, written once when the store is initialised. Each workstation
# pins it in its keyring (core/team_pin.py), so a store wiped and initialised again, or another
# store restored in its place, is not taken for the one it knew.
STORE_ID = "team.store_id"


@dataclass(frozen=True)
class TeamState:
    environment: str = ""
    party_id: str = ""
    initialised_at: str = ""
    initialised_by: str = ""


def read_state(store: PgDatabase) -> TeamState:
    """What the store says about itself; an empty (never initialised) store says nothing."""
    try:
        rows = store.conn().execute(
            "SELECT name, value FROM settings WHERE name IN (?, ?, ?, ?)", _KEYS).fetchall()
    except sqlite3.OperationalError as exc:
        if isinstance(exc, StoreError) and "no such table" in str(exc):
            return TeamState()
        raise
    got = {r["name"]: str(r["value"]) for r in rows}
    return TeamState(got.get("environment", ""), got.get("team.party_id", ""),
                     got.get("team.initialised_at", ""), got.get("team.initialised_by", ""))


def initialise(store: PgDatabase, environment: str, party_id: str, installation_id: str,
               now: str) -> bool:
    """Record the environment (and Party, if known) unless already there; True if this call
    initialised the store."""
    with store.transaction() as c:
        had = c.execute("SELECT value FROM settings WHERE name='environment'").fetchone()
        for name, value in (("environment", environment), ("team.initialised_at", now),
                            ("team.initialised_by", installation_id),
                            (STORE_ID, secrets.token_hex(16))):
            c.execute("INSERT INTO settings(name, value) VALUES(?, ?) "
                      "ON CONFLICT(name) DO NOTHING", (name, value))
        if party_id:
            c.execute("INSERT INTO settings(name, value) VALUES('team.party_id', ?) "
                      "ON CONFLICT(name) DO NOTHING", (party_id,))
    return had is None


def store_id(db: Database) -> str:
    """The team store's identity; a store initialised before it had one (or stripped of it)
    is given one now (the first writer's wins)."""
    row = db.conn().execute("SELECT value FROM settings WHERE name=?", (STORE_ID,)).fetchone()
    if row is not None:
        return str(row["value"])
    c = db.conn()
    c.execute("INSERT INTO settings(name, value) VALUES(?, ?) ON CONFLICT(name) DO NOTHING",
              (STORE_ID, secrets.token_hex(16)))
    return str(c.execute("SELECT value FROM settings WHERE name=?", (STORE_ID,)).fetchone()[0])


def local_party_id(paths: EnvPaths) -> str | None:
    """The Party ID of this workstation's own (SQLite) database, read-only; None if none."""
    if not paths.db_path.exists():
        return None
    try:
        con = sqlite3.connect(paths.db_path.as_uri() + "?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        row = con.execute("SELECT data FROM party_profile WHERE id=1").fetchone()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return str(json.loads(row[0])["party_id"]) if row else None
