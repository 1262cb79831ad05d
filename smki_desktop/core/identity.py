"""Who an officer is: the rules that tie a signing key to one officer register entry through the
IKI file-signing credential the DCC issued (its subject names the register id), and what that
entry must be to act. Pure: the services read the credential and the register and call these."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, Refusal
from smki_desktop.core.officers import Officer, OfficerRole, OfficerStatus

REGISTER_ID_OID = "2.5.4.5"
"""The subject attribute (serialNumber) that carries the officer's register id in an IKI
file-signing credential issued to a named person."""


@dataclass(frozen=True)
class Signatory:
    """What the register says about the officer behind a verified signature."""

    officer_id: str
    role: OfficerRole
    status: OfficerStatus
    environment: Environment
    party_id: str
    name: str
    email: str

    @classmethod
    def of(cls, o: Officer) -> Signatory:
        return cls(o.officer_id, o.role, o.status, o.environment, o.party_id, o.name, o.email)

    @property
    def label(self) -> str:
        return f"{self.officer_id} ({self.name}, {self.environment.label} {self.role.label})"


def check_credential_names(officer_id: str, register_id_in_subject: str) -> None:
    """A key is linked only to the officer whose register id its credential names."""
    if not register_id_in_subject:
        raise Refusal(
            "Rule: a file-signing credential names its officer's register id in its subject "
            f"(serialNumber); this one names none, so it cannot be linked to {officer_id}. "
            f"Request a file-signing credential for {officer_id}.",
            hint="credential.request.officer")
    if register_id_in_subject.upper() != officer_id.upper():
        raise Refusal(
            f"Rule: a key is linked only to the officer its credential names; this credential "
            f"names {register_id_in_subject}, not {officer_id}.")


def check_may_act(s: Signatory, env: Environment, roles: Iterable[OfficerRole],
                  what: str) -> None:
    """Refuse an officer who is not active, of this environment, in one of `roles`."""
    roles = tuple(roles)
    if s.environment is not env:
        raise EnvironmentMismatch(
            f"Rule: Test and Live officers are separate; {s.officer_id} is a "
            f"{s.environment.label} officer and this is the {env.label} environment.")
    if s.role not in roles:
        need = " or ".join(r.label for r in roles)
        raise Refusal(f"Rule: {what} is done by an {need}; {s.officer_id} ({s.name}) is an "
                      f"{s.role.label} in the register (a profile's claimed role grants "
                      f"nothing).")
    if s.status is not OfficerStatus.ACTIVE:
        then, hint = "", ""
        if s.status is OfficerStatus.VERIFIED:  # what unblocks it
            then = (" Activate the entry first (an SRO's first activation rests on the "
                    "verification record); then sign again." if s.role is OfficerRole.SRO else
                    " An active SRO activates the entry first, signed with the SRO's own "
                    "credential; then sign again.")
            hint = "officer.activate"
        raise Refusal(f"Rule: {what} is done by an active officer; {s.officer_id} ({s.name}) is "
                      f"{s.status.value} in the register.{then}", hint=hint)
