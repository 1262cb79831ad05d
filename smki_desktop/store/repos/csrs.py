"""The Organisation CSRs made in this environment (issue 3's `csr_requests`), typed."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from smki_desktop.core.errors import Refusal
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


def discard(db: Database, csr_id: int, environment: str) -> str | None:
    """Delete a CSR that never left the application (no certificate refers to it); returns
    its key id, or None when there is no such CSR here or a certificate refers to it."""
    with db.transaction() as c:
        return _discard(c, csr_id, environment)


def _discard(c: sqlite3.Connection, csr_id: int, environment: str) -> str | None:
    row = c.execute("SELECT key_id FROM csr_requests WHERE csr_id=? AND environment=?",
                    (csr_id, environment)).fetchone()
    if row is None:
        return None
    if c.execute("SELECT 1 AS one FROM certificates WHERE csr_id=?", (csr_id,)).fetchone():
        return None
    c.execute("DELETE FROM csr_requests WHERE csr_id=?", (csr_id,))
    return str(row["key_id"])


@dataclass(frozen=True)
class CsrSummary:
    """A CSR of any family with the status of its newest certificate (None: none yet)."""

    csr_id: int
    key_id: str
    role: str | None
    eui: str | None
    cn: str | None
    usage: str
    created: str
    cert_status: str | None


def add_org_csr(db: Database, env: str, key_id: str, role: str, eui: str, cn: str | None,
                usage: str, der: bytes, created: str) -> int:
    """Record an Organisation CSR; returns its id. A key that already has a CSR is refused
    (one key per CSR: `csr_requests.key_id` is unique)."""
    try:
        with db.transaction() as c:
            row = c.execute(
                "INSERT INTO csr_requests(environment,key_id,family,role,eui,cn,usage,der,"
                "created) VALUES(?,?,?,?,?,?,?,?,?) RETURNING csr_id",
                (env, key_id, "organisation", role, eui, cn, usage, der, created)).fetchone()
    except sqlite3.IntegrityError:
        raise Refusal(f"Key {key_id[:16]} cannot be used: it already has a CSR (one key per "
                      "CSR). Generate a new key for a new CSR.") from None
    return int(row["csr_id"])


def summaries(db: Database, env: str) -> list[CsrSummary]:
    """Every CSR of this environment, oldest first, with its newest certificate's status."""
    rows = db.conn().execute(
        "SELECT r.csr_id, r.key_id, r.role, r.eui, r.cn, r.usage, r.created, "
        "(SELECT status FROM certificates c WHERE c.csr_id = r.csr_id "
        "ORDER BY cert_id DESC LIMIT 1) AS cert_status FROM csr_requests r "
        "WHERE r.environment=? ORDER BY r.csr_id", (env,)).fetchall()
    return [CsrSummary(r["csr_id"], r["key_id"], r["role"], r["eui"], r["cn"], r["usage"],
                       r["created"], r["cert_status"]) for r in rows]


def der_and_environment(db: Database, csr_id: int) -> tuple[bytes, str] | None:
    """A CSR's DER and the environment it belongs to, or None when there is no such CSR."""
    row = db.conn().execute("SELECT der, environment FROM csr_requests WHERE csr_id=?",
                            (csr_id,)).fetchone()
    return (bytes(row["der"]), str(row["environment"])) if row is not None else None
