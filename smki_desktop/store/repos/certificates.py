"""Certificate rows: the certificates held for a key, as DER (what a key backup carries and a
restore checks against), and the revocation workflow's view (which of this environment's
certificates are not yet marked revoked, and marking them). The certificates service keeps its
own SQL for now; issue 10 moves it here."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from smki_desktop.core.environment import Environment
from smki_desktop.store.db import Database

REVOKED = "revoked"


def ders_for_key(db: Database, env: Environment, key_id: str) -> list[bytes]:
    out: list[bytes] = []
    for sql in ("SELECT der FROM certificates WHERE environment=? AND key_id=?",
                "SELECT certificate AS der FROM portal_credentials WHERE environment=? AND "
                "key_id=?"):
        try:
            out.extend(bytes(r["der"]) for r in db.conn().execute(sql, (env.value, key_id)))
        except sqlite3.OperationalError:  # that component is not installed
            continue
    return out



@dataclass(frozen=True)
class CertRow:
    cert_id: int
    serial: str
    status: str
    der: bytes


class CertificateStatusRepo:
    def __init__(self, db: Database, environment: str) -> None:
        self.db = db
        self.env = environment

    def not_revoked(self) -> list[CertRow]:
        rows = self.db.conn().execute(
            "SELECT cert_id, serial, status, der FROM certificates WHERE environment=? AND "
            "status!=?", (self.env, REVOKED)).fetchall()
        return [CertRow(r["cert_id"], r["serial"], r["status"], bytes(r["der"])) for r in rows]

    def mark_revoked(self, cert_ids: list[int]) -> None:
        if not cert_ids:
            return
        with self.db.transaction() as c:
            c.executemany("UPDATE certificates SET status=? WHERE cert_id=? AND environment=?",
                          [(REVOKED, i, self.env) for i in cert_ids])
