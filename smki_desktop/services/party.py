"""Set and read the Party profile and the local officer profile."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smki_desktop.core.party import OfficerProfile, PartyProfile
from smki_desktop.services.context import AppContext

if TYPE_CHECKING:  # (core.audit is loaded when a record is written)
    from smki_desktop.core.audit import AuditEntry


@dataclass(frozen=True)
class Saved:
    value: PartyProfile | OfficerProfile
    audit: AuditEntry


def _save(ctx: AppContext, table: str, action: str,
          profile: PartyProfile | OfficerProfile,
          before: PartyProfile | OfficerProfile | None) -> Saved:
    data = json.dumps(profile.to_dict(), sort_keys=True)
    with ctx.db.transaction() as c:
        c.execute(
            f"INSERT INTO {table}(id, environment, data, updated) VALUES(1, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data=excluded.data, updated=excluded.updated",
            (ctx.env.value, data, ctx.clock.now().isoformat()),
        )
    entry = ctx.audit.record(
        action, {"profile": profile.to_dict(), "previous": before.to_dict() if before else None}
    )
    return Saved(profile, entry)


def set_party(ctx: AppContext, profile: PartyProfile) -> Saved:
    profile.check_new()
    return _save(ctx, "party_profile", "party.set", profile, ctx.party())


def set_officer(ctx: AppContext, profile: OfficerProfile) -> Saved:
    return _save(ctx, "officer_profile", "profile.set", profile, ctx.officer())


def keyring_problem(ctx: AppContext) -> str | None:
    """Why the OS keyring cannot hold keys now (unavailable or locked), or None when it can.
    Talks to the Secret Service: call it off the GUI thread."""
    from smki_desktop.keystores.errors import KeyringLocked, KeyringUnavailable

    try:
        ctx.keystore.secrets.get_optional("availability-check")
    except (KeyringUnavailable, KeyringLocked) as exc:
        return exc.message
    return None


def missing_setup(ctx: AppContext) -> list[str]:
    """What is not set up yet, in the words the Dashboard and `smki party show` use."""
    out = []
    if ctx.party() is None:
        out.append("Party profile (organisation, Party ID, EUI-64 range): Dashboard > Edit "
                   "Party profile, or `smki party set`")
    if ctx.officer() is None:
        out.append("Your officer profile (name, ARO or SRO): Dashboard > Edit your profile, or "
                   "`smki profile set`")
    if not ctx.keystore.list_keys():
        out.append("No keys yet: Keys > Generate key, or `smki key generate`")
    return out
