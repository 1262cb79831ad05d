"""Key rows: what depends on a key (certificates, credentials, CSRs) and its flags, for the key
life-cycle service; and, read-only in ANOTHER environment's database, whether a key id (or a
prefix) is held there, so that a key of the other environment offered here is named as such."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from smki_desktop.store import team_link
from smki_desktop.store.db import Database


@dataclass(frozen=True)
class DependentCert:
    """A certificate (or a portal credential) issued for the key."""

    kind: str  # "certificate" | "credential"
    serial: str
    subject: str
    status: str  # the acceptance status; "credential" for a credential
    not_after: str  # ISO date-time, "" when unknown


@dataclass(frozen=True)
class DependentCsr:
    csr_id: int
    family: str
    usage: str
    created: str
    status: str


def certificates_for_key(db: Database, env: str, key_id: str) -> list[DependentCert]:
    c = db.conn()
    out = [DependentCert("certificate", r["serial"], r["cn"] or r["eui"] or r["device_eui"]
                         or "", r["status"], r["not_after"] or "")
           for r in c.execute("SELECT serial, cn, eui, device_eui, status, not_after FROM "
                              "certificates WHERE environment=? AND key_id=? ORDER BY cert_id",
                              (env, key_id))]
    out += [DependentCert("credential", r["serial"], r["subject"], f"{r['purpose']} credential",
                          r["not_after"])
            for r in c.execute("SELECT serial, subject, purpose, not_after FROM "
                               "portal_credentials WHERE environment=? AND key_id=? ORDER BY id",
                               (env, key_id))]
    return out


def csrs_for_key(db: Database, env: str, key_id: str) -> list[DependentCsr]:
    return [DependentCsr(r["csr_id"], r["family"], r["usage"], r["created"], r["status"])
            for r in db.conn().execute(
                "SELECT csr_id, family, usage, created, status FROM csr_requests "
                "WHERE environment=? AND key_id=? ORDER BY csr_id", (env, key_id))]


def set_label(db: Database, env: str, key_id: str, label: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE keys SET label=? WHERE environment=? AND key_id=?",
                  (label, env, key_id))


def set_flags(db: Database, env: str, key_id: str, flags: tuple[str, ...]) -> None:
    with db.transaction() as c:
        c.execute("UPDATE keys SET flags=? WHERE environment=? AND key_id=?",
                  (",".join(flags), env, key_id))



def key_ids_elsewhere(path: Path, prefix: str) -> list[str]:
    """Key ids starting with `prefix` in the database at `path` (read-only; [] when there is
    no such database or it cannot be read)."""
    with team_link.readonly_connection(path) as con:
        if con is None:
            return []
        try:
            rows = con.execute("SELECT key_id FROM keys WHERE substr(key_id, 1, ?) = ?",
                               (len(prefix), prefix)).fetchall()
            return [str(r[0]) for r in rows]
        except sqlite3.Error:
            return []
