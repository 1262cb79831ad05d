"""Authorised Subscriber readiness: a checklist per certificate type (Organisation, Device)
that says what still stands between the organisation and Authorised Subscriber status, and what
to do next for each missing item (smki-reference section 1). Pure.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from smki_desktop.core.environment import Environment
from smki_desktop.core.officers import Officer, OfficerRole, OfficerStatus


class CertType(enum.Enum):
    ORGANISATION = "organisation"
    DEVICE = "device"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class Milestone:
    """A dated event with a reference (organisation identity verified, SREPT passed)."""

    date: str
    reference: str = ""


@dataclass(frozen=True)
class ReadinessFacts:
    org_verified: Milestone | None
    srept: dict[CertType, Milestone]


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    ok: bool
    detail: str
    next_step: str  # empty when ok; face-neutral words
    hint: str = ""  # where it is done: a key each face maps (gui/hints.py, cli/hints.py)


@dataclass(frozen=True)
class Checklist:
    cert_type: CertType
    environment: Environment
    items: tuple[Item, ...]

    @property
    def ready(self) -> bool:
        return all(i.ok for i in self.items)


def _active(officers: Sequence[Officer], env: Environment, role: OfficerRole) -> list[Officer]:
    return [o for o in officers if o.environment is env and o.role is role
            and o.status is OfficerStatus.ACTIVE]


def _recorded(label: str, rec: Milestone | None) -> str:
    """'verified 2026-01-02 (ref X)' / 'not recorded' for a dated record with a reference."""
    if rec is None:
        return "not recorded"
    return f"{label} {rec.date}" + (f" (ref {rec.reference})" if rec.reference else "")


def _item(key: str, title: str, ok: bool, detail: str, fix: str, command: str) -> Item:
    """An item whose fix and command show only while it is not met."""
    return Item(key, title, ok, detail, "" if ok else fix, "" if ok else command)


def _officer_item(key: str, title: str, people: list[Officer], none: str, fix: str,
                  command: str, waiting: Sequence[Officer] = ()) -> Item:
    """`waiting`: officers of the role already nominated or verified, not yet active — the
    next step is theirs (verify, or activate), not a new nomination."""
    if not people and waiting:
        fix, command = _next_for(waiting)
    return _item(key, title, bool(people),
                 ", ".join(o.name for o in people) if people else none, fix, command)


def _waiting(officers: Sequence[Officer], env: Environment, role: OfficerRole) -> list[Officer]:
    return [o for o in officers if o.environment is env and o.role is role
            and o.status in (OfficerStatus.NOMINATED, OfficerStatus.VERIFIED)]


def _named(people: Sequence[Officer]) -> str:
    return ", ".join(f"{o.officer_id} ({o.name})" for o in people)


def _next_for(waiting: Sequence[Officer]) -> tuple[str, str]:
    """What to do for the officers already on the register: verified ones are activated,
    nominated ones verified first."""
    verified = [o for o in waiting if o.status is OfficerStatus.VERIFIED]
    if verified:
        who = verified[0].role
        by = ("on their verification record (an SRO's first activation)"
              if who is OfficerRole.SRO else
              "by an active SRO, signed with the SRO's file-signing credential")
        return (f"{_named(verified)}: verified, not yet active — activate them {by}.",
                "officer.activate")
    return (f"{_named(waiting)}: nominated — hold the verification meeting and record it, "
            "then activate them.", "officer.verify")


def _test_officers_item(sros: list[Officer], aros: list[Officer]) -> Item:
    sro_cred = [o for o in sros if any(not c.flagged for c in o.credentials)]
    aro_cred = [o for o in aros if any(not c.flagged for c in o.credentials)]
    ok = bool(sro_cred) and bool(aro_cred)
    missing = [r for r, lst in (("SRO", sro_cred), ("ARO", aro_cred)) if not lst]
    return _item(
        "test-officers", "Test SRO and test ARO holding test credentials", ok,
        "present" if ok else "missing: test " + " and test ".join(missing)
        + " holding test credentials",
        "SREPT needs at least one test SRO and one test ARO holding test "
        "credentials: link a Test key or token to each in the officer register.",
        "officer.link-key")


def checklist(cert_type: CertType, env: Environment, facts: ReadinessFacts,
              officers: Sequence[Officer]) -> Checklist:
    ov = facts.org_verified
    sros = _active(officers, env, OfficerRole.SRO)
    aros = _active(officers, env, OfficerRole.ARO)
    items = [
        _item("org-verified", "Organisation identity verified", ov is not None,
              _recorded("verified", ov),
              "Complete the DCC's organisation identity verification, then record the date.",
              "readiness.org-verified"),
        _officer_item("sro-active", "At least one SRO active", sros, "no active SRO",
                      "Nominate an SRO, hold the verification meeting, then activate them.",
                      "officer.nominate.sro", _waiting(officers, env, OfficerRole.SRO)),
        _officer_item("aro-active", "At least one ARO active", aros, "no active ARO",
                      "An active SRO nominates an ARO; verify and activate them.",
                      "officer.nominate.aro", _waiting(officers, env, OfficerRole.ARO)),
    ]
    if env is Environment.TEST:
        items.append(_test_officers_item(sros, aros))
    sr = facts.srept.get(cert_type)
    items.append(_item(
        "srept", f"SREPT passed for {cert_type.label} certificates", sr is not None,
        _recorded("passed", sr),
        f"Pass the SMKI and Repository Entry Process Tests for {cert_type.label} "
        "certificates, then record the date and the DCC's reference.", "readiness.srept"))
    return Checklist(cert_type, env, tuple(items))


def all_checklists(env: Environment, facts: ReadinessFacts,
                   officers: Sequence[Officer]) -> list[Checklist]:
    return [checklist(t, env, facts, officers) for t in CertType]
