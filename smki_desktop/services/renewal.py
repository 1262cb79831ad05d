"""Renewal: for an Organisation Certificate that expires (or must be replaced), a new key of
the same usage and an Organisation CSR for the same role and EUI, linked to the certificate it
replaces. The new CSR then goes the usual way (Requests: submit, import the certificate). Both
faces call `renew`. Only our accepted Organisation Certificates are renewed: not one that is not
ours (unmatched), failed the acceptance check (to be rejected, rejected) or is unverified; a
revoked one is replaced through compromise recovery (an incident's re-key)."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyUsage
from smki_desktop.services import certificates as cert_service
from smki_desktop.services import keys as key_service
from smki_desktop.services.context import AppContext
from smki_desktop.services.csr import CsrCreated, create_org_csr
from smki_desktop.store.repos import renewals as renewal_repo
from smki_desktop.store.repos.renewals import Renewal


@dataclass(frozen=True)
class RenewalPlan:
    """What a renewal will make (shown before it is made)."""

    old: cert_service.CertRecord
    role: str
    eui: str
    usage: KeyUsage
    cn: str | None
    earlier: tuple[Renewal, ...]


@dataclass(frozen=True)
class Renewed:
    old_serial: str
    new_key_id: str
    csr: CsrCreated
    audit: AuditEntry

    def as_dict(self) -> dict[str, object]:
        return {"old_serial": self.old_serial, "new_key_id": self.new_key_id,
                "csr_id": self.csr.csr_id, "audit_seq": self.audit.seq}


def plan(ctx: AppContext, serial: str, issuer: str | None = None) -> RenewalPlan:
    """What renewing the certificate would make; Refusal unless it is one of our accepted
    Organisation Certificates (a revoked one is replaced through compromise recovery)."""
    rec = cert_service.find_certificate(ctx, serial, issuer)
    if rec.status == cert_service.REVOKED:
        raise Refusal(f"Certificate {rec.serial} is revoked: it is not renewed (renewal "
                      "replaces a certificate still in use). A revoked certificate is "
                      "replaced through compromise recovery: the re-key of the incident it was "
                      "revoked under makes the new key and replacement CSR.",
                      hint="incident.rekey")
    if rec.status != cert_service.ACCEPTED:
        why = {cert_service.UNMATCHED: "no key or CSR here has its public key: it is not ours",
               cert_service.UNVERIFIED: "its chain is not verified yet (add the issuing CA as "
                                        "a trust anchor, then import it again)",
               }.get(rec.status, "it failed the acceptance check")
        raise Refusal(f"Certificate {rec.serial} is {rec.status} ({why}): only our accepted "
                      "Organisation Certificates are renewed.")
    if rec.family != "organisation" or not rec.role or not rec.eui or not rec.usage:
        raise Refusal(f"Certificate {rec.serial} is not one of our Organisation Certificates "
                      "(role, EUI and usage are needed): only those are renewed here.")
    return RenewalPlan(rec, rec.role, rec.eui, KeyUsage.parse(rec.usage), rec.cn,
                       tuple(renewal_repo.for_certificate(ctx.db, ctx.env.value, rec.serial)))


def renew(ctx: AppContext, serial: str, issuer: str | None = None) -> Renewed:
    p = plan(ctx, serial, issuer)
    label = f"renewal of {p.old.serial} ({p.usage.value})"
    key = key_service.generate_key(ctx, p.usage, label).key
    try:
        csr = create_org_csr(ctx, key.key_id, p.role, p.eui, p.cn)
    except Exception:
        ctx.keystore.delete(key.key_id)  # no key left behind without its CSR
        raise
    with ctx.audit.change():
        renewal_repo.add(ctx.db, ctx.env.value, p.old.serial, p.old.issuer, p.old.key_id,
                         key.key_id, csr.csr_id, ctx.clock.now().isoformat())
        entry = ctx.audit.record("cert.renew", {"old_serial": p.old.serial,
                                                "old_key_id": p.old.key_id,
                                                "new_key_id": key.key_id, "csr_id": csr.csr_id,
                                                "role": p.role, "eui": p.eui,
                                                "usage": p.usage.value}, {"csr": csr.der})
    return Renewed(p.old.serial, key.key_id, csr, entry)
