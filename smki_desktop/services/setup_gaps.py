"""What the Dashboard's set-up summary must also know before it may say that the basics are in
place: whether this workstation's user is an active officer in the register, holds a usable
file-signing credential, and (Live) has the DCC's portal endpoint set. Read-only; a job (the
register's modules load X.509, so the Dashboard asks after its first paint)."""

from __future__ import annotations

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import SmkiError
from smki_desktop.core.officers import OfficerStatus
from smki_desktop.services import identity, officers
from smki_desktop.services.context import AppContext
from smki_desktop.services.endpoint_record import configured_endpoint
from smki_desktop.services.standing import status_phrase


def working_gaps(ctx: AppContext) -> list[tuple[str, str]]:
    """(what is missing, where to do it: a hint key) beyond the profiles and keys that
    `party.missing_setup_steps` names. Face-neutral words."""
    gaps: list[tuple[str, str]] = []
    if ctx.officer() is not None:
        linked = officers.profile_officer(ctx)
        if linked is None:
            gaps.append(("You are not linked to an entry in the officer register: your "
                         "claimed role grants nothing", "officer.link-profile"))
        elif linked.status is not OfficerStatus.ACTIVE:
            gaps.append((f"Your register entry {linked.officer_id} is "
                         f"{status_phrase(linked)}: you are not an active officer",
                         "officer.activate"))
        if linked is None or not identity.usable_keys(ctx, linked):
            gaps.append(("No usable file-signing credential of yours here: you cannot sign "
                         "approvals, requests or files", "credential.request.file-signing"))
    if ctx.env is Environment.LIVE:
        try:
            rec = configured_endpoint(ctx)
        except SmkiError:
            rec = None
        if rec is None or rec.source != "configured":
            gaps.append(("No DCC portal endpoint is set for the Live environment",
                         "portal.endpoint"))
    return gaps
