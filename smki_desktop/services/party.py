"""Set and read the Party profile (in the store, shared by a team) and the officer profile
(always in this workstation's own database: each workstation of a team has its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smki_desktop.core.party import OfficerProfile, PartyProfile
from smki_desktop.core.plain_text import bad_char_words, visible
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos import settings as settings_repo

if TYPE_CHECKING:  # (core.audit is loaded when a record is written)
    from smki_desktop.core.audit import AuditEntry


@dataclass(frozen=True)
class Saved:
    value: PartyProfile | OfficerProfile
    audit: AuditEntry


def _save(ctx: AppContext, kind: str, action: str,
          profile: PartyProfile | OfficerProfile,
          before: PartyProfile | OfficerProfile | None) -> Saved:
    # the officer profile (who is at this workstation, and their register entry) stays on
    # the workstation; the Party profile is the store's (shared by a team)
    db = ctx.local_db(create=True) if kind == "officer" else ctx.db
    assert db is not None
    with ctx.audit.change():
        settings_repo.save_profile(db, kind, ctx.env.value, profile.to_dict(),
                                   ctx.clock.now().isoformat())
        entry = ctx.audit.record(
            action, {"profile": profile.to_dict(), "previous": before.to_dict() if before else None}
        )
    return Saved(profile, entry)


def set_party(ctx: AppContext, profile: PartyProfile) -> Saved:
    profile.check_new()
    return _save(ctx, "party", "party.set", profile, ctx.party())


def set_officer(ctx: AppContext, profile: OfficerProfile) -> Saved:
    profile.check_new()
    return _save(ctx, "officer", "profile.set", profile, ctx.officer())


def keyring_problem(ctx: AppContext) -> str | None:
    """Why the OS keyring cannot hold keys now (unavailable or locked), or None when it can.
    Talks to the Secret Service: call it off the GUI thread."""
    from smki_desktop.keystores.errors import KeyringLocked, KeyringUnavailable

    try:
        ctx.keystore.secrets.get_optional("availability-check")
    except (KeyringUnavailable, KeyringLocked) as exc:
        return exc.message
    return None


@dataclass(frozen=True)
class SetupStep:
    """Something not set up yet: face-neutral words, and the hint key each face maps to where
    it is done (`gui/hints.py`, `cli/hints.py`)."""

    text: str
    hint: str


def _stored_not_plain(data: dict[str, Any] | None,
                      fields: tuple[tuple[str, str], ...]) -> list[str]:
    """The fields of a stored profile that hold a refused character, in words."""
    found = []
    for key, what in fields:
        value = (data or {}).get(key)
        bad = bad_char_words(value) if isinstance(value, str) else None
        if bad and isinstance(value, str):
            found.append(f"{what} holds {bad} (shown as {visible(value)!r})")
    return found


def missing_setup_steps(ctx: AppContext) -> list[SetupStep]:
    """What is not set up yet, or must be set again: a profile saved before the plain-text
    rule whose text holds control or format characters (read and shown with them named,
    `PartyProfile.from_dict`; saved again, it is plain)."""
    out = []
    party = settings_repo.profile(ctx.db, "party")  # (what ctx.party() reads)
    if party is None:
        out.append(SetupStep("Party profile (organisation, Party ID, EUI-64 range)",
                             "party.set"))
    if ctx.officer() is None:
        out.append(SetupStep("Your officer profile (name, ARO or SRO)", "profile.set"))
    local = ctx.local_db()
    for found, what, hint in (
            (_stored_not_plain(party,
                               (("name", "the organisation name"),
                                ("signifier", "the Signifier"))), "Party profile", "party.set"),
            (_stored_not_plain(settings_repo.profile(local, "officer") if local else None,
                               (("name", "the name"), ("email", "the email"))),
             "Your officer profile", "profile.set")):
        if found:
            out.append(SetupStep(f"{what}: {'; '.join(found)}; save it again as one line of "
                                 "plain text", hint))
    if not ctx.keystore.list_keys():
        out.append(SetupStep("No keys yet", "key.generate"))
    return out
