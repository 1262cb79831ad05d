"""The officer register as a log of changes: each change is a canonical object (see
docs/identity.md), signed by the officer who authorises it where the rules ask for it, and the
register's current standing is the replay of that log through `apply_change`, each change
applied once and in order (`check_order`). The same functions refuse a change before it is
written and ignore a forged or copied one when the log is read, so editing a database row
changes no one's standing. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.core.officers import SRO_NOMINATOR_CAPACITIES, OfficerRole, OfficerStatus

CHANGE_TYPE = "smki-desktop/register-change"
ACTIONS = ("nominate", "verify", "activate", "suspend", "revoke")


@dataclass(frozen=True)
class Standing:
    officer_id: str
    role: OfficerRole
    environment: Environment
    party_id: str
    status: OfficerStatus
    verified: bool
    nominator_capacity: str = ""


def change_body(*, env: Environment, officer_id: str, action: str, at: str, signer: str = "",
                reason: str = "", details: Mapping[str, Any] | None = None,
                nonce: str = "") -> dict[str, Any]:
    """A change as the canonical object that is signed (and stored). `nonce` (random, from the
    caller) makes every change the app writes unique, so that two alike changes within one
    second are not taken for a copy of one another (`check_order`)."""
    body = {"type": CHANGE_TYPE, "version": 1, "environment": env.value,
            "officer_id": officer_id, "action": action, "at": at, "signer": signer,
            "reason": reason, "details": dict(details or {})}
    if nonce:
        body["nonce"] = nonce
    return body


@dataclass
class LogOrder:
    """What replaying the log so far has applied: each applied change's digest (SHA-256 of its
    canonical bytes) with its log entry, and each officer's last applied change's time."""

    applied: dict[str, int] = field(default_factory=dict)
    last_at: dict[str, datetime] = field(default_factory=dict)

    def note(self, change: Mapping[str, Any], digest: str, seq: int) -> None:
        self.applied[digest] = seq
        self.last_at[str(change.get("officer_id"))] = _when(change)


def _when(change: Mapping[str, Any]) -> datetime:
    """The change's `at`, to the second (the app signs whole seconds; a nomination carries
    microseconds)."""
    try:
        at = datetime.fromisoformat(str(change.get("at")))
    except ValueError:
        raise Refusal(f"its date {change.get('at')!r} is not a date") from None
    if at.tzinfo is None:
        raise Refusal(f"its date {change.get('at')!r} names no time zone")
    return at.replace(microsecond=0)


def check_order(order: LogOrder, change: Mapping[str, Any], digest: str) -> None:
    """A signed change is applied once, in the order it was made: a copy of a change already
    applied (the same signed bytes appended again, e.g. an old activation of an officer since
    suspended) is refused, and so is a change dated before the officer's last applied change
    (an old signed change kept back and appended later). Refusal naming which."""
    seq = order.applied.get(digest)
    if seq is not None:
        raise Refusal(f"it repeats register log entry {seq}, already applied: a signed change "
                      "counts once, and a copy of it appended again changes nothing")
    oid = str(change.get("officer_id"))
    at = _when(change)
    last = order.last_at.get(oid)
    if last is not None and at < last:
        raise Refusal(f"it is dated {at.isoformat()}, before {oid}'s last applied change "
                      f"({last.isoformat()}): changes count in the order they were made, and "
                      "an older signed change appended later changes nothing")


def check_role_in_id(officer_id: str, role: OfficerRole) -> None:
    """The register id carries the role (`SRO-0001`, `ARO-0002`) and the DCC's credential names
    that id, so the role is attested by the credential: a nomination (the one change no officer
    signs) that gives an id another role is refused, and rewriting an ARO's nomination in the
    database makes no SRO of them."""
    if not officer_id.upper().startswith(f"{role.label}-"):
        raise Refusal(f"Rule: an officer's register id carries their role; {officer_id} cannot "
                      f"be nominated as an {role.label}.")


def _need_sro(standings: Mapping[str, Standing], signer: str, subject: Standing,
              what: str) -> None:
    if not signer:
        raise Refusal(f"Rule: {what} needs an active SRO's signature; name the SRO and their "
                      "key.", hint="field.signer")
    s = standings.get(signer)
    if s is None:
        raise Refusal(f"Rule: {what} is signed by an SRO of the register; {signer} is not in "
                      "it.")
    if s.role is not OfficerRole.SRO:
        raise Refusal(f"Rule: {what} needs an SRO's signature; {signer} is an {s.role.label}.")
    if s.status is not OfficerStatus.ACTIVE:
        raise Refusal(f"Rule: {what} needs an active SRO's signature; {signer} is "
                      f"{s.status.value}.")
    if s.environment is not subject.environment:
        raise Refusal(f"Rule: {what} is signed by an SRO of the same environment; {signer} is "
                      f"{s.environment.label}, {subject.officer_id} {subject.environment.label}.")
    if s.party_id != subject.party_id:
        raise Refusal(f"Rule: {what} is signed by an SRO of the same Party; {signer} is of "
                      f"{s.party_id}, {subject.officer_id} of {subject.party_id}.")


def apply_change(standings: Mapping[str, Standing], change: Mapping[str, Any]) -> Standing:
    """The officer's standing after `change` (whose `signer` the caller has verified), or a
    Refusal naming the rule it breaks."""
    if change.get("type") != CHANGE_TYPE:
        raise Refusal("Not a register change.")
    action = str(change.get("action"))
    oid = str(change.get("officer_id"))
    signer = str(change.get("signer") or "")
    details = dict(change.get("details") or {})
    if action == "nominate":
        if oid in standings:
            raise Refusal(f"{oid} is already in the register.")
        role = OfficerRole(str(details["role"]))
        check_role_in_id(oid, role)
        return Standing(oid, role,
                        Environment(str(change["environment"])), str(details.get("party_id", "")),
                        OfficerStatus.NOMINATED, False,
                        str(details.get("nominator_capacity", "")))
    cur = standings.get(oid)
    if cur is None:
        raise Refusal(f"{oid} has no nomination in the register.")
    if signer and signer.upper() == oid.upper():
        raise Refusal(f"Rule: no one changes their own standing; {oid} signed a change to their "
                      "own entry.")
    if cur.status is OfficerStatus.REVOKED:
        raise Refusal(f"{oid} is revoked; a revoked officer's entry does not change.")
    if action == "verify":
        if cur.status not in (OfficerStatus.NOMINATED, OfficerStatus.VERIFIED):
            raise Refusal(f"Rule: the verification meeting follows the nomination; {oid} is "
                          f"{cur.status.value}.")
        passed = details.get("outcome") == "passed"
        return replace(cur, verified=passed,
                       status=OfficerStatus.VERIFIED if passed else OfficerStatus.NOMINATED)
    if action == "activate":
        if not cur.verified:
            raise Refusal(f"Rule: a person with no completed verification meeting cannot be "
                          f"activated; {oid} has none.")
        if cur.status is OfficerStatus.ACTIVE:
            raise Refusal(f"{oid} is already active.")
        if cur.role is OfficerRole.SRO and cur.status is OfficerStatus.VERIFIED and not signer:
            if cur.nominator_capacity not in SRO_NOMINATOR_CAPACITIES:
                raise Refusal(f"Rule: an SRO's entry is activated from the nominating "
                              f"Director's or Company Secretary's form; {oid}'s nominator is "
                              f"{cur.nominator_capacity or 'not recorded'}.")
            if not details.get("verification") or not details.get("nomination_form"):
                raise Refusal(f"Rule: an SRO's entry is activated from the verification meeting "
                              f"record and the nomination form; {oid}'s change names neither.")
        else:
            what = ("activating an ARO" if cur.role is OfficerRole.ARO
                    else "reinstating an SRO")
            _need_sro(standings, signer, cur, what)
        return replace(cur, status=OfficerStatus.ACTIVE)
    if action in ("suspend", "revoke"):
        _need_sro(standings, signer, cur, f"{'suspending' if action == 'suspend' else 'revoking'}"
                                          f" an {cur.role.label}")
        if action == "suspend" and cur.status is OfficerStatus.SUSPENDED:
            raise Refusal(f"{oid} is already suspended.")
        return replace(cur, status=OfficerStatus.SUSPENDED if action == "suspend"
                       else OfficerStatus.REVOKED)
    raise Refusal(f"Unknown register change {action!r}.")
