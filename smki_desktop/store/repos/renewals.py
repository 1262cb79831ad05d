"""Renewal links: a certificate and the new key and CSR that replace it."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class Renewal:
    renewal_id: int
    old_serial: str
    old_issuer: str
    old_key_id: str
    new_key_id: str
    csr_id: int
    created: str


def add(db: Database, env: str, old_serial: str, old_issuer: str, old_key_id: str,
        new_key_id: str, csr_id: int, created: str) -> int:
    with db.transaction() as c:
        cur = c.execute("INSERT INTO renewals(environment, old_serial, old_issuer, old_key_id, "
                        "new_key_id, csr_id, created) VALUES(?,?,?,?,?,?,?) RETURNING renewal_id",
                        (env, old_serial, old_issuer, old_key_id, new_key_id, csr_id, created))
        return int(cur.fetchone()[0])


def for_certificate(db: Database, env: str, serial: str) -> list[Renewal]:
    return [Renewal(r["renewal_id"], r["old_serial"], r["old_issuer"], r["old_key_id"],
                    r["new_key_id"], r["csr_id"], r["created"])
            for r in db.conn().execute(
                "SELECT * FROM renewals WHERE environment=? AND old_serial=? "
                "ORDER BY renewal_id", (env, serial))]
