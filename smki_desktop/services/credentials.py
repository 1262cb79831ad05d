"""Credentials the DCC issues to this installation: the web-service client credential
(RSA-2048, mutual TLS) and an ARO's file-signing credential. Find, list, record and import them;
request new ones (in Test the simulator issues at once, in Live the CSR is written for the DCC)."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, NotFound, Refusal
from smki_desktop.core.portal_ports import Rejected
from smki_desktop.crypto.cms import verify_detached
from smki_desktop.crypto.credential_csr import credential_subject
from smki_desktop.services import crossing
from smki_desktop.services.certificates import trust_anchors
from smki_desktop.store.repos.credential_status import RevokedCredentialsRepo

if TYPE_CHECKING:
    from smki_desktop.core.audit import AuditEntry
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


def register_id_of(cert: x509.Certificate) -> str:
    """The officer register id a file-signing credential's subject names (serialNumber), ''
    when none."""
    attrs = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(attrs[0].value).strip() if attrs else ""


def ca_pool(ctx: AppContext) -> list[x509.Certificate]:
    """CA certificates that may link a credential to an anchor: the anchors and the CA chain the
    simulator handed out with a credential (Test)."""
    pool = trust_anchors(ctx)
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
    v = verify_detached(data, signature, trust_anchors=trust_anchors(ctx), at=at,
                        extra_certs=ca_pool(ctx))
    cert = v.signer_certificate
    if cert is None:
        raise Refusal("The signature names no signer certificate.")
    return register_id_of(cert), cert


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
    new = RevokedCredentialsRepo(ctx.db, ctx.env.value).add(
        _issuer_key(crl.issuer), entries, hashlib.sha256(der).hexdigest())
    if new:
        ctx.audit.record("credential.crl", {"issuer": crl.issuer.rfc4514_string(),
                                            "revoked": [s for s, _ in entries]}, {"crl": der})
        return [s for s, _ in entries]
    return []


def check_not_revoked(ctx: AppContext, cert: x509.Certificate) -> None:
    """Refuse a credential its issuer's CRL (as last fetched) lists as revoked."""
    at = RevokedCredentialsRepo(ctx.db, ctx.env.value).revoked_at(
        _issuer_key(cert.issuer), f"{cert.serial_number:X}")
    if at:
        raise Refusal(f"Rule: an officer acts only through a credential that is not revoked; "
                      f"credential {cert.serial_number:X} ({cert.subject.rfc4514_string()}) "
                      f"was revoked by {cert.issuer.rfc4514_string()} at {at}.")


def check_purpose(purpose: str) -> str:
    p = purpose.strip().lower()
    if p not in PURPOSES:
        raise InputError(f"Purpose: {purpose!r} is not a credential purpose; use "
                         "web-service or file-signing.", hint="field.purpose")
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


# ------------------------------------------------------------------------------ requests
_ROLE_FOR_PARTY = {"import-supplier": "02", "export-supplier": "02", "gas-supplier": "02",
                   "electricity-distributor": "03", "gas-transporter": "03"}


@dataclass(frozen=True)
class CredentialRequestResult:
    purpose: str
    key_id: str
    csr_der: bytes
    credential: Credential | None  # issued at once (Test simulator)
    csr_path: Path | None  # written for the DCC (Live, or a configured Test endpoint)
    audit: AuditEntry

    def as_dict(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "key_id": self.key_id,
                "credential": self.credential.as_dict() if self.credential else None,
                "csr_path": str(self.csr_path) if self.csr_path else None,
                "audit_seq": getattr(self.audit, "seq", None)}


