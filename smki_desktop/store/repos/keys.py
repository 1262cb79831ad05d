"""The `keys` table, written by both key stores (OS keyring, PKCS#11) and read by every service
that resolves a key: `KeyInfo` in and out. Also what depends on a key (certificates,
credentials, CSRs) and its flags, for the key life-cycle service; and, read-only in ANOTHER
environment's database, whether a key id (or a prefix) is held there, so that a key of the
other environment offered here is named as such."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage
from smki_desktop.store import team_link
from smki_desktop.store.db import Database


def key_info_from_row(row: Any) -> KeyInfo:
    """A `keys` row (by column name) as the `KeyInfo` the key stores and services use."""
    return KeyInfo(
        key_id=row["key_id"], label=row["label"], key_type=KeyType(row["key_type"]),
        usage=KeyUsage(row["usage"]), environment=Environment(row["environment"]),
        created=datetime.fromisoformat(row["created"]), location=KeyLocation(row["location"]),
        public_key_der=bytes(row["public_key"]), location_ref=row["location_ref"],
        flags=tuple(f for f in row["flags"].split(",") if f),
    )


def add(db: Database, info: KeyInfo) -> None:
    """Record a key just stored; a key already recorded is refused (the id is the SHA-256 of
    its public key, so the same key twice)."""
    try:
        with db.transaction() as c:
            c.execute(
                "INSERT INTO keys(key_id,label,key_type,usage,environment,created,location,"
                "location_ref,public_key,flags) VALUES(?,?,?,?,?,?,?,?,?,?)",
                (info.key_id, info.label, info.key_type.value, info.usage.value,
                 info.environment.value, info.created.isoformat(), info.location.value,
                 info.location_ref, info.public_key_der, ",".join(info.flags)))
    except sqlite3.IntegrityError:
        raise InputError(f"This key is already in the store as {info.key_id[:16]}.") from None


def exists(db: Database, key_id: str, location_ref: str | None = None) -> bool:
    """Whether a key with this id is recorded (with this location reference, when given)."""
    sql, params = "SELECT 1 AS one FROM keys WHERE key_id=?", [key_id]
    if location_ref is not None:
        sql += " AND location_ref=?"
        params.append(location_ref)
    return db.conn().execute(sql, params).fetchone() is not None


def find_prefix(db: Database, prefix: str, location: KeyLocation | None = None
                ) -> list[KeyInfo]:
    """Keys whose id starts with `prefix` (lower-case hex), in any environment of this
    database (the caller refuses a foreign one, naming both)."""
    sql = "SELECT * FROM keys WHERE substr(key_id, 1, ?) = ?"
    params: list[Any] = [len(prefix), prefix]
    if location is not None:
        sql += " AND location = ?"
        params.append(location.value)
    return [key_info_from_row(r) for r in db.conn().execute(sql, params).fetchall()]


def for_environment(db: Database, env: str, location: KeyLocation | None = None
                    ) -> list[KeyInfo]:
    """This environment's keys (of one store, when given), oldest first."""
    sql, params = "SELECT * FROM keys WHERE environment=?", [env]
    if location is not None:
        sql += " AND location=?"
        params.append(location.value)
    sql += " ORDER BY created"
    return [key_info_from_row(r) for r in db.conn().execute(sql, params).fetchall()]


def unused_for_csr(db: Database, env: str, key_type: KeyType,
                   usages: Iterable[KeyUsage]) -> list[KeyInfo]:
    """Keys of this type and these usages with neither a CSR nor a certificate."""
    us = [u.value for u in usages]
    rows = db.conn().execute(
        "SELECT * FROM keys WHERE environment=? AND key_type=? "
        f"AND usage IN ({','.join('?' * len(us))}) "
        "AND key_id NOT IN (SELECT key_id FROM csr_requests) "
        "AND key_id NOT IN (SELECT key_id FROM certificates) "
        "ORDER BY created", (env, key_type.value, *us)).fetchall()
    return [key_info_from_row(r) for r in rows]


def label_of(db: Database, env: str, key_id: str) -> str | None:
    """The key's label when this environment holds it, else None."""
    row = db.conn().execute("SELECT label FROM keys WHERE environment=? AND key_id=?",
                            (env, key_id)).fetchone()
    return str(row["label"]) if row is not None else None


def touch(db: Database, key_id: str, at: str) -> None:
    """Note when the key last signed."""
    db.conn().execute("UPDATE keys SET last_used=? WHERE key_id=?", (at, key_id))


def delete(db: Database, key_id: str) -> None:
    with db.transaction() as c:
        c.execute("DELETE FROM keys WHERE key_id=?", (key_id,))


def add_flag(c: sqlite3.Connection, key_id: str, flag: str) -> bool:
    """Inside the caller's transaction: add `flag` to the key's flags (once). False when no
    such key is recorded."""
    row = c.execute("SELECT flags FROM keys WHERE key_id=?", (key_id,)).fetchone()
    if row is None:
        return False
    flags = [f for f in str(row["flags"]).split(",") if f]
    if flag not in flags:
        flags.append(flag)
        c.execute("UPDATE keys SET flags=? WHERE key_id=?", (",".join(flags), key_id))
    return True


def remove_flag(c: sqlite3.Connection, key_id: str, flag: str) -> None:
    """Inside the caller's transaction: take `flag` off the key's flags."""
    row = c.execute("SELECT flags FROM keys WHERE key_id=?", (key_id,)).fetchone()
    if row is not None:
        flags = [f for f in str(row["flags"]).split(",") if f and f != flag]
        c.execute("UPDATE keys SET flags=? WHERE key_id=?", (",".join(flags), key_id))


@dataclass(frozen=True)
class DependentCert:
    """A certificate (or a portal credential) issued for the key."""

    kind: str  # "certificate" | "credential"
    serial: str
    subject: str
    status: str  # the acceptance status; "credential" for a credential
    not_after: str  # ISO date-time, "" when unknown (as stored: see `der`)
    der: bytes = b""  # the certificate itself, whose notAfter is the one to believe


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
                         or "", r["status"], r["not_after"] or "", bytes(r["der"]))
           for r in c.execute("SELECT serial, cn, eui, device_eui, status, not_after, der FROM "
                              "certificates WHERE environment=? AND key_id=? ORDER BY cert_id",
                              (env, key_id))]
    out += [DependentCert("credential", r["serial"], r["subject"], f"{r['purpose']} credential",
                          r["not_after"], bytes(r["certificate"]))
            for r in c.execute("SELECT serial, subject, purpose, not_after, certificate FROM "
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


def csr_or_certificate(db: Database, key_id: str) -> str | None:
    """'csr' when the key has a CSR, else 'certificate' when it has a certificate, else None."""
    c = db.conn()
    if c.execute("SELECT 1 AS one FROM csr_requests WHERE key_id=?", (key_id,)).fetchone():
        return "csr"
    if c.execute("SELECT 1 AS one FROM certificates WHERE key_id=?", (key_id,)).fetchone():
        return "certificate"
    return None
