"""Superseded certificates (`certificates_superseded`): a recorded certificate that did not
verify under this environment's trust anchors, replaced under its issuer + serial by one that
does. The row leaves `certificates` (the one certificate of an issuer + serial this
installation holds) and is kept here whole, naming the certificate that replaced it. Typed rows
out; the rule is services/cert_supersede.py."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from smki_desktop.store.db import Database
from smki_desktop.store.repos.cert_records import CertificateRow, NewCertificate, insert


@dataclass(frozen=True)
class SupersededRow:
    cert_id: int  # the id it had among the certificates
    environment: str
    issuer: str
    serial: str
    key_id: str
    csr_id: int | None
    status: str  # its status when it was superseded
    reasons: list[str]
    der: bytes
    imported: str
    superseded_by: int  # the cert_id of the certificate that replaced it
    superseded_at: str
    reason: str  # why, in words


def _row(r: Any) -> SupersededRow:
    return SupersededRow(int(r["cert_id"]), r["environment"], r["issuer"], r["serial"],
                         r["key_id"], r["csr_id"], r["status"], json.loads(r["reasons"]),
                         bytes(r["der"]), r["imported"], int(r["superseded_by"]),
                         r["superseded_at"], r["reason"])


def replace(tx: sqlite3.Connection, old: CertificateRow, issuer_key: str, new: NewCertificate,
            reason: str, at: str) -> int:
    """In the caller's transaction: move `old` out of `certificates` into the superseded
    certificates, record `new` in its place (same issuer + serial) and return the new id."""
    # The old row frees its issuer + serial first but leaves only after the new one has its
    # id: SQLite (no AUTOINCREMENT) would give the new row the id of a last row just deleted,
    # and a cert_id names one certificate in the audit log.
    tx.execute("UPDATE certificates SET issuer_key=? WHERE cert_id=?",
               (f"superseded/{old.cert_id}", old.cert_id))
    cert_id = insert(tx, new)
    tx.execute("DELETE FROM certificates WHERE cert_id=?", (old.cert_id,))
    tx.execute(
        "INSERT INTO certificates_superseded(cert_id,environment,issuer,issuer_key,serial,"
        "key_id,csr_id,status,reasons,der,imported,superseded_by,superseded_at,reason) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (old.cert_id, old.environment, old.issuer, issuer_key, old.serial, old.key_id,
         old.csr_id, old.status, json.dumps(old.reasons), old.der, old.imported or "",
         cert_id, at, reason))
    return cert_id


def list_superseded(db: Database, env: str) -> list[SupersededRow]:
    return [_row(r) for r in db.conn().execute(
        "SELECT * FROM certificates_superseded WHERE environment=? ORDER BY id", (env,))]