def request_credential(ctx: AppContext, purpose: str, key_ref: str | None = None, *,
                       organisation: str | None = None, role: str | None = None,
                       system_name: str | None = None, common_name: str | None = None,
                       out_dir: Path | None = None, officer: str | None = None
                       ) -> CredentialRequestResult:
    """Make the key (unless given) and the credential CSR; in Test with the simulator the
    certificate is issued at once, otherwise the CSR is written for the DCC. A file-signing
    credential for `officer` (register id) names them in its subject (serialNumber); the key
    may be on a PKCS#11 token."""
    from smki_desktop.core.keys import KeyType, KeyUsage
    from smki_desktop.crypto.credential_csr import build_credential_csr

    purpose = check_purpose(purpose)
    register_id = ""
    # Live makes no key or credential request without a Party profile (checked first, so
    # nothing is made); a given key must not be the other environment's.
    party = crossing.require_party(ctx, f"Credential request ({purpose})")
    if key_ref:
        crossing.refuse_key_of_other_environment(ctx, key_ref, f"Key {key_ref}")
    org = (organisation or (party.name if party else "")).strip()
    if not org:
        raise InputError("Organisation: give the trading name (or set the Party profile).",
                         hint="field.organisation")
    if purpose == "web-service":
        usage, ktype = KeyUsage.CLIENT_AUTH, KeyType.RSA_2048
        role_ou = (role or (_ROLE_FOR_PARTY.get(party.party_type.value, "7F") if party
                            else "")).strip()
        if not role_ou:
            raise InputError("Role: give the role code (OU), e.g. 02.", hint="field.role")
        from smki_desktop.core.roles import RemotePartyRole

        parsed = RemotePartyRole.parse(role_ou)
        role_ou = parsed.ou
        if party is not None and parsed not in crossing.roles_offered(ctx):
            may = ", ".join(r.ou for r in crossing.roles_offered(ctx)) or "none"
            raise Refusal(f"Role {role_ou}: {parsed.name_text} is not one a "
                          f"{party.party_type.label} may hold (it may hold: {may}); the "
                          "credential's role must be the Party's own.")
        cn = (system_name or f"smki-desktop-{ctx.installation_id[:8]}").strip()
    else:
        usage, ktype = KeyUsage.FILE_SIGNING, KeyType.EC_P256
        role_ou = ""
        if officer:
            from smki_desktop.services.officers import get_officer

            named = get_officer(ctx, officer)
            register_id = named.officer_id
            cn = (common_name or named.name).strip()
        else:
            prof = ctx.officer()
            cn = (common_name or (prof.name if prof else "")).strip()
        if not cn:
            raise InputError("Name: give the ARO's name (or set the officer profile).",
                             hint="field.name")
    # Everything that can fail is checked before a key is made (nothing half-done is left).
    credential_subject(purpose, organisation=org, role_ou=role_ou, common_name=cn)
    from smki_desktop.services import portal as portal_service

    rec = portal_service.configured_endpoint(ctx)
    use_sim = ctx.env is Environment.TEST and (rec is None or rec.source == "simulator")
    if use_sim and purpose == "file-signing" and not register_id:
        raise Refusal("Rule: the DCC issues a file-signing credential only to an officer it has "
                      "verified, naming their register id; in Test the simulator does the same. "
                      "Name the officer (a verified register entry).", hint="field.officer")
    folder = out_dir or ctx.paths.exports_dir
    if not use_sim:
        _writable_folder(folder)
    if key_ref:
        from smki_desktop.services.keys import get_key

        info = get_key(ctx, key_ref)
        if info.usage is not usage:
            raise InputError(f"Key: key {info.short_id} has usage {info.usage.value}; a "
                             f"{purpose} credential needs a {usage.value} key.",
                             hint="field.key")
    else:
        info = ctx.keystore.generate(ktype, usage, f"{purpose} credential {cn}")
    from smki_desktop.services.csr import signer_for

    with signer_for(ctx, info) as signer:
        csr = build_credential_csr(signer, purpose, organisation=org, role_ou=role_ou,
                                   common_name=cn,
                                   register_id=register_id if purpose == "file-signing" else "")
    if use_sim:
        from smki_desktop.core import ws_forms as WF
        from smki_desktop.portal.outbox import new_ref
        from smki_desktop.portal.ws_client import enrol
        from smki_desktop.services import simulator_control

        sim = simulator_control.start(ctx)
        if purpose == "file-signing":  # the DCC's own record of the verified officers
            from smki_desktop.services.officers import feed_simulator

            feed_simulator(ctx, sim)
        ep = portal_service.endpoint(ctx).endpoint
        try:
            issued = enrol(ep, sim.enrolment_token, WF.CredentialRequest(new_ref("org-csr"),
                                                                        purpose, csr))
        except Rejected as exc:
            if exc.dcc_code == "CR:Officer":
                raise Refusal(f"Rule: the DCC issues a file-signing credential only to an "
                              f"officer it has verified; the simulator (the Test DCC) holds "
                              f"{register_id} as not verified, suspended or revoked "
                              f"({exc.dcc_code}).") from None
            raise
        cert = x509.load_der_x509_certificate(issued.certificate_der)
        cred = record_credential(ctx, cert, purpose, info.key_id, source="simulator")
        if issued.api_key:
            ctx.keystore.secrets.set(portal_service.API_KEY_SECRET, issued.api_key)
        if issued.ca_certificates_der:
            from smki_desktop.store.atomic import write_atomic

            chain = b"".join(x509.load_der_x509_certificate(d).public_bytes(
                serialization.Encoding.PEM) for d in issued.ca_certificates_der)
            write_atomic(ctx.paths.feature_dir("portal") / "simulator-ca-chain.pem", chain,
                         overwrite=True)
        entry = ctx.audit.record("credential.request", {"purpose": purpose,
                                                        "key_id": info.key_id,
                                                        "issued_by": "simulator",
                                                        "serial": cred.serial}, {"csr": csr})
        return CredentialRequestResult(purpose, info.key_id, csr, cred, None, entry)
    from smki_desktop.store.atomic import write_atomic

    path = folder / f"credential-{purpose}-{info.key_id[:16]}.csr.pem"
    pem = b"-----BEGIN CERTIFICATE REQUEST-----\n" + b"\n".join(
        _b64lines(csr)) + b"\n-----END CERTIFICATE REQUEST-----\n"
    write_atomic(path, pem)
    entry = ctx.audit.record("credential.request", {"purpose": purpose, "key_id": info.key_id,
                                                    "csr_path": str(path)}, {"csr": csr})
    return CredentialRequestResult(purpose, info.key_id, csr, None, path, entry)


def _writable_folder(folder: Path) -> None:
    """The folder the CSR goes to exists (made if need be) and can be written, else --out is
    bad input."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Output folder {folder}: cannot make this folder "
                         f"({exc.strerror or exc}).", hint="field.out") from None
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"Output folder {folder}: not a folder this user can write to.",
                         hint="field.out")


def _b64lines(der: bytes) -> list[bytes]:
    import base64

    b = base64.b64encode(der)
    return [b[i:i + 64] for i in range(0, len(b), 64)]


def import_credential(ctx: AppContext, data: bytes, purpose: str | None = None) -> Credential:
    """Import a credential certificate the DCC issued for one of our keys."""
    from smki_desktop.core.keys import KeyUsage, key_id_for_spki

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
        from smki_desktop.services.portal import SIMULATOR_MARKER_POLICY

        try:
            pol = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
            if any(p.policy_identifier.dotted_string == SIMULATOR_MARKER_POLICY for p in pol):
                raise Refusal("This certificate was issued by an SMKI Desktop simulator (Test); "
                              "the Live environment refuses it.")
        except x509.ExtensionNotFound:
            pass
    return record_credential(ctx, cert, found, key_id, source="file")
