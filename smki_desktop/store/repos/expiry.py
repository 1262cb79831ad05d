"""Validity of this environment's certificates and portal credentials, for the expiry watch
(typed rows). A certificate's row carries its DER: the expiry watch reads notAfter from the
certificate itself, not from the `not_after` column (which anyone who can write the database
could move)."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class Validity:
    kind: str  # "certificate" | "credential"
    serial: str
    subject: str  # role/EUI/CN or the credential's subject, in words
    usage: str
    key_id: str
    status: str  # as stored (the expiry watch does not trust it for a certificate)
    not_after: str | None  # ISO date-time, as stored
    cert_id: int | None = None  # certificates only
    der: bytes | None = None  # the stored certificate (of the certificate or the credential)


def validity_rows(db: Database, env: str) -> list[Validity]:
    c = db.conn()
    out = [Validity("certificate", r["serial"],
                    " ".join(x for x in (r["role"] and f"role {r['role']}", r["eui"] or
                                         r["device_eui"], r["cn"]) if x) or r["serial"],
                    r["usage"] or "", r["key_id"], r["status"], r["not_after"],
                    int(r["cert_id"]), bytes(r["der"]) if r["der"] is not None else b"")
           for r in c.execute("SELECT cert_id, serial, role, eui, device_eui, cn, usage, key_id, "
                              "status, not_after, der FROM certificates WHERE environment=? "
                              "ORDER BY cert_id", (env,))]
    out += [Validity("credential", r["serial"], r["subject"], f"{r['purpose']} credential",
                     r["key_id"], "credential", r["not_after"], None, bytes(r["certificate"]))
            for r in c.execute("SELECT serial, subject, purpose, key_id, not_after, certificate "
                               "FROM portal_credentials WHERE environment=?", (env,))]
    return out
