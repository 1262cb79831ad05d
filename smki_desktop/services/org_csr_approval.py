"""The SRO's authorisation of Organisation certificate creation (SEC guidance: SROs authorise
the creation of Organisation Certificates). With the `org-csr` approval rule on (by default in
Live, off in Test so that training stays quick), an Organisation CSR is sent to the DCC only
with an active SRO's signature over a canonical authorisation naming the CSR's SHA-256."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.canonical import canonical_bytes, parse_canonical, sha256_hex
from smki_desktop.core.errors import InputError, Refusal, SmkiError
from smki_desktop.core.identity import Signatory, check_may_act
from smki_desktop.core.officers import OfficerRole
from smki_desktop.crypto.der import to_der
from smki_desktop.services import identity
from smki_desktop.services.context import AppContext
from smki_desktop.services.revocation_state import load_rules, repo
from smki_desktop.store.repos.approvals import RequestRow, SignatureRow

KIND = "org-csr"
AUTH_TYPE = "smki-desktop/org-csr-authorisation"


@dataclass(frozen=True)
class Authorised:
    authorisation_id: str
    csr_sha256: str
    by: str
    expires: str
    audit: AuditEntry

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.authorisation_id, "csr_sha256": self.csr_sha256, "by": self.by,
                "expires": self.expires}


def rule_on(ctx: AppContext) -> bool:
    return load_rules(ctx)["org-csr"].on(ctx.env)


def _csr(data: bytes) -> tuple[bytes, x509.CertificateSigningRequest]:
    der = to_der(data, "Organisation CSR")
    try:
        return der, x509.load_der_x509_csr(der)
    except ValueError as exc:
        raise InputError(f"Organisation CSR: not a PKCS#10 request ({exc}).") from None


def authorise(ctx: AppContext, data: bytes, *, as_ref: str | None,
              key_ref: str | None) -> Authorised:
    """An active SRO signs the authorisation of one Organisation CSR (by its exact bytes)."""
    der, csr = _csr(data)
    actor = identity.resolve_actor(ctx, as_ref, key_ref, roles=(OfficerRole.SRO,),
                                   what="authorising an Organisation certificate")
    rule = load_rules(ctx)["org-csr"]
    now = ctx.clock.now().replace(microsecond=0)
    expires = now + timedelta(hours=rule.approval_ttl_hours)
    aid = f"OA-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"
    body = canonical_bytes({"type": AUTH_TYPE, "version": 1, "environment": ctx.env.value,
                            "id": aid, "csr_sha256": sha256_hex(der),
                            "subject": csr.subject.rfc4514_string(),
                            "by": actor.officer.officer_id, "created": now.isoformat(),
                            "expires": expires.isoformat()})
    sig = identity.sign(ctx, actor, body, now)
    with ctx.audit.change():
        repo(ctx).add(RequestRow(aid, ctx.env.value, KIND, body, sha256_hex(body),
                                 actor.officer.officer_id, now.isoformat(), expires.isoformat()),
                      SignatureRow(aid, ctx.env.value, "approval", actor.officer.officer_id,
                                   now.isoformat(), body, sig))
        entry = ctx.audit.record("csr.org.authorise", {"id": aid, "by": actor.officer.officer_id,
                                                       "csr_sha256": sha256_hex(der),
                                                       "subject": csr.subject.rfc4514_string()},
                                 {"authorisation": body, "signature": sig, "csr": der})
    return Authorised(aid, sha256_hex(der), actor.officer.officer_id, expires.isoformat(), entry)


def require_authorised(ctx: AppContext, der: bytes) -> str | None:
    """The id of a valid SRO authorisation of this CSR when the rule is on (None when off);
    refuses, naming the rule, when there is none."""
    if not rule_on(ctx):
        return None
    want = sha256_hex(der)
    now = ctx.clock.now()
    seen: list[str] = []
    for row in repo(ctx).all(KIND):
        body = parse_canonical(row.body, f"authorisation {row.request_id}")
        if body.get("csr_sha256") != want:
            continue
        if now > datetime.fromisoformat(str(body["expires"])):
            seen.append(f"{row.request_id} expired")
            continue
        for s in repo(ctx).signatures(row.request_id):
            try:
                by = identity.verify(ctx, row.body, s.signature, what="an authorisation",
                                     at=now)
                check_may_act(Signatory.of(by.officer), ctx.env, (OfficerRole.SRO,),
                              "authorising an Organisation certificate")
            except SmkiError as exc:
                seen.append(f"{row.request_id}: {exc.message}")
                continue
            return row.request_id
    raise Refusal(f"Rule: in the {ctx.env.label} environment an Organisation CSR is sent only "
                  f"with an active SRO's authorisation; this CSR has none valid"
                  + (f" ({'; '.join(seen)})" if seen else "")
                  + ". An SRO must authorise it first.", hint="csr.authorise")
