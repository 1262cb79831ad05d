"""Credentials the DCC issued to this installation: the web-service client credential
(RSA-2048, mutual TLS) and an ARO's file-signing credential. Find, list, record and import them,
verify a signature made with one, and apply the credential CRL. Requesting a new one is
services/credentials.py (above the portal); this module is below the portal, the officers and
identity, which all need to find a credential."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, NotFound, Refusal
from smki_desktop.core.keys import KeyUsage, key_id_for_spki
from smki_desktop.crypto.cms import (
    SignatureInvalid,
    SignerUntrusted,
    VerifiedSignature,
    verify_detached,
)
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_vouch import (
    CRL_ACTION,
    IMPORT_ACTION,
    RECORDS,
    credential_problem,
    require_vouched,
)
from smki_desktop.services.trust import officer_anchors, unvouched_anchors, unvouched_note
from smki_desktop.store.repos import credentials as repo
from smki_desktop.store.repos.credential_status import RevokedCredentialsRepo

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
    der: bytes = field(default=b"", repr=False, compare=False)  # as stored

    def valid_at(self, at: datetime) -> bool:
        return self.not_before <= at <= self.not_after

    def as_dict(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "purpose": self.purpose,
                "environment": self.environment.value, "serial": self.serial,
                "issuer": self.issuer, "subject": self.subject,
                "not_before": self.not_before.isoformat(),
                "not_after": self.not_after.isoformat()}


def register_id_of(cert: x509.Certificate) -> str:
    """The officer register id a file-signing credential's subject names (serialNumber), ''
    when none."""
    attrs = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(attrs[0].value).strip() if attrs else ""


def ca_pool(ctx: AppContext) -> list[x509.Certificate]:
    """CA certificates that may link a credential to an anchor: the anchors added through SMKI
    Desktop (`officer_anchors`) and the CA chain the simulator handed out with a credential
    (Test; any certificate there must itself chain to such an anchor to count)."""
    pool = officer_anchors(ctx)
    chain_file = ctx.paths.feature_dir("portal") / "simulator-ca-chain.pem"
    if ctx.env is Environment.TEST and chain_file.is_file():
        with contextlib.suppress(ValueError, OSError):
            pool += [c for c in x509.load_pem_x509_certificates(chain_file.read_bytes())
                     if c not in pool]
    return pool


def verify_credential_signature(ctx: AppContext, data: bytes, signature: bytes,
                                at: datetime) -> tuple[str, x509.Certificate]:
    """Verify a detached CMS signature over `data` whose signer's credential chains to this
    environment's trust anchors (at `at`); return the register id it names and the
    certificate. SignatureInvalid / SignerUntrusted otherwise."""
    v = verify_officer_signature(ctx, data, signature, at)
    cert = v.signer_certificate
    if cert is None:
        raise Refusal("The signature names no signer certificate.")
    return register_id_of(cert), cert


def verify_officer_signature(ctx: AppContext, data: bytes, signature: bytes,
                             at: datetime) -> VerifiedSignature:
    """Verify a detached CMS signature whose signer's credential must chain (at `at`) to an
    anchor added through SMKI Desktop (`officer_anchors`). A signer that chains only to an
    anchor someone put in the database directly is refused naming that anchor; with no such
    anchor at all the signature is refused too (never accepted unchecked)."""
    anchors = officer_anchors(ctx)
    pool = ca_pool(ctx)
    try:
        if not anchors:
            raise SignerUntrusted(f"the {ctx.env.label} environment has no trust anchor added "
                                  "through SMKI Desktop.")
        return verify_detached(data, signature, trust_anchors=anchors, at=at, extra_certs=pool)
    except SignerUntrusted:
        for foreign in unvouched_anchors(ctx):
            try:
                verify_detached(data, signature, trust_anchors=[foreign], at=at,
                                extra_certs=[*pool, foreign])
            except SignatureInvalid:
                continue
            raise SignerUntrusted("The signature " + unvouched_note(foreign)) from None
        raise


def _issuer_key(name: x509.Name) -> str:
    return name.rfc4514_string()


def apply_credential_crl(ctx: AppContext, der: bytes) -> list[str]:
    """Record the credentials an IKI CRL lists as revoked, after verifying the CRL against a
    trust anchor of this environment; returns the serials newly recorded."""
    crl = x509.load_der_x509_crl(der)
    issuer = next((a for a in ca_pool(ctx) if a.subject == crl.issuer), None)
    try:
        ok = issuer is not None and crl.is_signature_valid(
            issuer.public_key())  # type: ignore[arg-type]
    except TypeError:
        ok = False
    if not ok:
        raise Refusal(f"The credential CRL from {crl.issuer.rfc4514_string()} does not verify "
                      f"against a {ctx.env.label} trust anchor; nothing was recorded.")
    entries = [(f"{r.serial_number:X}", r.revocation_date_utc.isoformat()) for r in crl]
    with ctx.audit.change():  # the revocations and their record: one transaction
        new = RevokedCredentialsRepo(ctx.db, ctx.env.value).add(
            _issuer_key(crl.issuer), entries, hashlib.sha256(der).hexdigest())
        if new:
            ctx.audit.record(CRL_ACTION, {"issuer": crl.issuer.rfc4514_string(),
                                                "revoked": [s for s, _ in entries]},
                             {"crl": der})
    return [s for s, _ in entries] if new else []


def _revoked_by_record(ctx: AppContext, cert: x509.Certificate) -> str | None:
    """The proven `credential.crl` record that lists `cert` as revoked, in words: the table
    beside it can lose a row to anyone who can write the store (and so bring a revoked
    credential back); the record cannot, without the keyring's key."""
    issuer, serial = _issuer_key(cert.issuer), f"{cert.serial_number:X}"
    for e in reversed(ctx.audit.vouched(RECORDS)):
        if e.action == CRL_ACTION and e.environment == ctx.env.value and \
                e.details.get("issuer") == issuer and \
                serial in [str(s) for s in e.details.get("revoked") or ()]:
            return f"the CRL of audit record {e.seq}"
    return None


