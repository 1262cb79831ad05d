"""Requesting a credential from the DCC: the web-service client credential (RSA-2048, mutual
TLS) or an officer's file-signing credential. Make the key (unless given) and the credential
CSR; in Test with the simulator the certificate is issued at once, otherwise the CSR is written
for the DCC.

Finding, listing, recording and importing credentials is services/credential_store.py (below
the portal, officers and identity); its names are re-exported here for the faces."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core import ws_forms as WF
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.keys import KeyInfo, KeyType, KeyUsage
from smki_desktop.core.party import PartyProfile
from smki_desktop.core.portal_ports import Rejected
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.credential_csr import build_credential_csr, credential_subject
from smki_desktop.portal.outbox import new_ref
from smki_desktop.portal.ws_client import enrol
from smki_desktop.services import crossing, portal_endpoint, simulator_control
from smki_desktop.services.context import AppContext
from smki_desktop.services.credential_store import (
    PURPOSES,
    Credential,
    apply_credential_crl,
    ca_pool,
    check_not_revoked,
    check_purpose,
    find_credential,
    import_credential,
    list_credentials,
    record_credential,
    register_id_of,
    require_credential,
    verify_credential_signature,
)
from smki_desktop.services.keys import KeyRecord, get_key
from smki_desktop.services.officers import feed_simulator, get_officer
from smki_desktop.services.token import signer_for
from smki_desktop.store.atomic import write_atomic, write_recorded

__all__ = [
    "PURPOSES", "Credential", "CredentialRequestResult", "apply_credential_crl", "ca_pool",
    "check_not_revoked", "check_purpose", "find_credential", "import_credential",
    "list_credentials", "record_credential", "register_id_of", "request_credential",
    "require_credential", "verify_credential_signature",
]

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
                "audit_seq": self.audit.seq}


@dataclass(frozen=True)
class _Subject:
    """What the credential CSR names and the key it needs."""

    usage: KeyUsage
    key_type: KeyType
    role_ou: str
    cn: str
    register_id: str = ""


def _web_service_subject(ctx: AppContext, party: PartyProfile | None, role: str | None,
                         system_name: str | None) -> _Subject:
    role_ou = (role or (_ROLE_FOR_PARTY.get(party.party_type.value, "7F") if party
                        else "")).strip()
    if not role_ou:
        raise InputError("Role: give the role code (OU), e.g. 02.", hint="field.role")
    parsed = RemotePartyRole.parse(role_ou)
    if party is not None and parsed not in crossing.roles_offered(ctx):
        may = ", ".join(r.ou for r in crossing.roles_offered(ctx)) or "none"
        raise Refusal(f"Role {parsed.ou}: {parsed.name_text} is not one a "
                      f"{party.party_type.label} may hold (it may hold: {may}); the "
                      "credential's role must be the Party's own.")
    cn = (system_name or f"smki-desktop-{ctx.installation_id[:8]}").strip()
    return _Subject(KeyUsage.CLIENT_AUTH, KeyType.RSA_2048, parsed.ou, cn)


def _file_signing_subject(ctx: AppContext, officer: str | None, common_name: str | None
                          ) -> _Subject:
    register_id = ""
    if officer:
        named = get_officer(ctx, officer)
        register_id = named.officer_id
        cn = (common_name or named.name).strip()
    else:
        prof = ctx.officer()
        cn = (common_name or (prof.name if prof else "")).strip()
    if not cn:
        raise InputError("Name: give the ARO's name (or set the officer profile).",
                         hint="field.name")
    return _Subject(KeyUsage.FILE_SIGNING, KeyType.EC_P256, "", cn, register_id)


def _uses_simulator(ctx: AppContext) -> bool:
    rec = portal_endpoint.configured_endpoint(ctx)
    return ctx.env is Environment.TEST and (rec is None or rec.source == "simulator")


def _credential_key(ctx: AppContext, key_ref: str | None, purpose: str, subject: _Subject
                    ) -> KeyInfo:
    """The given key (of the usage the purpose needs), or a new one."""
    if not key_ref:
        # the key's row and its key.generate record: one transaction
        return ctx.keystore.generate(subject.key_type, subject.usage,
                                     f"{purpose} credential {subject.cn}",
                                     recorded=KeyRecord(ctx, {"credential": purpose}))
    info = get_key(ctx, key_ref)
    if info.usage is not subject.usage:
        raise InputError(f"Key: key {info.short_id} has usage {info.usage.value}; a "
                         f"{purpose} credential needs a {subject.usage.value} key.",
                         hint="field.key")
    return info


def request_credential(ctx: AppContext, purpose: str, key_ref: str | None = None, *,
                       organisation: str | None = None, role: str | None = None,
                       system_name: str | None = None, common_name: str | None = None,
                       out_dir: Path | None = None, officer: str | None = None
                       ) -> CredentialRequestResult:
    """Make the key (unless given) and the credential CSR; in Test with the simulator the
    certificate is issued at once, otherwise the CSR is written for the DCC. A file-signing
    credential for `officer` (register id) names them in its subject (serialNumber); the key
    may be on a PKCS#11 token."""
    purpose = check_purpose(purpose)
    # Live makes no key or credential request without a Party profile (checked first, so
    # nothing is made); a given key must not be the other environment's.
    party = crossing.require_party(ctx, f"Credential request ({purpose})")
    if key_ref:
        crossing.refuse_key_of_other_environment(ctx, key_ref, f"Key {key_ref}")
    org = (organisation or (party.name if party else "")).strip()
    if not org:
        raise InputError("Organisation: give the trading name (or set the Party profile).",
                         hint="field.organisation")
    subject = (_web_service_subject(ctx, party, role, system_name) if purpose == "web-service"
               else _file_signing_subject(ctx, officer, common_name))
    # Everything that can fail is checked before a key is made (nothing half-done is left).
    credential_subject(purpose, organisation=org, role_ou=subject.role_ou,
                       common_name=subject.cn)
    use_sim = _uses_simulator(ctx)
    if use_sim and purpose == "file-signing" and not subject.register_id:
        raise Refusal("Rule: the DCC issues a file-signing credential only to an officer it has "
                      "verified, naming their register id; in Test the simulator does the same. "
                      "Name the officer (a verified register entry).", hint="field.officer")
    folder = out_dir or ctx.paths.exports_dir
    if not use_sim:
        _writable_folder(folder)
    info = _credential_key(ctx, key_ref, purpose, subject)
    with signer_for(ctx, info) as signer:
        csr = build_credential_csr(signer, purpose, organisation=org, role_ou=subject.role_ou,
                                   common_name=subject.cn, register_id=subject.register_id
                                   if purpose == "file-signing" else "")
    if use_sim:
        return _issue_by_simulator(ctx, purpose, info, csr, subject.register_id)
    return _write_csr(ctx, purpose, info, csr, folder)


