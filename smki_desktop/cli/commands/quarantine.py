"""`smki quarantine import|action`: read a Quarantined Communications Report, decide process or
delete for each communication, and write (and sign) the Action file."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.services import quarantine as q_service


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("quarantine", help="quarantined communications: report and Action file")
    ps = p.add_subparsers(dest="q_cmd", metavar="ACTION")
    ps.required = True
    i = ps.add_parser("import", help="validate and list a Quarantined Communications Report")
    i.add_argument("--report", type=Path, required=True)
    i.set_defaults(handler=run_import)

    a = ps.add_parser("action", help="write the Action file for a Report (and sign it)")
    a.add_argument("--report", type=Path, required=True)
    a.add_argument("--decisions", type=Path, default=None,
                   help="CSV with header 'Quarantine ID,Action' (PROCESS or DELETE)")
    a.add_argument("--default", default=None, choices=["process", "delete", "PROCESS", "DELETE"],
                   help="the action for communications the decisions do not name")
    a.add_argument("--out", type=Path, required=True)
    a.add_argument("--key", default=None, help="sign with this file-signing key")
    a.add_argument("--as", dest="as_officer", default=None, metavar="OFFICER",
                   help="the signing officer's register id (the key must be linked to them)")
    a.add_argument("--smsr", default=None)
    a.add_argument("--overwrite", action="store_true")
    a.add_argument("--ignore-saved", action="store_true",
                   help="leave out the decisions saved for this Report earlier (the Quarantine "
                        "page's drafts, earlier runs' --decisions): only --decisions and "
                        "--default decide")
    a.set_defaults(handler=run_action)


def run_import(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    rep = q_service.import_report(ctx, args.report)
    for note in rep.drafts_not_used:
        app.warn(f"warning: {note}")
    lines = [f"{it.quarantine_id}  {it.user_id}  {it.user_role}  {it.service_request_type}  "
             f"{it.threshold}  {it.quarantined_at}  {rep.decisions.get(it.quarantine_id, '-')}"
             for it in rep.items]
    app.emit(rep.as_dict(), "\n".join([*lines, f"{len(rep.items)} quarantined "
                                       f"communication(s) in {rep.name}."]))
    return 0


def run_action(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    res = q_service.build_action_file(ctx, args.report, args.out,
                                      decisions_csv=args.decisions, default=args.default,
                                      key_ref=args.key, smsr=args.smsr,
                                      overwrite=args.overwrite, as_ref=args.as_officer,
                                      use_saved=not args.ignore_saved)
    for note in res.drafts_not_used:
        app.warn(f"warning: {note}")
    if res.signed is None:
        app.warn("warning: the Action file is not signed; sign it with "
                 f"`smki adt sign {res.action_file} --kind quarantine-action --key ID`.")
    text = (f"Wrote {res.action_file}: {res.processed} to process, {res.deleted} to delete.\n"
            f"SHA-256 {res.sha256}")
    if res.from_saved:
        text += (f"\n{res.from_saved} decision(s) came from those saved for this Report "
                 "earlier (the Quarantine page's drafts or an earlier --decisions file), not "
                 "from --default; --ignore-saved leaves them out.")
    if res.by_default:
        text += f"\n{res.by_default} decided by --default ({args.default.upper()})."
    if res.drafts_not_used:
        text += (f"\n{len(res.drafts_not_used)} saved decision(s) not used: no audit record "
                 "vouches for them (each named in a warning); --decisions or --default "
                 "decided instead.")
    if res.signed:
        text += f"\nSigned: {res.signed.signature} (manifest {res.signed.manifest.name})"
    app.emit(res.as_dict(), text)
    return 0
