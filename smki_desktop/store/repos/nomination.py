"""Rows the nomination workflow reads and writes: nomination drafts (`officer_drafts`), the
key a record would be signed with, and - read-only in ANOTHER environment's database - a
register entry, so that a refusal can say the nominating SRO belongs to the other
environment."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage
from smki_desktop.store import team_link
from smki_desktop.store.db import Database


@dataclass(frozen=True)
class OfficerEntry:
    """A register entry as the other environment's database holds it."""

    officer_id: str
    role: str
    status: str
    name: str
    email: str
    organisation: str
    party_id: str


@dataclass(frozen=True)
class DraftRow:
    draft_id: str
    form: str
    version: int
    data: str  # JSON
    updated: str


def other_environment_officer(path: Path, ref: str) -> OfficerEntry | None:
    """The register entry `ref` (any case) in the database at `path`, opened read-only; None
    when there is none or the database cannot be read."""
    try:
        with team_link.readonly_connection(path) as con:  # its team store or its SQLite file
            if con is None:
                return None
            r = con.execute("SELECT * FROM officers WHERE upper(officer_id)=upper(?)",
                            (ref.strip(),)).fetchone()
    except sqlite3.Error:
        return None
    if r is None:
        return None
    return OfficerEntry(r["officer_id"], r["role"], r["status"], r["name"], r["email"],
                        r["organisation"], r["party_id"])


def key_of_environment(db: Database, env: str, key_id: str) -> KeyInfo | None:
    """A key of this environment's key store by its full id, or None."""
    row = db.conn().execute("SELECT * FROM keys WHERE key_id=? AND environment=?",
                            (key_id, env)).fetchone()
    if row is None:
        return None
    return KeyInfo(
        key_id=row["key_id"], label=row["label"], key_type=KeyType(row["key_type"]),
        usage=KeyUsage(row["usage"]), environment=Environment(row["environment"]),
        created=datetime.fromisoformat(row["created"]), location=KeyLocation(row["location"]),
        public_key_der=bytes(row["public_key"]), location_ref=row["location_ref"],
        flags=tuple(f for f in row["flags"].split(",") if f))


def save_draft(db: Database, draft_id: str, env: str, form: str, version: int, data: str,
               updated: str) -> None:
    with db.transaction() as c:
        c.execute(
            "INSERT INTO officer_drafts(draft_id, environment, form, version, data, updated) "
            "VALUES(?,?,?,?,?,?) ON CONFLICT(draft_id) DO UPDATE SET data=excluded.data, "
            "updated=excluded.updated", (draft_id, env, form, version, data, updated))


def list_drafts(db: Database, env: str) -> list[DraftRow]:
    return [DraftRow(r["draft_id"], r["form"], r["version"], r["data"], r["updated"])
            for r in db.conn().execute(
                "SELECT * FROM officer_drafts WHERE environment=? ORDER BY updated DESC",
                (env,))]


def get_draft(db: Database, env: str, draft_id: str) -> DraftRow | None:
    r = db.conn().execute("SELECT * FROM officer_drafts WHERE draft_id=? AND environment=?",
                          (draft_id, env)).fetchone()
    return DraftRow(r["draft_id"], r["form"], r["version"], r["data"], r["updated"]) \
        if r else None


def delete_draft(c: sqlite3.Connection, draft_id: str) -> None:
    """Delete a draft in the caller's transaction."""
    c.execute("DELETE FROM officer_drafts WHERE draft_id=?", (draft_id,))


def remove_draft(db: Database, draft_id: str) -> None:
    """Delete a draft (a change of its own)."""
    with db.transaction() as c:
        delete_draft(c, draft_id)
