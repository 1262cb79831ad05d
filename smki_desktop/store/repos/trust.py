"""Trust anchor rows (`trust_anchors`, per environment): the anchors' DER, their list for the
views, adding one (idempotent on the SHA-256 fingerprint), and - read-only in ANOTHER
environment's database - that environment's anchors, so that a certificate of its hierarchy
offered here can be named as such."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from smki_desktop.store import team_link
from smki_desktop.store.db import Database


@dataclass(frozen=True)
class AnchorRow:
    fingerprint: str
    subject: str
    source: str
    added: str

    def as_dict(self) -> dict[str, str]:
        return {"fingerprint": self.fingerprint, "subject": self.subject,
                "source": self.source, "added": self.added}


def anchor_ders(db: Database, env: str) -> list[bytes]:
    return [bytes(r["der"]) for r in db.conn().execute(
        "SELECT der FROM trust_anchors WHERE environment=?", (env,))]


def list_anchors(db: Database, env: str) -> list[AnchorRow]:
    return [AnchorRow(r["fingerprint"], r["subject"], r["source"], r["added"])
            for r in db.conn().execute(
                "SELECT fingerprint, subject, source, added FROM trust_anchors WHERE "
                "environment=? ORDER BY added", (env,))]


def has_anchor(db: Database, fingerprint: str) -> bool:
    return db.conn().execute("SELECT 1 FROM trust_anchors WHERE fingerprint=?",
                             (fingerprint,)).fetchone() is not None


def add_anchor(db: Database, env: str, fingerprint: str, subject: str, source: str, der: bytes,
               added: str) -> bool:
    """Add an anchor; False (nothing changed) when one with this fingerprint is there."""
    with db.transaction() as c:
        row = c.execute("INSERT INTO trust_anchors(fingerprint,environment,subject,source,der,"
                        "added) VALUES(?,?,?,?,?,?) ON CONFLICT(fingerprint) DO NOTHING "
                        "RETURNING fingerprint",
                        (fingerprint, env, subject, source, der, added)).fetchone()
    return row is not None


def other_environment_anchor_ders(path: Path, env: str) -> list[bytes]:
    """The anchors of environment `env` in its own database at `path`, opened read-only (none
    when that environment was never opened here or its database cannot be read)."""
    try:
        with team_link.readonly_connection(path) as con:  # its team store or its SQLite file
            if con is None:
                return []
            rows = con.execute("SELECT der FROM trust_anchors WHERE environment=?",
                               (env,)).fetchall()
    except sqlite3.Error:
        return []
    return [bytes(r[0]) for r in rows]
