"""The officer register's rules: statuses, who may nominate whom, verification before
activation, suspension and revocation, and the register's warnings (cover, screening age,
dormant credentials). Pure: the services load and store `Officer` records.

Status flow: draft -> nominated -> verified -> active <-> suspended; any -> revoked (final).
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal


class OfficerStatus(enum.Enum):
    DRAFT = "draft"
    NOMINATED = "nominated"
    VERIFIED = "verified"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class OfficerRole(enum.Enum):
    SRO = "sro"
    ARO = "aro"

    @property
    def label(self) -> str:
        return self.value.upper()

    @classmethod
    def parse(cls, text: str) -> OfficerRole:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InputError(f"Role {text!r} is not an officer role; use 'sro' or 'aro'.") from None


SRO_NOMINATOR_CAPACITIES = ("director", "company-secretary", "pma-chair", "panel-chair")


@dataclass(frozen=True)
class Policy:
    """Register policy values (resources/forms/policy.json): not published, so data."""

    screening_max_age_days: int = 1095
    dormant_after_days: int = 90
    gpg45_level3_required: tuple[str, ...] = ("photo-id", "photo-id-validated",
                                              "second-evidence", "face-match")
    min_cover: int = 2
    forecast_warning_ratio: float = 1.5
    forecast_history_months: int = 6
    forecast_months: int = 8

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Policy:
        d = cls()
        return cls(
            screening_max_age_days=int(doc.get("screening_max_age_days",
                                               d.screening_max_age_days)),
            dormant_after_days=int(doc.get("dormant_after_days", d.dormant_after_days)),
            gpg45_level3_required=tuple(doc.get("gpg45_level3_required",
                                                d.gpg45_level3_required)),
            min_cover=int(doc.get("min_cover", d.min_cover)),
            forecast_warning_ratio=float(doc.get("forecast_warning_ratio",
                                                 d.forecast_warning_ratio)),
            forecast_history_months=int(doc.get("forecast_history_months",
                                                d.forecast_history_months)),
            forecast_months=int(doc.get("forecast_months", d.forecast_months)),
        )


@dataclass(frozen=True)
class Verification:
    date: str
    verifier: str
    evidence: tuple[str, ...]
    outcome: str  # passed | failed


@dataclass(frozen=True)
class Credential:
    """A key or token an officer holds, as the register sees it."""

    key_id: str
    kind: str  # "key" | "token"
    label: str
    created: str  # ISO datetime
    last_used: str | None = None
    flagged: str = ""  # reason when the officer was suspended/revoked


@dataclass(frozen=True)
class Officer:
    officer_id: str
    role: OfficerRole
    environment: Environment
    status: OfficerStatus
    name: str
    email: str
    organisation: str
    party_id: str
    job_title: str = ""
    nominated_by: str | None = None  # register id of the nominating SRO (ARO forms)
    nominator_name: str = ""
    nominator_capacity: str = ""  # SRO forms: director, company-secretary, ...
    self_nominated: bool = False
    nominated_on: str = ""  # ISO date
    verification: Verification | None = None
    activated_at: str = ""
    status_reason: str = ""
    status_changed_at: str = ""
    screening_date: str = ""
    screening_ref: str = ""
    form_id: str = ""
    credentials: tuple[Credential, ...] = field(default=())

    @property
    def verified(self) -> bool:
        return self.verification is not None and self.verification.outcome == "passed"


def same_person(a_name: str, a_email: str, b_name: str, b_email: str) -> bool:
    if a_email and b_email and a_email.strip().lower() == b_email.strip().lower():
        return True
    return " ".join(a_name.lower().split()) == " ".join(b_name.lower().split())


def _norm_org(text: str) -> str:
    return " ".join(text.lower().split())


LEGAL_SUFFIXES = ("public limited company", "limited", "ltd", "plc", "llp", "lp")


def org_key(text: str) -> str:
    """An organisation name compared tolerantly: case, spacing, punctuation and a trailing
    legal suffix (Ltd, Limited, PLC, LLP) aside ("Example-Energy Ltd." -> "example energy")."""
    words = "".join(ch if ch.isalnum() else " " for ch in text.lower()).split()
    joined = " ".join(words)
    for suffix in LEGAL_SUFFIXES:
        if joined.endswith(" " + suffix):
            return joined[: -len(suffix) - 1]
    return joined


def organisation_warning(nominee_org: str, nominator: Officer | None, party_name: str = "",
                         party_id: str = "") -> str:
    """The Party ID is the identity of the organisation (a different one is refused); the name
    is printed on the paper form as typed, so a spelling that differs from the Party profile's
    name or the nominating SRO's entry is worth a word (naming both), never a refusal: a
    trading name and a registered name ("Example Energy" / "Example Energy Ltd") are one
    Party. '' when the names agree (case and spacing aside)."""
    refs = [("the Party profile", party_name)]
    if nominator is not None and _norm_org(nominator.organisation) != _norm_org(party_name):
        refs.append((f"the nominating SRO's entry ({nominator.officer_id})",
                     nominator.organisation))
    if nominator is not None:
        party_id = party_id or nominator.party_id
    differ = [(who, n) for who, n in refs if n and _norm_org(n) != _norm_org(nominee_org)]
    if not differ:
        return ""
    same = all(org_key(n) == org_key(nominee_org) for _who, n in differ)
    whose = " and ".join(f"{who} says {n!r}" for who, n in differ)
    kind = ("the same name, written differently" if same else
            "not the same name, though the same Party")
    return (f"nominee.organisation: the form says {nominee_org!r}; {whose} ({kind}"
            + (f", Party ID {party_id}" if party_id else "") + "). The paper form carries the "
            "name as typed: check it is the Party's name as the DCC knows it.")


# -- nomination rules ---------------------------------------------------------------------
def check_sro_nomination(env: Environment, declared_env: str, capacity: str) -> None:
    _check_env(env, declared_env)
    if capacity not in SRO_NOMINATOR_CAPACITIES:
        raise Refusal(
            f"Rule: an SRO is nominated by a Director or Company Secretary (SMKI PMA or Panel: "
            f"their Chair); capacity {capacity!r} may not nominate."
        )


def _check_env(env: Environment, declared_env: str) -> None:
    if declared_env != env.value:
        raise Refusal(
            f"Rule: Test and Live nominations are separate records: this form declares "
            f"{declared_env!r} but this is the {env.label} environment. Nominate in the "
            f"{declared_env!r} environment, or declare {env.value!r}."
        )


def check_aro_by_chair(env: Environment, declared_env: str, capacity: str) -> None:
    """The SMKI PMA's and the Panel's AROs are nominated by their Chair."""
    _check_env(env, declared_env)
    if capacity not in ("pma-chair", "panel-chair"):
        raise Refusal(f"Rule: only the Chair of the SMKI PMA or of the Panel nominates an ARO "
                      f"without an SRO; {capacity!r} may not.")


def check_aro_nomination(env: Environment, declared_env: str, *, nominee_name: str,
                         nominee_email: str, nominee_org: str, nominee_party: str,
                         nominator: Officer | None, nominator_ref: str,
                         self_nomination_declared: bool) -> bool:
    """Refuse an ARO nomination the rules forbid; return whether it is a self-nomination."""
    _check_env(env, declared_env)
    if nominator is None:
        raise Refusal(
            f"Rule: an ARO is nominated by an active SRO of the same organisation and "
            f"environment; {nominator_ref!r} is not in the {env.label} officer register."
        )
    if nominator.environment is not env:
        raise Refusal(
            f"Rule: an ARO is nominated by an active SRO of the same environment; "
            f"{nominator.name} ({nominator.officer_id}) is a {nominator.environment.label} SRO "
            f"and this is a {env.label} nomination."
        )
    if nominator.role is not OfficerRole.SRO:
        raise Refusal(
            f"Rule: an ARO is nominated by an SRO; {nominator.name} ({nominator.officer_id}) "
            f"is an ARO."
        )
    if nominator.status is not OfficerStatus.ACTIVE:
        raise Refusal(
            f"Rule: an ARO is nominated by an active SRO; {nominator.name} "
            f"({nominator.officer_id}) is {nominator.status.value}."
        )
    # the Party ID is the organisation's identity; its name is compared tolerantly and only
    # warned about (organisation_warning): a trading name and "… Ltd" are one Party
    if nominator.party_id != nominee_party:
        raise Refusal(
            f"Rule: an ARO is nominated by an SRO of the same organisation (the same Party); "
            f"{nominator.name} is SRO for {nominator.organisation} ({nominator.party_id}), the "
            f"nominee is of {nominee_org} ({nominee_party})."
        )
    is_self = same_person(nominee_name, nominee_email, nominator.name, nominator.email)
    if is_self and not self_nomination_declared:
        raise Refusal(
            f"Rule: an SRO nominating themselves as ARO must record it as a self-nomination; "
            f"{nominator.name} is both nominee and nominating SRO: tick "
            f"'nominator.self_nomination'."
        )
    if self_nomination_declared and not is_self:
        raise Refusal(
            "Rule: self-nomination is declared but the nominee is not the nominating SRO "
            f"({nominator.name}); untick 'nominator.self_nomination'."
        )
    return is_self


def check_not_duplicate(existing: Iterable[Officer], role: OfficerRole, email: str) -> None:
    # "an": both labels (SRO, ARO) start with a vowel sound
    for o in existing:
        if (o.role is role and o.email.lower() == email.lower()
                and o.status is not OfficerStatus.REVOKED):
            raise Refusal(
                f"{email} already has an {role.label} register entry ({o.officer_id}, "
                f"{o.status.value}); revoke it before nominating again."
            )


# -- status transitions -------------------------------------------------------------------
def check_verification_dates(o: Officer, meeting: str, today: _dt.date | None) -> None:
    """The verification meeting happens on or after the nomination date and not after today
    (the app's clock; today itself is allowed). `today` None checks the order alone."""
    try:
        day = _dt.date.fromisoformat(meeting)
    except ValueError:
        raise InputError(f"verification date: {meeting!r} is not a date; write YYYY-MM-DD.") \
            from None
    if today is not None and day > today:
        raise InputError(f"verification date: {meeting} is in the future (today is "
                         f"{today.isoformat()}); record the meeting once it has taken place.")
    try:
        nominated = _dt.date.fromisoformat(o.nominated_on) if o.nominated_on else None
    except ValueError:
        nominated = None  # an old entry's unreadable date: the form names it on reprint
    if nominated is not None and day < nominated:
        raise Refusal(
            f"Rule: the verification meeting follows the nomination; the verification date "
            f"({meeting}) of {o.officer_id} is before the nomination date ({o.nominated_on}).")


def record_verification(o: Officer, v: Verification, policy: Policy, *,
                        today: _dt.date | None) -> Officer:
    if o.status is OfficerStatus.REVOKED:
        raise Refusal(f"{o.officer_id} is revoked; a revoked officer cannot be verified.")
    if o.status not in (OfficerStatus.NOMINATED, OfficerStatus.VERIFIED):
        raise Refusal(
            f"Rule: the verification meeting follows the nomination; {o.officer_id} is "
            f"{o.status.value}."
        )
    check_verification_dates(o, v.date, today)
    if not v.verifier.strip():
        raise InputError("verifier: name the person who ran the verification meeting.")
    if v.outcome not in ("passed", "failed"):
        raise InputError(f"outcome: {v.outcome!r} is not 'passed' or 'failed'.")
    if v.outcome == "passed":
        missing = [e for e in policy.gpg45_level3_required if e not in v.evidence]
        if missing:
            raise Refusal(
                "Rule: a verification meeting passes only with GPG45 Level 3 evidence; missing: "
                + ", ".join(missing) + "."
            )
    status = OfficerStatus.VERIFIED if v.outcome == "passed" else OfficerStatus.NOMINATED
    return replace(o, verification=v, status=status)


def activate(o: Officer, at: str) -> Officer:
    if o.status is OfficerStatus.REVOKED:
        raise Refusal(f"{o.officer_id} is revoked; a revoked officer cannot be activated.")
    if not o.verified:
        raise Refusal(
            f"Rule: a person with no completed verification meeting cannot be activated; "
            f"{o.name} ({o.officer_id}) is {o.status.value} with no passed verification."
        )
    if o.status is OfficerStatus.ACTIVE:
        raise Refusal(f"{o.officer_id} is already active.")
    if o.status is OfficerStatus.VERIFIED and o.verification is not None:
        _check_recorded_dates(o, at)
    # reinstating a suspended officer lifts the suspension flags on their credentials
    creds = tuple(replace(c, flagged="") if c.flagged.startswith("suspended") else c
                  for c in o.credentials)
    return replace(o, status=OfficerStatus.ACTIVE, activated_at=at, status_reason="",
                   status_changed_at=at, credentials=creds)


def _check_recorded_dates(o: Officer, at: str) -> None:
    """A first activation rests on the verification meeting: an entry whose recorded meeting
    date is before its nomination date, in the future, or not a date (a register written
    before the meeting's date was checked) is not activated until the meeting is recorded
    again with its true date."""
    assert o.verification is not None
    try:
        today: _dt.date | None = _dt.datetime.fromisoformat(at).date()
    except ValueError:
        today = None
    try:
        check_verification_dates(o, o.verification.date, today)
    except (InputError, Refusal) as exc:
        raise Refusal(
            f"{o.name} ({o.officer_id}) cannot be activated: the recorded dates are "
            f"inconsistent: {exc.message.rstrip('.')}. Record the verification meeting again "
            "with the date it took place (on or after the nomination date), then activate.",
            hint="officer.verify") from None


def suspend(o: Officer, reason: str, at: str) -> Officer:
    if not reason.strip():
        raise InputError("reason: say why the officer is suspended.")
    if o.status in (OfficerStatus.REVOKED, OfficerStatus.SUSPENDED):
        raise Refusal(f"{o.officer_id} is already {o.status.value}.")
    flagged = tuple(replace(c, flagged=f"suspended: {reason}") for c in o.credentials)
    return replace(o, status=OfficerStatus.SUSPENDED, status_reason=reason,
                   status_changed_at=at, credentials=flagged)


def revoke(o: Officer, reason: str, at: str) -> Officer:
    if not reason.strip():
        raise InputError("reason: say why the officer is revoked (e.g. leaver).")
    if o.status is OfficerStatus.REVOKED:
        raise Refusal(f"{o.officer_id} is already revoked.")
    flagged = tuple(replace(c, flagged=f"revoked: {reason}") for c in o.credentials)
    return replace(o, status=OfficerStatus.REVOKED, status_reason=reason,
                   status_changed_at=at, credentials=flagged)


# -- warnings -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Warning:
    code: str  # cover | screening | dormant | suspended-nominator
    message: str
    officer_id: str = ""


def register_warnings(officers: Sequence[Officer], env: Environment, today: _dt.date,
                      policy: Policy) -> list[Warning]:
    out: list[Warning] = []
    mine = [o for o in officers if o.environment is env]
    for role in OfficerRole:
        active = [o for o in mine if o.role is role and o.status is OfficerStatus.ACTIVE]
        if len(active) < policy.min_cover:
            have = (f"No active {role.label} in {env.label}" if not active else
                    f"Only {len(active)} active {role.label}{'s' if len(active) != 1 else ''} "
                    f"in {env.label}")
            out.append(Warning(
                "cover",
                f"{have}: nominate at least {policy.min_cover} for cover (leave, sickness).",
            ))
    for o in mine:
        if o.status is OfficerStatus.REVOKED:
            continue
        if o.role is OfficerRole.ARO:
            if not o.screening_date:
                out.append(Warning("screening", f"{o.name} ({o.officer_id}): no BS 7858 "
                                   "screening recorded.", o.officer_id))
            else:
                try:
                    age = (today - _dt.date.fromisoformat(o.screening_date)).days
                except ValueError:
                    age = None
                if age is None:
                    out.append(Warning("screening", f"{o.name} ({o.officer_id}): screening "
                                       f"date {o.screening_date!r} is not a date.",
                                       o.officer_id))
                elif age > policy.screening_max_age_days:
                    out.append(Warning(
                        "screening",
                        f"{o.name} ({o.officer_id}): BS 7858 screening is {age} days old "
                        f"(policy: {policy.screening_max_age_days}); renew it.", o.officer_id))
        if o.status is not OfficerStatus.ACTIVE:
            continue
        for c in o.credentials:
            last = c.last_used or c.created
            try:
                last_day = _dt.datetime.fromisoformat(last).date()
            except ValueError:
                continue
            idle = (today - last_day).days
            if idle > policy.dormant_after_days:
                what = "never used" if not c.last_used else f"last used {last_day.isoformat()}"
                out.append(Warning(
                    "dormant",
                    f"{o.name} ({o.officer_id}): credential {c.label or c.key_id[:16]} is "
                    f"dormant ({what}, {idle} days); use it or revoke it.", o.officer_id))
    return out
