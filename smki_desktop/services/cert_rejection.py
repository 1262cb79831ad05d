"""Rejecting an issued certificate that fails the acceptance check: the officer records the
rejection (with a reason; the findings are kept), the certificate is marked rejected so that
nothing uses it, and the notice to send to the DCC is produced in words (serial, issuer,
subject, each finding). Refused for a certificate that passed the check. Both faces call
`reject`."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.services import certificates as cert_service
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos import certs as cert_repo

REJECTED = "rejected"


@dataclass(frozen=True)
class Rejected:
    serial: str
    notice: str
    audit: AuditEntry

    def as_dict(self) -> dict[str, object]:
        return {"serial": self.serial, "status": REJECTED, "notice": self.notice,
                "audit_seq": self.audit.seq}


def notice_text(ctx: AppContext, rec: cert_service.CertRecord, reason: str) -> str:
    party = ctx.party()
    lines = [f"Rejection of an issued certificate ({ctx.env.label} SMKI)",
             f"From: {party.name} (Party ID {party.party_id})" if party else "From: —",
             f"Certificate serial: {rec.serial}", f"Issuer: {rec.issuer}",
             f"Subject: role {rec.role or '-'}, EUI {rec.eui or rec.device_eui or '-'}"
             + (f", CN {rec.cn}" if rec.cn else ""),
             f"Reason: {reason}", "Findings of the acceptance check:"]
    lines += [f"  {i}. {r}" for i, r in enumerate(rec.reasons, 1)] or ["  (none recorded)"]
    return "\n".join(lines)


def check_reason(reason: str) -> str:
    """Why an issued certificate is rejected (the Reject dialog checks it before it
    closes)."""
    if not reason.strip():
        raise InputError("Reason: say why the certificate is rejected (it goes to the DCC and "
                         "into the audit log).", hint="field.reason")
    return reason.strip()


def reject(ctx: AppContext, serial: str, reason: str, issuer: str | None = None) -> Rejected:
    check_reason(reason)
    rec = cert_service.find_certificate(ctx, serial, issuer)
    if rec.status != cert_service.TO_BE_REJECTED:
        raise Refusal(f"Certificate {rec.serial} is {rec.status}: only a certificate that "
                      "fails the acceptance check is rejected (rule: an accepted certificate "
                      "is revoked instead, not rejected).")
    notice = notice_text(ctx, rec, reason.strip())
    with ctx.audit.change():  # the new status and its record: one transaction
        cert_repo.set_status(ctx.db, ctx.env.value, rec.cert_id, REJECTED)
        entry = ctx.audit.record("cert.reject", {"serial": rec.serial, "issuer": rec.issuer,
                                                 "reason": reason.strip(),
                                                 "findings": rec.reasons},
                                 {"certificate": rec.der, "notice": notice})
    return Rejected(rec.serial, notice, entry)
