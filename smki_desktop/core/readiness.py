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


def checklist(cert_type: CertType, env: Environment, facts: ReadinessFacts,
              officers: Sequence[Officer]) -> Checklist:
    items: list[Item] = []
    ov = facts.org_verified
    items.append(Item(
        "org-verified", "Organisation identity verified", ov is not None,
        f"verified {ov.date}" + (f" (ref {ov.reference})" if ov and ov.reference else "")
        if ov else "not recorded",
        "" if ov else "Complete the DCC's organisation identity verification, then record "
        "the date.", "" if ov else "readiness.org-verified",
    ))
    sros = _active(officers, env, OfficerRole.SRO)
    items.append(Item(
        "sro-active", "At least one SRO active", bool(sros),
        ", ".join(o.name for o in sros) if sros else "no active SRO",
        "" if sros else "Nominate an SRO, hold the verification meeting, then activate "
        "them.", "" if sros else "officer.nominate.sro",
    ))
    aros = _active(officers, env, OfficerRole.ARO)
    items.append(Item(
        "aro-active", "At least one ARO active", bool(aros),
        ", ".join(o.name for o in aros) if aros else "no active ARO",
        "" if aros else "An active SRO nominates an ARO; verify and activate them.",
        "" if aros else "officer.nominate.aro",
    ))
    if env is Environment.TEST:
        sro_cred = [o for o in sros if any(not c.flagged for c in o.credentials)]
        aro_cred = [o for o in aros if any(not c.flagged for c in o.credentials)]
        ok = bool(sro_cred) and bool(aro_cred)
        missing = [r for r, lst in (("SRO", sro_cred), ("ARO", aro_cred)) if not lst]
        items.append(Item(
            "test-officers", "Test SRO and test ARO holding test credentials", ok,
            "present" if ok else "missing: test " + " and test ".join(missing)
            + " holding test credentials",
            "" if ok else "SREPT needs at least one test SRO and one test ARO holding test "
            "credentials: link a Test key or token to each in the officer register.",
            "" if ok else "officer.link-key",
        ))
    sr = facts.srept.get(cert_type)
    items.append(Item(
        "srept", f"SREPT passed for {cert_type.label} certificates", sr is not None,
        f"passed {sr.date}" + (f" (ref {sr.reference})" if sr and sr.reference else "")
        if sr else "not recorded",
        "" if sr else f"Pass the SMKI and Repository Entry Process Tests for {cert_type.label} "
        "certificates, then record the date and the DCC's reference.",
        "" if sr else "readiness.srept",
    ))
    return Checklist(cert_type, env, tuple(items))


def all_checklists(env: Environment, facts: ReadinessFacts,
                   officers: Sequence[Officer]) -> list[Checklist]:
    return [checklist(t, env, facts, officers) for t in CertType]
