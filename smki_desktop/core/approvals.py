"""Dual control as data (like EJBCA's approval profiles): how many approvals an action needs,
who may approve (an active SRO of the same Party and environment, never the requester), how
long a request and an approval stay good, and the states a request goes through. Used for
revocation requests and for the SRO's authorisation of Organisation certificate creation.
Pure: the app's services and the simulator call the same checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError, Refusal
from smki_desktop.core.identity import Signatory
from smki_desktop.core.officers import OfficerRole, OfficerStatus, same_person

REASONS = ("keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation")
# the words shown to the officer for each reason (the code is what is signed and sent)
REASON_TEXT = {
    "keyCompromise": "Key compromise",
    "affiliationChanged": "Affiliation changed",
    "superseded": "Superseded (replaced)",
    "cessationOfOperation": "Cessation of operation (no longer used)",
}
URGENCIES = ("normal", "urgent")
STATES = ("waiting", "approved", "rejected", "expired", "deferred", "submitted", "revoked")
REQUEST_TYPE = "smki-desktop/revocation-request"
REJECTION_TYPE = "smki-desktop/rejection"


@dataclass(frozen=True)
class ApprovalRule:
    """One action's approval profile."""

    name: str
    approvals_needed: int = 1
    approver_role: OfficerRole = OfficerRole.SRO
    request_ttl_hours: int = 72
    approval_ttl_hours: int = 24
    enabled: Mapping[str, bool] = field(default_factory=lambda: {"test": True, "live": True})

    def on(self, env: Environment) -> bool:
        return bool(self.enabled.get(env.value, True))

    @classmethod
    def from_dict(cls, name: str, doc: Mapping[str, Any]) -> ApprovalRule:
        try:
            n = int(doc.get("approvals_needed", 1))
            rt = int(doc.get("request_ttl_hours", 72))
            at = int(doc.get("approval_ttl_hours", 24))
        except (TypeError, ValueError):
            raise InputError(f"approval rule {name}: counts and hours are whole numbers.") \
                from None
        if n < 1 or rt < 1 or at < 1:
            raise InputError(f"approval rule {name}: counts and hours are at least 1.")
        role = OfficerRole.parse(str(doc.get("approver_role", "sro")))
        enabled = {str(k): bool(v) for k, v in dict(doc.get("enabled", {})).items()}
        return cls(name, n, role, rt, at, enabled or {"test": True, "live": True})


def rules_from_dict(doc: Mapping[str, Any]) -> dict[str, ApprovalRule]:
    return {name: ApprovalRule.from_dict(name, d) for name, d in doc.items()
            if isinstance(d, Mapping)}


def _reason_words(text: str) -> str:
    """A reason's words compared loosely: case and spacing, and the part in brackets, aside."""
    return " ".join(text.split("(")[0].lower().split())


def check_reason(reason: str) -> str:
    """The reason's code (as signed and sent), from the code or the words shown for it; a
    refusal lists the words."""
    r = reason.strip()
    choices = "; ".join(REASON_TEXT[c] for c in REASONS)
    if not r:
        raise InputError(f"Reason: choose why the certificates must be revoked ({choices}).",
                         hint="field.revocation-reason")
    if r in REASONS:
        return r
    for code in REASONS:
        if _reason_words(r) in (_reason_words(REASON_TEXT[code]), code.lower()):
            return code
    raise InputError(f"Reason {reason!r} is not a revocation reason; choose one of: "
                     f"{choices}.", hint="field.revocation-reason")


def check_urgency(urgency: str) -> str:
    u = urgency.strip().lower()
    if u not in URGENCIES:
        raise InputError(f"Urgency {urgency!r}: use normal or urgent.", hint="field.urgency")
    return u


def check_requester(s: Signatory, env: Environment) -> None:
    if s.environment is not env:
        raise EnvironmentMismatch(f"Rule: a request is made by an officer of its environment; "
                                  f"{s.label} is not of the {env.label} environment.")
    if s.role is not OfficerRole.ARO:
        raise Refusal(f"Rule: a revocation is requested by an ARO; {s.label} is not an ARO in "
                      f"the register.")
    if s.status is not OfficerStatus.ACTIVE:
        raise Refusal(f"Rule: a revocation is requested by an active ARO; {s.label} is "
                      f"{s.status.value}.")


def check_approver(rule: ApprovalRule, request_env: Environment, request_party: str,
                   requester: Signatory, approver: Signatory, env: Environment) -> None:
    """The rules an approval (or rejection) must meet, each refusal naming its rule."""
    if request_env is not env:
        raise EnvironmentMismatch(f"Rule: a {request_env.label} request is approved only in the "
                                  f"{request_env.label} environment; this is {env.label}.")
    if approver.environment is not request_env:
        raise EnvironmentMismatch(
            f"Rule: the approver is an SRO of the request's environment; {approver.label} is a "
            f"{approver.environment.label} officer and this is a {request_env.label} request.")
    if approver.officer_id == requester.officer_id or same_person(
            approver.name, approver.email, requester.name, requester.email):
        raise Refusal(f"Rule: no self-approval; {approver.label} made this request "
                      f"(as {requester.officer_id}).")
    if approver.role is not rule.approver_role:
        raise Refusal(f"Rule: {rule.name} is approved by an {rule.approver_role.label}; "
                      f"{approver.label} is an {approver.role.label} in the register.")
    if approver.status is not OfficerStatus.ACTIVE:
        raise Refusal(f"Rule: the approver is an active {rule.approver_role.label}; "
                      f"{approver.label} is {approver.status.value}.")
    if approver.party_id != request_party:
        raise Refusal(f"Rule: the approver is an SRO of the same Party; {approver.label} is of "
                      f"{approver.party_id or 'no Party'}, the request of {request_party}.")


def check_not_expired(expires: datetime, now: datetime, what: str = "request") -> None:
    if now > expires:
        raise Refusal(f"Rule: an expired {what} goes nowhere; it expired at "
                      f"{expires.isoformat()}.")


def approval_valid(signed_at: datetime, rule: ApprovalRule, now: datetime) -> bool:
    return now <= signed_at + timedelta(hours=rule.approval_ttl_hours)


def request_state(*, expires: datetime, now: datetime, valid_approvals: int, needed: int,
                  rejected: bool, deferred: bool, submitted: bool, revoked: bool) -> str:
    if revoked:
        return "revoked"
    if submitted:
        return "submitted"
    if rejected:
        return "rejected"
    if deferred:
        return "deferred"
    if now > expires:
        return "expired"
    return "approved" if valid_approvals >= needed else "waiting"
