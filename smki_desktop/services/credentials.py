"""Credentials the DCC issues to this installation: the web-service client credential
(RSA-2048, mutual TLS) and an ARO's file-signing credential. Find, list, record and import them;
request new ones (in Test the simulator issues at once, in Live the CSR is written for the DCC)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, NotFound, Refusal

if TYPE_CHECKING:
    from smki_desktop.services.context import AppContext

PURPOSES = ("web-service", "file-signing")


@dataclass(frozen=True)
class Credential:
    key_id: str
    certificate: x509.Certificate
    purpose: str
    environment: Environment
    serial: str
    issuer: str
    subject: str
    not_before: datetime
    not_after: datetime

    def valid_at(self, at: datetime) -> bool:
        return self.not_before <= at <= self.not_after

    def as_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "purpose": self.purpose,
                "environment": self.environment.value, "serial": self.serial,
                "issuer": self.issuer, "subject": self.subject,
                "not_before": self.not_before.isoformat(),
                "not_after": self.not_after.isoformat()}


def check_purpose(purpose: str) -> str:
    p = purpose.strip().lower()
    if p not in PURPOSES:
        raise InputError(f"--purpose: {purpose!r} is not a credential purpose; use "
                         "web-service or file-signing.")
    return p


def _row_to_credential(row: Any) -> Credential:
    cert = x509.load_der_x509_certificate(bytes(row["certificate"]))
    return Credential(
        key_id=row["key_id"], certificate=cert, purpose=row["purpose"],
        environment=Environment(row["environment"]), serial=row["serial"],
        issuer=row["issuer"], subject=row["subject"],
        not_before=datetime.fromisoformat(row["not_before"]),
        not_after=datetime.fromisoformat(row["not_after"]),
    )


def list_credentials(ctx: AppContext, purpose: str | None = None) -> list[Credential]:
    sql = "SELECT * FROM portal_credentials WHERE environment = ?"
    params: list[Any] = [ctx.env.value]
    if purpose:
        sql += " AND purpose = ?"
        params.append(check_purpose(purpose))
    sql += " ORDER BY not_after DESC, id DESC"
    return [_row_to_credential(r) for r in ctx.db.conn().execute(sql, params)]


def find_credential(ctx: AppContext, purpose: str, key_id: str | None = None) -> Credential | None:
    """The newest credential for `purpose` (`web-service` | `file-signing`) of this environment
    that is valid now, optionally for one key (full id or a prefix of 8+ hex digits)."""
    purpose = check_purpose(purpose)
    now = ctx.clock.now()
    for cred in list_credentials(ctx, purpose):
        if key_id and not cred.key_id.startswith(key_id.lower()):
            continue
        if cred.environment is not ctx.env:  # defence in depth: rows carry the environment
            continue
        if cred.valid_at(now):
            return cred
    return None


def require_credential(ctx: AppContext, purpose: str, key_id: str | None = None) -> Credential:
    cred = find_credential(ctx, purpose, key_id)
    if cred is None:
        raise NotFound(
            f"No valid {purpose} credential in the {ctx.env.label} environment. Request one with "
            f"`smki credential request --purpose {purpose}`."
        )
    return cred


def _name(n: x509.Name) -> str:
    return n.rfc4514_string()


def record_credential(ctx: AppContext, cert: x509.Certificate, purpose: str, key_id: str,
                      *, source: str) -> Credential:
    """Store an issued credential certificate (idempotent on issuer + serial) and audit it."""
    purpose = check_purpose(purpose)
    serial = f"{cert.serial_number:X}"
    issuer = _name(cert.issuer)
    der = cert.public_bytes(serialization.Encoding.DER)
    now = ctx.clock.now().astimezone(UTC)
    with ctx.db.transaction() as c:
        existing = c.execute(
            "SELECT * FROM portal_credentials WHERE environment=? AND issuer=? AND serial=?",
            (ctx.env.value, issuer, serial)).fetchone()
        if existing is None:
            c.execute(
                "INSERT INTO portal_credentials(environment, purpose, key_id, certificate, issuer,"
                " serial, subject, not_before, not_after, imported) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (ctx.env.value, purpose, key_id, der, issuer, serial, _name(cert.subject),
                 cert.not_valid_before_utc.isoformat(), cert.not_valid_after_utc.isoformat(),
                 now.isoformat()))
    if existing is not None:
        if existing["key_id"] != key_id or existing["purpose"] != purpose:
            raise Refusal(f"Certificate {issuer} serial {serial} is already recorded as the "
                          f"{existing['purpose']} credential of key {existing['key_id'][:16]}.")
        return _row_to_credential(existing)
    ctx.audit.record("credential.import", {"purpose": purpose, "key_id": key_id,
                                           "serial": serial, "issuer": issuer, "source": source},
                     {"certificate": der})
    cred = find_credential(ctx, purpose, key_id)
    if cred is not None and cred.serial == serial:
        return cred
    row = ctx.db.conn().execute(
        "SELECT * FROM portal_credentials WHERE environment=? AND issuer=? AND serial=?",
        (ctx.env.value, issuer, serial)).fetchone()
    return _row_to_credential(row)
