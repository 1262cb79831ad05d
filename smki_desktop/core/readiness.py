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
    next_step: str  # empty when ok


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
    # the commands in the hints name the environment: in Live, a bare `smki ...` records into
    # Test (the default)
    smki = "smki --env live" if env is Environment.LIVE else "smki"
    ov = facts.org_verified
    items.append(Item(
        "org-verified", "Organisation identity verified", ov is not None,
        f"verified {ov.date}" + (f" (ref {ov.reference})" if ov and ov.reference else "")
        if ov else "not recorded",
        "" if ov else "Complete the DCC's organisation identity verification, then record it: "
        f"{smki} readiness set --org-verified DATE",
    ))
    sros = _active(officers, env, OfficerRole.SRO)
    items.append(Item(
        "sro-active", "At least one SRO active", bool(sros),
        ", ".join(o.name for o in sros) if sros else "no active SRO",
        "" if sros else f"Nominate an SRO (Officers > New nomination, or {smki} officer "
        "nominate --form sro), hold the verification meeting, then activate them.",
    ))
    aros = _active(officers, env, OfficerRole.ARO)
    items.append(Item(
        "aro-active", "At least one ARO active", bool(aros),
        ", ".join(o.name for o in aros) if aros else "no active ARO",
        "" if aros else f"An active SRO nominates an ARO ({smki} officer nominate --form aro); "
        "verify and activate them.",
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
            "credentials: link a Test key or token to each in the officer register "
            f"({smki} officer link-key ID KEY).",
        ))
    sr = facts.srept.get(cert_type)
    items.append(Item(
        "srept", f"SREPT passed for {cert_type.label} certificates", sr is not None,
        f"passed {sr.date}" + (f" (ref {sr.reference})" if sr and sr.reference else "")
        if sr else "not recorded",
        "" if sr else f"Pass the SMKI and Repository Entry Process Tests for {cert_type.label} "
        f"certificates, then record it: {smki} readiness set --type {cert_type.value} "
        "--srept-passed DATE --ref REF",
    ))
    return Checklist(cert_type, env, tuple(items))


def all_checklists(env: Environment, facts: ReadinessFacts,
                   officers: Sequence[Officer]) -> list[Checklist]:
    return [checklist(t, env, facts, officers) for t in CertType]
