"""Credential rows (`portal_credentials`): the certificates the DCC issued to this installation
(web-service client credential, file-signing credentials), one per issuer + serial."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class CredentialRow:
    environment: str
    purpose: str
    key_id: str
    certificate: bytes  # DER
    issuer: str
    serial: str
    subject: str
    not_before: str
    not_after: str


def _row(r: Any) -> CredentialRow:
    return CredentialRow(r["environment"], r["purpose"], r["key_id"], bytes(r["certificate"]),
                         r["issuer"], r["serial"], r["subject"], r["not_before"],
                         r["not_after"])


def list_credentials(db: Database, env: str, purpose: str | None = None
                     ) -> list[CredentialRow]:
    """Newest row first (the service orders them by the certificates' own notAfter)."""
    sql = "SELECT * FROM portal_credentials WHERE environment = ?"
    params: list[Any] = [env]
    if purpose:
        sql += " AND purpose = ?"
        params.append(purpose)
    sql += " ORDER BY id DESC"
    return [_row(r) for r in db.conn().execute(sql, params)]


def get(db: Database, env: str, issuer: str, serial: str) -> CredentialRow | None:
    r = db.conn().execute(
        "SELECT * FROM portal_credentials WHERE environment=? AND issuer=? AND serial=?",
        (env, issuer, serial)).fetchone()
    return _row(r) if r is not None else None


def add(db: Database, row: CredentialRow, imported: str) -> CredentialRow | None:
    """Record a credential; returns the row already recorded for its issuer + serial (nothing
    written then), or None when it was added."""
    with db.transaction() as c:
        existing = c.execute(
            "SELECT * FROM portal_credentials WHERE environment=? AND issuer=? AND serial=?",
            (row.environment, row.issuer, row.serial)).fetchone()
        if existing is not None:
            return _row(existing)
        c.execute(
            "INSERT INTO portal_credentials(environment, purpose, key_id, certificate, issuer,"
            " serial, subject, not_before, not_after, imported) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (row.environment, row.purpose, row.key_id, row.certificate, row.issuer, row.serial,
             row.subject, row.not_before, row.not_after, imported))
    return None
