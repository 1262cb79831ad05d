"""The "New Organisation key and CSR" wizard as a pure state machine (the GUI only draws it):
role (only those the party type may use) and usage, EUI (pre-filled from the party range,
validated as typed) and optional CN, key location, then review."""

from __future__ import annotations

from dataclasses import dataclass, field

from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64, EuiRange
from smki_desktop.core.keys import KeyLocation, KeyUsage
from smki_desktop.core.profiles import SmkiProfile
from smki_desktop.core.roles import RemotePartyRole

STEPS = ("request", "identity", "key", "review")


@dataclass
class OrgCsrWizardState:
    profile: SmkiProfile
    party_type: str | None = None
    eui_ranges: list[EuiRange] = field(default_factory=list)
    step: int = 0
    role: RemotePartyRole | None = None
    usage: KeyUsage | None = None
    eui_text: str = ""
    cn: str = ""
    location: KeyLocation = KeyLocation.OS_KEYRING
    allowed: list[RemotePartyRole] | None = None  # the roles to offer (None: by party type)
    preselect: bool = True  # Live: no role is chosen for the officer (never a root default)

    def __post_init__(self) -> None:
        if not self.eui_text and self.eui_ranges:
            self.eui_text = str(self.eui_ranges[0].first)
        roles = self.roles()
        if self.role is None and roles and self.preselect:
            self.role = roles[0]
        if self.usage is None:
            usages = self.usages()
            self.usage = usages[0] if usages else None

    @property
    def name(self) -> str:
        return STEPS[self.step]

    def roles(self) -> list[RemotePartyRole]:
        if self.allowed is not None:
            return list(self.allowed)
        return self.profile.allowed_roles(self.party_type)

    def usages(self) -> list[KeyUsage]:
        return self.profile.allowed_usages(self.party_type, self.role) if self.role else []

    def set_role(self, role: RemotePartyRole | None) -> None:
        if role is not None and role not in self.roles():
            raise InputError(f"Role {role.name_text} ({role.ou}) is not one your Party may "
                             "hold.")
        self.role = role
        if self.usage not in self.usages():
            usages = self.usages()
            self.usage = usages[0] if usages else None

    def eui_problem(self) -> str | None:
        """A message for the EUI as typed, or None when it is good."""
        try:
            eui = Eui64.parse(self.eui_text, "EUI")
        except InputError as exc:
            return exc.message
        if self.eui_ranges and not any(eui in r for r in self.eui_ranges):
            return f"EUI {eui} is outside your range " + ", ".join(map(str, self.eui_ranges))
        return None

    def cn_problem(self) -> str | None:
        cn = self.cn.strip()
        if not cn:
            return None
        if self.role is not None and not self.profile.cn_allowed(self.role):
            return f"CN: not allowed for role {self.role.name_text}"
        if len(cn.encode()) > self.profile.cn_max_length:
            return f"CN: longer than {self.profile.cn_max_length} octets"
        return None

    def problem(self) -> str | None:
        """Why the current step cannot advance."""
        if self.name == "request":
            if self.role is None or self.usage is None:
                return "Choose a role and a usage."
            if self.role not in self.roles():
                return f"Role {self.role.name_text} is not one your Party may hold."
        elif self.name == "identity":
            return self.eui_problem() or self.cn_problem()
        return None

    def next(self) -> None:
        problem = self.problem()
        if problem:
            raise InputError(problem)
        if self.step < len(STEPS) - 1:
            self.step += 1

    def back(self) -> None:
        if self.step > 0:
            self.step -= 1

    @property
    def eui(self) -> Eui64:
        return Eui64.parse(self.eui_text, "EUI")