def check_not_revoked(ctx: AppContext, cert: x509.Certificate) -> None:
    """Refuse a credential its issuer's CRL (as last fetched) lists as revoked: in the table
    of revocations, or in a proven record of a CRL applied (a row deleted from the table does
    not bring it back)."""
    at = RevokedCredentialsRepo(ctx.db, ctx.env.value).revoked_at(
        _issuer_key(cert.issuer), f"{cert.serial_number:X}")
    when = f"at {at}" if at else None
    if when is None:
        record = _revoked_by_record(ctx, cert)
        when = f"(as {record} lists)" if record else None
    if when:
        raise Refusal(f"Rule: an officer acts only through a credential that is not revoked; "
                      f"credential {cert.serial_number:X} ({cert.subject.rfc4514_string()}) "
                      f"was revoked by {cert.issuer.rfc4514_string()} {when}.")


def check_purpose(purpose: str) -> str:
    p = purpose.strip().lower()
    if p not in PURPOSES:
        raise InputError(f"Purpose: {purpose!r} is not a credential purpose; use "
                         "web-service or file-signing.", hint="field.purpose")
    return p


def _row_to_credential(row: repo.CredentialRow) -> Credential:
    """The credential of a row, its validity read from its certificate: the row's `not_before`
    / `not_after` columns are not used (anyone who can write the store could move them, and
    extend an expired credential or silence its expiry warning; the certificate is the
    issuer's signed word)."""
    cert = x509.load_der_x509_certificate(row.certificate)
    return Credential(
        key_id=row.key_id, certificate=cert, purpose=row.purpose,
        environment=Environment(row.environment), serial=row.serial,
        issuer=row.issuer, subject=row.subject,
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        der=row.certificate,
    )


def list_credentials(ctx: AppContext, purpose: str | None = None) -> list[Credential]:
    """Newest (latest notAfter, by the certificates) first."""
    found = [_row_to_credential(r) for r in repo.list_credentials(
        ctx.db, ctx.env.value, check_purpose(purpose) if purpose else None)]
    return sorted(found, key=lambda c: c.not_after, reverse=True)  # stable: newest id first


def find_credential(ctx: AppContext, purpose: str, key_id: str | None = None, *,
                    register_id: str | None = None) -> Credential | None:
    """The newest credential for `purpose` (`web-service` | `file-signing`) of this environment
    that is valid now, optionally for one key (full id or a prefix of 8+ hex digits) and only
    one naming officer register entry `register_id` (a file-signing credential's subject).
    The one found must be the certificate its proven `credential.import` record holds
    (services/credential_vouch.py): else it is refused, naming it, never passed over for an
    older one."""
    purpose = check_purpose(purpose)
    now = ctx.clock.now()
    for cred in list_credentials(ctx, purpose):
        if key_id and not cred.key_id.startswith(key_id.lower()):
            continue
        if register_id is not None and register_id_of(cred.certificate) != register_id:
            continue
        if cred.environment is not ctx.env:  # defence in depth: rows carry the environment
            continue
        if cred.valid_at(now):
            return require_vouched(ctx, cred)
    return None


