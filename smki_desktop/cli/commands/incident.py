"""`smki incident open|confirm|rekey|show|list|close`: a suspected key compromise and its
Method 1 recovery (re-key, replacement CSRs, revocation through an SRO's approval)."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.commands.revoke import add_actor
from smki_desktop.cli.main import CliApp
from smki_desktop.services import incidents
from smki_desktop.services.incidents import IncidentView


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("incident", help="key compromise incidents and Method 1 recovery")
    ps = p.add_subparsers(dest="incident_cmd", metavar="ACTION")
    ps.required = True
    o = ps.add_parser("open", help="record a suspected compromise")
    o.add_argument("--when", required=True, help="when it is suspected to have happened (ISO)")
    o.add_argument("--reported-by", required=True)
    o.add_argument("--description", default="")
    o.add_argument("--key", action="append", default=[], help="an affected key (repeat)")
    o.add_argument("--cert", action="append", default=[], help="an affected certificate serial")
    o.set_defaults(handler=run_open)
    c = ps.add_parser("confirm", help="the SRO's signed confirmation (confirmed or "
                                      "not-compromised)")
    c.add_argument("id")
    c.add_argument("--outcome", required=True, choices=["confirmed", "not-compromised"])
    c.add_argument("--note", default="")
    add_actor(c)
    c.set_defaults(handler=run_confirm)
    r = ps.add_parser("rekey", help="new keys and replacement CSRs for every affected "
                                    "certificate, and a revocation request for the old ones")
    r.add_argument("id")
    r.add_argument("--out", required=True, type=Path, help="folder for the replacement CSRs")
    add_actor(r)
    r.set_defaults(handler=run_rekey)
    s = ps.add_parser("show", help="an incident with its checklist and history")
    s.add_argument("id")
    s.set_defaults(handler=run_show)
    ls = ps.add_parser("list", help="this environment's incidents")
    ls.set_defaults(handler=run_list)
    cl = ps.add_parser("close", help="close an incident whose checklist is complete")
    cl.add_argument("id")
    cl.add_argument("--note", default="")
    cl.set_defaults(handler=run_close)


def describe(v: IncidentView) -> str:
    lines = [f"{v.incident_id}  {v.row.state}  reported by {v.row.data.get('reported_by')}  "
             f"suspected {v.row.data.get('suspected_at')}"]
    lines += [f"  [{'x' if i.done else ' '}] {i.text}" for i in v.checklist]
    return "\n".join(lines)


def run_open(args: argparse.Namespace, app: CliApp) -> int:
    v = incidents.open_incident(app.context(), suspected_at=args.when,
                                reported_by=args.reported_by, description=args.description,
                                keys=args.key, certificates=args.cert)
    app.emit(v.as_dict(), describe(v))
    return 0


def run_confirm(args: argparse.Namespace, app: CliApp) -> int:
    v = incidents.confirm(app.context(), args.id, outcome=args.outcome, as_ref=args.as_officer,
                          key_ref=args.key, note=args.note)
    app.emit(v.as_dict(), describe(v))
    return 0


def run_rekey(args: argparse.Namespace, app: CliApp) -> int:
    v = incidents.rekey(app.context(), args.id, as_ref=args.as_officer, key_ref=args.key,
                        out_dir=args.out)
    rk = v.row.data["rekey"]
    text = describe(v) + "\n" + "\n".join(f"  CSR {c['path']} replaces {c['replaces']}"
                                          for c in rk["csrs"])
    text += f"\n  Revocation request {rk['revocation']} waits for an SRO's approval."
    app.emit(v.as_dict(), text)
    return 0


def run_show(args: argparse.Namespace, app: CliApp) -> int:
    v = incidents.view(app.context(), args.id)
    app.emit(v.as_dict(), describe(v))
    return 0


def run_list(args: argparse.Namespace, app: CliApp) -> int:
    views = incidents.list_incidents(app.context())
    app.emit({"incidents": [v.as_dict() for v in views]},
             "\n".join(describe(v) for v in views) or "No incidents.")
    return 0


def run_close(args: argparse.Namespace, app: CliApp) -> int:
    v = incidents.close(app.context(), args.id, note=args.note)
    app.emit(v.as_dict(), describe(v))
    return 0
