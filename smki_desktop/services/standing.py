"""The workstation user's standing as the officer register gives it (never as the local profile
claims it), in the words the Dashboard's officer box and the window's status bar both show.

The profile only names a register entry (`register_id`, else its email finds one); whether that
entry is active, suspended, revoked or not yet active is the register's say, read from its signed
log (`services.officers.profile_officer`). A profile naming an entry the register does not hold
is said to be so, not shown as if the entry backed it. `status_bar_words(ctx)` is a job (no Qt):
it imports the register's modules (X.509) off the GUI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smki_desktop.core.officers import Officer
    from smki_desktop.core.party import OfficerProfile
    from smki_desktop.services.context import AppContext

NO_PROFILE = "no officer profile"


def status_phrase(linked: Officer) -> str:
    """The register entry's standing in a few words: "active", "suspended", "revoked", or
    "not yet active (nominated)" for an entry still on its way to active."""
    from smki_desktop.core.officers import OfficerStatus

    if linked.status in (OfficerStatus.ACTIVE, OfficerStatus.SUSPENDED, OfficerStatus.REVOKED):
        return str(linked.status.value)
    return f"not yet active ({linked.status.value})"


def _unlinked(profile: OfficerProfile) -> str:
    """Why no register entry backs the profile's claimed role."""
    if profile.register_id:
        return f"register entry {profile.register_id} is not in the officer register"
    return "not linked to the officer register"


def officer_standing(profile: OfficerProfile | None, linked: Officer | None) -> str:
    """The Dashboard's sentence: the officer's role as the register confirms it ("ARO, register
    entry ARO-0001 (active)"); "claimed" while no register entry backs it, and the entry's
    standing while it is not active."""
    from smki_desktop.core.officers import OfficerStatus

    if profile is None:
        return ""
    if linked is None:
        return (f"Claimed {profile.role.value.upper()} — {_unlinked(profile)} (the claimed "
                "role grants nothing).")
    entry = f"{linked.role.label}, register entry {linked.officer_id}"
    if linked.status is OfficerStatus.ACTIVE:
        return f"{entry} (active)"
    until = "" if linked.status is OfficerStatus.REVOKED else " until it is active"
    return f"{entry} — {status_phrase(linked)}: the role grants nothing{until}."


def status_words(profile: OfficerProfile | None, linked: Officer | None) -> str:
    """The status bar's words for the same standing, shorter: "Ada Aro (ARO, register entry
    ARO-0001)" only while that entry is active; otherwise the entry's standing or "claimed"."""
    from smki_desktop.core.officers import OfficerStatus

    if profile is None:
        return NO_PROFILE
    if linked is None:
        return f"{profile.name} (claimed {profile.role.value.upper()} — {_unlinked(profile)})"
    entry = f"{linked.role.label}, register entry {linked.officer_id}"
    if linked.status is OfficerStatus.ACTIVE:
        return f"{profile.name} ({entry})"
    return f"{profile.name} ({entry} — {status_phrase(linked)}, the role grants nothing)"


def status_bar_words(ctx: AppContext) -> tuple[OfficerProfile | None, str]:
    """The local profile and the status bar's words for it, the register read afresh (a job)."""
    from smki_desktop.services import officers

    profile = ctx.officer()
    if profile is None:
        return None, NO_PROFILE
    return profile, status_words(profile, officers.profile_officer(ctx))