def require_credential(ctx: AppContext, purpose: str, key_id: str | None = None) -> Credential:
    cred = find_credential(ctx, purpose, key_id)
    if cred is None:
        raise NotFound(
            f"No valid {purpose} credential in the {ctx.env.label} environment. Request a "
            f"{purpose} credential first.", hint=f"credential.request.{purpose}")
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
    with ctx.audit.change():  # the credential's row and its record: one transaction
        existing = repo.add(ctx.db, repo.CredentialRow(
            ctx.env.value, purpose, key_id, der, issuer, serial, _name(cert.subject),
            cert.not_valid_before_utc.isoformat(), cert.not_valid_after_utc.isoformat()),
            now.isoformat())
        if existing is None or _unrecorded_same(ctx, existing, der, key_id, purpose):
            ctx.audit.record(IMPORT_ACTION, {"purpose": purpose, "key_id": key_id,
                                                   "serial": serial, "issuer": issuer,
                                                   "source": source}, {"certificate": der})
    if existing is not None:
        if existing.key_id != key_id or existing.purpose != purpose:
            raise Refusal(f"Certificate {issuer} serial {serial} is already recorded as the "
                          f"{existing.purpose} credential of key {existing.key_id[:16]}.")
        # the row already recorded must still be the certificate its import recorded
        return require_vouched(ctx, _row_to_credential(existing))
    cred = find_credential(ctx, purpose, key_id)
    if cred is not None and cred.serial == serial:
        return cred
    row = repo.get(ctx.db, ctx.env.value, issuer, serial)
    assert row is not None
    return _row_to_credential(row)


def _unrecorded_same(ctx: AppContext, row: repo.CredentialRow, der: bytes, key_id: str,
                     purpose: str) -> bool:
    """A stored row of exactly these bytes, key and purpose that no proven import record
    vouches for: someone put it in the store before the officer imported it (a certificate is
    not secret). The officer's import of the same bytes records it now; otherwise the genuine
    credential could never be used."""
    if row.certificate != der or row.key_id != key_id or row.purpose != purpose:
        return False
    return credential_problem(ctx, _row_to_credential(row)) is not None


def import_credential(ctx: AppContext, data: bytes, purpose: str | None = None) -> Credential:
    """Import a credential certificate the DCC issued for one of our keys."""
    try:
        cert = (x509.load_pem_x509_certificate(data) if data.lstrip().startswith(b"-----")
                else x509.load_der_x509_certificate(data))
    except ValueError as exc:
        raise InputError(f"Credential file: not an X.509 certificate ({exc}).") from None
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = key_id_for_spki(spki)
    # A credential for a key only the other environment holds, or carrying the other
    # environment's marks, is refused naming both environments.
    crossing.refuse_key_of_other_environment(ctx, key_id, "This credential")
    crossing.refuse_foreign_certificate(ctx, cert, "This credential")
    try:
        info = ctx.keystore.get(key_id)
    except NotFound:
        raise Refusal("This certificate is for a key that is not in this environment's key "
                      f"store (key id {key_id[:16]}).") from None
    by_usage = {KeyUsage.CLIENT_AUTH: "web-service", KeyUsage.FILE_SIGNING: "file-signing"}
    found = by_usage.get(info.usage)
    if found is None:
        raise Refusal(f"Key {info.short_id} has usage {info.usage.value}: not a credential key.")
    if purpose and check_purpose(purpose) != found:
        raise InputError(f"Purpose {purpose}: key {info.short_id} is a {found} key.",
                         hint="field.purpose")
    if ctx.env is Environment.LIVE:
        try:
            pol = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
            if any(p.policy_identifier.dotted_string == crossing.SIMULATOR_MARKER_POLICY
                   for p in pol):
                raise Refusal("This certificate was issued by an SMKI Desktop simulator (Test); "
                              "the Live environment refuses it.")
        except x509.ExtensionNotFound:
            pass
    return record_credential(ctx, cert, found, key_id, source="file")