def _issue_by_simulator(ctx: AppContext, purpose: str, info: KeyInfo, csr: bytes,
                        register_id: str) -> CredentialRequestResult:
    """Test: the simulator (the Test DCC) issues the credential at once."""
    sim = simulator_control.start(ctx)
    if purpose == "file-signing":  # the DCC's own record of the verified officers
        feed_simulator(ctx, sim)
    ep = portal_endpoint.endpoint(ctx).endpoint
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
    # the API key and the simulator's chain first (a kill after them leaves only what the
    # next request replaces), then the credential's row and both its records in one change
    if issued.api_key:
        ctx.keystore.secrets.set(portal_endpoint.API_KEY_SECRET, issued.api_key)
    if issued.ca_certificates_der:
        chain = b"".join(x509.load_der_x509_certificate(d).public_bytes(
            serialization.Encoding.PEM) for d in issued.ca_certificates_der)
        write_atomic(ctx.paths.feature_dir("portal") / "simulator-ca-chain.pem", chain,
                     overwrite=True)
    with ctx.audit.change():
        cred = record_credential(ctx, cert, purpose, info.key_id, source="simulator")
        entry = ctx.audit.record("credential.request", {"purpose": purpose,
                                                        "key_id": info.key_id,
                                                        "issued_by": "simulator",
                                                        "serial": cred.serial}, {"csr": csr})
    return CredentialRequestResult(purpose, info.key_id, csr, cred, None, entry)


def _write_csr(ctx: AppContext, purpose: str, info: KeyInfo, csr: bytes, folder: Path
               ) -> CredentialRequestResult:
    """Live (or a configured Test endpoint): the CSR is written for the DCC."""
    path = folder / f"credential-{purpose}-{info.key_id[:16]}.csr.pem"
    pem = b"-----BEGIN CERTIFICATE REQUEST-----\n" + b"\n".join(
        _b64lines(csr)) + b"\n-----END CERTIFICATE REQUEST-----\n"
    # recorded before the file is put in place (store/atomic.write_recorded)
    _p, entry = write_recorded(path, pem, lambda p: ctx.audit.record(
        "credential.request", {"purpose": purpose, "key_id": info.key_id,
                               "csr_path": str(p)}, {"csr": csr}))
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
    b = base64.b64encode(der)
    return [b[i:i + 64] for i in range(0, len(b), 64)]
