"""ADT file profiles: the shipped versions, the active one per kind (a setting), and the
Party's EUI-64 ranges the User IDs are checked against."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.adt import KINDS
from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.errors import InputError, NotFound
from smki_desktop.core.eui import EuiRange
from smki_desktop.resources_path import resource
from smki_desktop.services.adt.common import Written
from smki_desktop.services.context import AppContext


def profile_versions(kind: str) -> list[str]:
    if kind not in KINDS:
        raise InputError(f"Profile kind {kind!r} is not one of {', '.join(KINDS)}.")
    folder = resource("adt", kind)
    versions = [p.stem for p in folder.glob("*.json")]
    return sorted(versions, key=lambda v: (len(v), v))


def load_profile(kind: str = "adt-file", version: str | None = None) -> Profile:
    """A shipped profile; the newest version unless one is named."""
    versions = profile_versions(kind)
    if not versions:
        raise NotFound(f"No {kind} profile is installed under resources/adt/{kind}/.")
    v = version or versions[-1]
    if v not in versions:
        raise NotFound(f"{kind} profile version {v!r} is not installed; have "
                       f"{', '.join(versions)}.")
    path = resource("adt", kind, f"{v}.json")
    prof = Profile.from_json(path.read_bytes(), str(path))
    if prof.kind != kind:
        raise InputError(f"{path}: kind is {prof.kind!r}, expected {kind!r}.")
    return prof


def active_profile(ctx: AppContext, kind: str = "adt-file") -> Profile:
    return load_profile(kind, ctx.setting(f"adt.profile.{kind}"))


def use_profile(ctx: AppContext, kind: str, version: str) -> Written:
    """Make an installed profile version the active one for `kind` (audited)."""
    prof = load_profile(kind, version)
    before = active_profile(ctx, kind).ref
    with ctx.audit.change():  # the setting and its record: one transaction
        ctx.set_setting(f"adt.profile.{kind}", prof.version)
        entry = ctx.audit.record("adt.profile.use", {"kind": kind, "profile": prof.ref,
                                                     "previous": before})
    return Written(Path(""), "", entry)


def party_ranges(ctx: AppContext) -> list[EuiRange] | None:
    party = ctx.party()
    return list(party.eui_ranges) if party else None
