"""The SMKI Repository: search certificates by subject EUI + role, by device EUI, or fetch one
by serial (the repository interface as DCC Boxed serves it: a search, then a retrieval of each
certificate; statuses P/I/N/E/R, decimal roles and DS/KA usages mapped to the app's forms);
download the Organisation CRL (our own call: the DCC's interface has none) and verify its
signature against this environment's trust anchors (the Organisation CA)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.errors import InputError, NotFound
from smki_desktop.core.eui import Eui64
from smki_desktop.core.portal_ports import Rejected, RepoEntry
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.core.ws_xml import XmlMessageError
from smki_desktop.services import certificates, portal, revocation_state
from smki_desktop.services.credential_store import apply_credential_crl
from smki_desktop.services.trust import trust_anchors
from smki_desktop.store.atomic import write_atomic

if TYPE_CHECKING:
    from smki_desktop.core.audit import AuditEntry
    from smki_desktop.services.context import AppContext

STATUS_WORDS = {"P": "pending", "I": "in use", "N": "not in use", "E": "expired",
                "R": "revoked"}


@dataclass(frozen=True)
class SearchResult:
    query: dict[str, str]
    entries: list[RepoEntry]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "results": [entry_dict(e) for e in self.entries],
                "warnings": self.warnings}


def entry_dict(e: RepoEntry) -> dict[str, Any]:
    cert = x509.load_der_x509_certificate(e.certificate_der)
    return {"serial": e.serial, "status": e.status,
            "status_text": STATUS_WORDS.get(e.status, e.status), "role": e.role,
            "usage": e.usage, "subject_eui": e.subject_eui, "device_eui": e.device_eui,
            "not_after": cert.not_valid_after_utc.isoformat(),
            "issuer": cert.issuer.rfc4514_string(),
            "pem": cert.public_bytes(serialization.Encoding.PEM).decode()}


def search(ctx: AppContext, *, subject_eui: str | None = None, role: str | None = None,
           device_eui: str | None = None, serial: str | None = None) -> SearchResult:
    _one_criterion(subject_eui, device_eui, serial)
    if role and role.strip() and not (subject_eui and subject_eui.strip()):
        other = "a device EUI" if device_eui and device_eui.strip() else \
            "a serial" if serial and serial.strip() else "nothing else"
        raise InputError(
            f"Role: a role narrows a subject EUI search (Organisation certificates have roles; "
            f"Device certificates do not), and it was given with {other}; give the subject EUI "
            "or set the role to any.", hint="field.repository-search")
    query: dict[str, str] = {}
    if subject_eui:
        query["subject_eui"] = Eui64.parse(subject_eui, "Subject EUI").hex
    if role:
        query["role"] = RemotePartyRole.parse(role).ou
    if device_eui:
        query["device_eui"] = Eui64.parse(device_eui, "Device EUI").hex
    if serial:
        s = serial.strip().upper().replace(":", "")
        if not s or any(ch not in "0123456789ABCDEF" for ch in s):
            raise InputError(f"Serial {serial!r}: give the serial in hexadecimal.",
                             hint="field.serial")
        query["serial"] = s
    if not (subject_eui or device_eui or serial):
        raise InputError("Search by subject EUI (optionally with its role), device EUI or "
                         "serial.", hint="field.repository-search")
    warning = portal.repository_warning(ctx)
    repo = portal.open_repository(ctx)
    try:
        if serial:
            one = repo.fetch(query["serial"])
            entries = [one] if one else []
        else:
            entries = repo.search(subject_eui=query.get("subject_eui"), role=query.get("role"),
                                  device_eui=query.get("device_eui"))
    finally:
        repo.close()
    for e in entries:  # the answer is of this environment, or refused (both named)
        certificates.check_environment(ctx, e.certificate_der,
                                       f"Repository certificate {e.serial}")
    return SearchResult(query, entries, [warning] if warning else [])


def _one_criterion(subject_eui: str | None, device_eui: str | None,
                   serial: str | None) -> None:
    """The repository searches by one thing: a subject EUI (Organisation certificates, its
    CertificateSubjectName), a device EUI (Device certificates, CertificateSubjectAltName) or a
    serial (a retrieval). An Organisation certificate has no device EUI and a Device certificate
    no subject EUI, so two of them together match nothing: refused, naming both fields, rather
    than one of them silently dropped."""
    given = [name for name, value in (("Subject EUI", subject_eui), ("Device EUI", device_eui),
                                      ("Serial", serial)) if value and value.strip()]
    if len(given) > 1:
        raise InputError(
            f"{' and '.join(given)}: the repository searches by one of them at a time (a subject "
            "EUI finds Organisation certificates, a device EUI Device certificates, a serial one "
            "certificate); clear all but one.", hint="field.repository-search")


@dataclass(frozen=True)
class CrlResult:
    der: bytes
    issuer: str
    this_update: datetime
    next_update: datetime | None
    revoked_serials: list[int]
    verified: bool
    verified_by: str | None
    path: str
    audit: AuditEntry | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "this_update": self.this_update.isoformat(),
                "next_update": self.next_update.isoformat() if self.next_update else None,
                "revoked": [f"{s:X}" for s in self.revoked_serials],
                "signature_verified": self.verified, "verified_by": self.verified_by,
                "path": self.path}


def _iki_crl(ctx: AppContext, repo: Any) -> bytes | None:
    """The IKI CA's CRL, where the repository publishes one (the simulator does; the DCC's
    address for it is not published [U], so a 404 there is not an error)."""
    try:
        data: bytes = repo.http.request("GET", "/repository/iki-crl", None,
                                        {"X-API-Key": repo.api_key}, _der_crl, "IKI CRL")
    except Rejected:
        return None
    return data


def _der_crl(data: bytes) -> bytes:
    if not data.startswith(b"\x30"):
        raise XmlMessageError("The IKI CRL is not DER.")
    return data


def fetch_crl(ctx: AppContext) -> CrlResult:
    """Download the Organisation CRL, verify its signature, keep the latest copy."""
    repo = portal.open_repository(ctx)
    try:
        der = repo.download_crl()
        iki_der = _iki_crl(ctx, repo)
    finally:
        repo.close()
    if iki_der is not None:  # officers' credentials revoked by the DCC: refused from now on
        apply_credential_crl(ctx, iki_der)
    try:
        crl = x509.load_der_x509_crl(der)
    except ValueError as exc:
        raise InputError(f"The repository's CRL is not a DER CRL: {exc}.") from None
    verified_by = None
    for ca in trust_anchors(ctx):
        if ca.subject == crl.issuer:
            try:
                if crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
                    verified_by = ca.subject.rfc4514_string()
                    break
            except TypeError:
                continue
    if verified_by is None:
        raise NotFound(f"The CRL from {crl.issuer.rfc4514_string()} does not verify against "
                       "any trust anchor of this environment (add the Organisation CA).")
    path = ctx.paths.feature_dir("repository") / "organisation.crl"
    write_atomic(path, der, overwrite=True)
    revoked = [r.serial_number for r in crl]
    entry = ctx.audit.record("repo.crl.fetch", {"issuer": crl.issuer.rfc4514_string(),
                                                "revoked": len(revoked), "path": str(path)},
                             {"crl": der})
    revocation_state.apply_crl(ctx, der)  # the store's certificates and requests follow it
    return CrlResult(der, crl.issuer.rfc4514_string(), crl.last_update_utc,
                     crl.next_update_utc, revoked, True, verified_by, str(path), entry)
