"""The Organisation CSRs made in this environment (issue 3's `csr_requests`), typed."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class CsrRow:
    csr_id: int
    key_id: str
    family: str
    role: str | None
    eui: str | None
    cn: str | None
    usage: str
    created: str
    status: str
    der: bytes


def list_csrs(db: Database, env: str, family: str = "organisation") -> list[CsrRow]:
    return [CsrRow(r["csr_id"], r["key_id"], r["family"], r["role"], r["eui"], r["cn"],
                   r["usage"], r["created"], r["status"], bytes(r["der"]))
            for r in db.conn().execute(
                "SELECT csr_id, key_id, family, role, eui, cn, usage, created, status, der "
                "FROM csr_requests WHERE environment=? AND family=? ORDER BY csr_id DESC",
                (env, family))]


def get_csr(db: Database, env: str, csr_id: int) -> CsrRow | None:
    return next((c for c in list_csrs(db, env) if c.csr_id == csr_id), None)


def discard(c: sqlite3.Connection, csr_id: int, environment: str) -> str | None:
    """Delete a CSR that never left the application (no certificate refers to it); returns
    its key id, or None when there is no such CSR here or a certificate refers to it."""
    row = c.execute("SELECT key_id FROM csr_requests WHERE csr_id=? AND environment=?",
                    (csr_id, environment)).fetchone()
    if row is None:
        return None
    if c.execute("SELECT 1 FROM certificates WHERE csr_id=?", (csr_id,)).fetchone():
        return None
    c.execute("DELETE FROM csr_requests WHERE csr_id=?", (csr_id,))
    return str(row[0])
