"""Register changes that carry authority: activating, suspending and revoking an officer as a
signed change in the register's log (services.officers applies it). An ARO's activation,
anyone's suspension or revocation, and an SRO's reinstatement are signed by an active SRO of the
same Party and environment (never the officer themselves); an SRO's first activation rests on
the verification meeting record and the nominating Director's or Company Secretary's form."""

from __future__ import annotations

import secrets

from smki_desktop.core import officers as officer_rules
from smki_desktop.core.canonical import canonical_bytes
from smki_desktop.core.officers import OfficerRole, OfficerStatus
from smki_desktop.core.register import change_body
from smki_desktop.services import identity
from smki_desktop.services import officers as svc
from smki_desktop.services.context import AppContext
from smki_desktop.services.credentials import list_credentials


def _signed(ctx: AppContext, ref: str, action: str, reason: str, as_ref: str | None,
            key_ref: str | None) -> tuple[str, svc.SignedChange]:
    o = svc.get_officer(ctx, ref)
    at = ctx.clock.now().replace(microsecond=0)
    # the entry's own rules (verified before activation, a reason, not already so) come first
    {"activate": lambda: officer_rules.activate(o, at.isoformat()),
     "suspend": lambda: officer_rules.suspend(o, reason, at.isoformat()),
     "revoke": lambda: officer_rules.revoke(o, reason, at.isoformat())}[action]()
    # an SRO's first activation rests on the meeting record and the nominating form alone
    first_sro = (action == "activate" and o.role is OfficerRole.SRO
                 and o.status is OfficerStatus.VERIFIED)
    details: dict[str, object] = {"role": o.role.value}
    if first_sro:
        v = o.verification
        details.update({
            "verification": {"date": v.date, "verifier": v.verifier,
                             "evidence": list(v.evidence), "outcome": v.outcome} if v else {},
            "nomination_form": svc.record_sha256(ctx, o.officer_id),
            "nominator_capacity": o.nominator_capacity})
        body = canonical_bytes(change_body(env=ctx.env, officer_id=o.officer_id, action=action,
                                           at=at.isoformat(), reason=reason, details=details,
                                           nonce=secrets.token_hex(8)))
        svc.check_change(ctx, body)
        return o.officer_id, svc.SignedChange(body, "", None)
    what = {"activate": "a register activation", "suspend": "a suspension",
            "revoke": "a revocation of an officer"}[action]
    actor = identity.resolve_actor(ctx, as_ref, key_ref, roles=tuple(OfficerRole), what=what)
    body = canonical_bytes(change_body(env=ctx.env, officer_id=o.officer_id, action=action,
                                       at=at.isoformat(), reason=reason,
                                       signer=actor.officer.officer_id, details=details,
                                       nonce=secrets.token_hex(8)))
    svc.check_change(ctx, body)  # the rules (no own standing, an active SRO) before signing
    sig = identity.sign(ctx, actor, body, at)
    return o.officer_id, svc.SignedChange(body, actor.officer.officer_id, sig)


def activate(ctx: AppContext, ref: str, *, as_ref: str | None = None,
             key_ref: str | None = None) -> svc.OfficerChanged:
    oid, change = _signed(ctx, ref, "activate", "", as_ref, key_ref)
    return svc.activate_officer(ctx, oid, change)


def suspend(ctx: AppContext, ref: str, reason: str, *, as_ref: str | None = None,
            key_ref: str | None = None) -> svc.OfficerChanged:
    oid, change = _signed(ctx, ref, "suspend", reason, as_ref, key_ref)
    return svc.suspend_officer(ctx, oid, reason, change)


def revoke(ctx: AppContext, ref: str, reason: str, *, as_ref: str | None = None,
           key_ref: str | None = None) -> svc.OfficerChanged:
    oid, change = _signed(ctx, ref, "revoke", reason, as_ref, key_ref)
    return svc.revoke_officer(ctx, oid, reason, change)


def credentials_to_revoke(ctx: AppContext, ref: str) -> list[str]:
    """The IKI credentials an officer holds (serials), to be revoked at the DCC when the officer
    is revoked: what `officer revoke` offers next."""
    o = svc.get_officer(ctx, ref)
    out = []
    for c in o.credentials:
        for cred in list_credentials(ctx, "file-signing"):
            if cred.key_id == c.key_id:
                out.append(f"{cred.serial} (key {c.key_id[:12]}, {cred.issuer})")
    return out
