"""The certificate import's rows: imported certificates (`certificates`, identified by issuer
key + serial), the Organisation CSR or the key a certificate's public key belongs to, and the
CSR's status once its certificate is checked. Typed rows out; the rules stay in
services/certificates.py."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class CertificateRow:
    cert_id: int
    environment: str
    serial: str
    issuer: str
    family: str
    role: str | None
    eui: str | None
    cn: str | None
    device_eui: str | None
    usage: str | None
    key_id: str
    csr_id: int | None
    status: str
    reasons: list[str]
    warnings: list[str]
    not_before: str | None
    not_after: str | None
    der: bytes
    imported: str | None = None  # when it was first imported (ISO 8601)


@dataclass(frozen=True)
class NewCertificate:
    """What an import writes (reasons and warnings as lists; stored as JSON text)."""

    environment: str
    issuer: str
    issuer_key: str
    serial: str
    family: str
    role: str | None
    eui: str | None
    cn: str | None
    device_eui: str | None
    usage: str | None
    key_id: str
    csr_id: int | None
    status: str
    reasons: list[str]
    warnings: list[str]
    not_before: str | None
    not_after: str | None
    checked_at: str
    der: bytes
    imported: str


@dataclass(frozen=True)
class CsrForKey:
    csr_id: int
    environment: str
    der: bytes


@dataclass(frozen=True)
class KeyForCert:
    key_id: str
    usage: str


def _row(r: Any) -> CertificateRow:
    return CertificateRow(int(r["cert_id"]), r["environment"], r["serial"], r["issuer"],
                          r["family"], r["role"], r["eui"], r["cn"], r["device_eui"], r["usage"],
                          r["key_id"], r["csr_id"], r["status"], json.loads(r["reasons"]),
                          json.loads(r["warnings"]), r["not_before"], r["not_after"],
                          bytes(r["der"]), r["imported"])


def find_by_issuer_serial(db: Database, issuer_key: str, serial: str) -> CertificateRow | None:
    r = db.conn().execute("SELECT * FROM certificates WHERE issuer_key=? AND serial=?",
                          (issuer_key, serial)).fetchone()
    return _row(r) if r is not None else None


def list_certificates(db: Database, env: str) -> list[CertificateRow]:
    return [_row(r) for r in db.conn().execute(
        "SELECT * FROM certificates WHERE environment=? ORDER BY cert_id", (env,))]


def csr_for_key(db: Database, key_id: str) -> CsrForKey | None:
    """The Organisation CSR made for this key (any environment: the caller checks)."""
    r = db.conn().execute("SELECT csr_id, environment, der FROM csr_requests WHERE key_id=?",
                          (key_id,)).fetchone()
    return CsrForKey(int(r["csr_id"]), r["environment"], bytes(r["der"])) if r else None


def key_for_cert(db: Database, key_id: str) -> KeyForCert | None:
    r = db.conn().execute("SELECT key_id, usage FROM keys WHERE key_id=?", (key_id,)).fetchone()
    return KeyForCert(r["key_id"], r["usage"]) if r else None


def insert(tx: sqlite3.Connection, c: NewCertificate) -> int:
    """Write a newly imported certificate in the caller's transaction; returns its id."""
    row = tx.execute(
        "INSERT INTO certificates(environment,issuer,issuer_key,serial,family,role,eui,cn,"
        "device_eui,usage,key_id,csr_id,status,reasons,warnings,not_before,not_after,"
        "checked_at,der,imported) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
        "RETURNING cert_id",
        (c.environment, c.issuer, c.issuer_key, c.serial, c.family, c.role, c.eui, c.cn,
         c.device_eui, c.usage, c.key_id, c.csr_id, c.status, json.dumps(c.reasons),
         json.dumps(c.warnings), c.not_before, c.not_after, c.checked_at, c.der,
         c.imported)).fetchone()
    return int(row[0])


def update_check(tx: sqlite3.Connection, cert_id: int, status: str, reasons: list[str],
                 warnings: list[str], checked_at: str) -> None:
    """Record the result of checking an imported certificate again."""
    tx.execute("UPDATE certificates SET status=?, reasons=?, warnings=?, checked_at=? "
               "WHERE cert_id=?", (status, json.dumps(reasons), json.dumps(warnings),
                                   checked_at, cert_id))


def set_csr_status(tx: sqlite3.Connection, csr_id: int, status: str) -> None:
    tx.execute("UPDATE csr_requests SET status=? WHERE csr_id=?", (status, csr_id))


@dataclass(frozen=True)
class CertificateForKey:
    der: bytes
    status: str


def latest_for_key(db: Database, env: str, key_id: str) -> CertificateForKey | None:
    """The certificate imported last for a key in this environment."""
    r = db.conn().execute("SELECT der, status FROM certificates WHERE key_id=? AND "
                          "environment=? ORDER BY cert_id DESC LIMIT 1",
                          (key_id, env)).fetchone()
    return CertificateForKey(bytes(r["der"]), r["status"]) if r else None
