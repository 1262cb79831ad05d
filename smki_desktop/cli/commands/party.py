"""`smki party set|show` and `smki profile set|show`: who the installation acts for, and who
uses it."""

from __future__ import annotations

import argparse

from smki_desktop.cli.hints import cli_hint
from smki_desktop.cli.main import CliApp
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import OfficerProfile, OfficerRole, PartyProfile, PartyType
from smki_desktop.services import party as party_service


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("party", help="the Party profile (organisation, Party ID, EUI-64 ranges)")
    ps = p.add_subparsers(dest="party_cmd", metavar="ACTION")
    ps.required = True
    s = ps.add_parser("set", help="set the Party profile")
    s.add_argument("--name", required=True, help="organisation name")
    s.add_argument("--party-id", required=True)
    s.add_argument("--party-type", required=True,
                   help="one of: " + ", ".join(t.value for t in PartyType))
    s.add_argument("--eui-range", action="append", required=True, metavar="FIRST..LAST",
                   help="an allocated EUI-64 range (repeat for several)")
    s.add_argument("--device-range", action="append", default=[], metavar="FIRST..LAST",
                   help="an allowed device ID range (optional; device IDs come from manufacturers)")
    s.add_argument("--signifier", default="")
    s.set_defaults(handler=run_party_set)
    sh = ps.add_parser("show", help="show the Party profile")
    sh.set_defaults(handler=run_party_show)

    o = sub.add_parser("profile", help="the local officer profile (who uses this installation)")
    os_ = o.add_subparsers(dest="profile_cmd", metavar="ACTION")
    os_.required = True
    s = os_.add_parser("set", help="set who is using this installation")
    s.add_argument("--name", required=True)
    s.add_argument("--role", required=True, help="aro or sro")
    s.add_argument("--email", default="")
    s.set_defaults(handler=run_profile_set)
    sh = os_.add_parser("show", help="show the local officer profile")
    sh.set_defaults(handler=run_profile_show)


def run_party_set(args: argparse.Namespace, app: CliApp) -> int:
    profile = PartyProfile(
        name=args.name, party_id=args.party_id, party_type=PartyType.parse(args.party_type),
        eui_ranges=tuple(EuiRange.parse(r, "--eui-range") for r in args.eui_range),
        signifier=args.signifier,
        device_ranges=tuple(EuiRange.parse(r, "--device-range") for r in args.device_range),
    )
    ctx = app.context()
    party_service.set_party(ctx, profile)
    app.emit({"environment": ctx.env.value, "party": profile.to_dict()},
             f"Party profile saved ({ctx.env.label}).")
    return 0


def _party_text(d: dict[str, object], env: str) -> str:
    lines = [f"Environment:   {env}"]
    for key, label in [("name", "Organisation"), ("party_id", "Party ID"),
                       ("party_type", "Party type"), ("signifier", "Signifier")]:
        lines.append(f"{label + ':':<15}{d.get(key) or '-'}")
    for r in d.get("eui_ranges", []):  # type: ignore[attr-defined]
        lines.append(f"EUI-64 range:  {r}")
    for r in d.get("device_ranges", []):  # type: ignore[attr-defined]
        lines.append(f"Device range:  {r}")
    return "\n".join(lines)


def run_party_show(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    party = ctx.party()
    missing = [f"{s.text}: `{cli_hint(s.hint, ctx.env)}`"
               for s in party_service.missing_setup_steps(ctx)]
    problem = party_service.keyring_problem(ctx)
    if problem:
        missing.insert(0, problem)
    if party is None:
        app.emit({"environment": ctx.env.value, "party": None, "missing": missing},
                 f"No Party profile in the {ctx.env.label} environment yet: `smki party set`.")
        return 1
    app.emit({"environment": ctx.env.value, "party": party.to_dict(), "missing": missing},
             _party_text(party.to_dict(), ctx.env.label))
    return 0


def run_profile_set(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    current = ctx.officer()
    profile = OfficerProfile(name=args.name, role=OfficerRole.parse(args.role), email=args.email,
                             register_id=current.register_id if current else "")
    party_service.set_officer(ctx, profile)
    app.emit({"environment": ctx.env.value, "profile": profile.to_dict()},
             f"Officer profile saved: {profile.actor} ({ctx.env.label}).")
    return 0


def run_profile_show(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    officer = ctx.officer()
    if officer is None:
        app.emit({"environment": ctx.env.value, "profile": None},
                 f"No officer profile in the {ctx.env.label} environment yet: `smki profile set`.")
        return 1
    from smki_desktop.services.officers import find_officer

    d = officer.to_dict()
    entry = find_officer(ctx, officer.register_id) if officer.register_id else None
    register = ({"officer_id": entry.officer_id, "name": entry.name, "role": entry.role.value,
                 "status": entry.status.value} if entry else None)
    if entry is not None:
        link = (f"{entry.officer_id} ({entry.name}, {entry.status.value} "
                f"{entry.role.label})")
    elif officer.register_id:
        link = f"{officer.register_id} (not in the {ctx.env.label} officer register)"
    else:
        link = "not linked (`smki officer link-profile ID`)"
    app.emit({"environment": ctx.env.value, "profile": d, "register": register},
             f"Environment: {ctx.env.label}\nName:  {d['name']}\nRole:  {d['role'].upper()}\n"
             f"Email: {d['email'] or '-'}\nRegister entry: {link}")
    return 0
