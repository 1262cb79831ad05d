"""What the Dashboard shows first, read in one go (no Qt): the Party and officer profiles, what
is not set up yet, and how many keys. The main window's opening job reads it with the context
it opens, so that the first page is filled in without a second trip to the job runner."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.core.party import OfficerProfile, PartyProfile
from smki_desktop.services import keys as key_service
from smki_desktop.services import party as party_service
from smki_desktop.services.context import AppContext


@dataclass(frozen=True)
class Facts:
    """What the Dashboard's boxes show, read in one job."""

    party: PartyProfile | None
    officer: OfficerProfile | None
    todo: list[tuple[str, str]]  # (what is missing, where to do it: a hint key)
    n_keys: int


def dashboard_facts(ctx: AppContext) -> Facts:
    """The profiles, what is not set up yet, and how many keys."""
    return Facts(ctx.party(), ctx.officer(),
                 [(s.text, s.hint) for s in party_service.missing_setup_steps(ctx)],
                 len(key_service.list_keys(ctx)))
