"""`smki revoke request|approve|reject|submit|status|export|import|defer`: revocation under dual
control (an ARO's signed request, an SRO's approval, submission to the DCC)."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.core.approvals import REASONS, URGENCIES
from smki_desktop.core.errors import InputError
from smki_desktop.services import revocation
from smki_desktop.services.revocation_state import RequestView, get_view, list_views


def add_actor(p: argparse.ArgumentParser) -> None:
    """`--as OFFICER --key KEY`: who signs (optional where this workstation's user is linked to
    one register entry with one usable key)."""
    p.add_argument("--as", dest="as_officer", metavar="OFFICER",
                   help="the signing officer's register id")
    p.add_argument("--key", dest="key", metavar="KEY",
                   help="their linked key (id or a prefix of 8+ hex digits)")


def add_request_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("serials", nargs="*", metavar="SERIAL", help="certificate serial(s), hex")
    p.add_argument("--issuer", help="issuer name when a serial is ambiguous")
    p.add_argument("--eui", action="append", default=[],
                   help="also every Organisation certificate in use for this subject EUI in "
                        "the SMKI Repository (repeat)")
    p.add_argument("--role", help="with --eui: only this role (name or OU code)")
    p.add_argument("--reason", required=True, choices=list(REASONS))
    p.add_argument("--justification", required=True)
    p.add_argument("--urgency", default="normal", choices=list(URGENCIES))
    add_actor(p)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("revoke", help="revocation requests under dual control (ARO + SRO)")
    ps = p.add_subparsers(dest="revoke_cmd", metavar="ACTION")
    ps.required = True
    r = ps.add_parser("request", help="file a signed revocation request (ARO)")
    add_request_args(r)
    r.set_defaults(handler=run_request)
    a = ps.add_parser("approve", help="approve a waiting request (SRO)")
    a.add_argument("id")
    add_actor(a)
    a.set_defaults(handler=run_approve)
    j = ps.add_parser("reject", help="reject a waiting request (SRO)")
    j.add_argument("id")
    j.add_argument("--reason", required=True)
    add_actor(j)
    j.set_defaults(handler=run_reject)
    s = ps.add_parser("submit", help="send a fully approved request to the DCC")
    s.add_argument("id")
    s.set_defaults(handler=run_submit)
    st = ps.add_parser("status", help="the state of one request, or of all")
    st.add_argument("id", nargs="?")
    st.set_defaults(handler=run_status)
    e = ps.add_parser("export", help="write a request and its signatures to a file")
    e.add_argument("id")
    e.add_argument("--out", required=True, type=Path)
    e.add_argument("--overwrite", action="store_true")
    e.set_defaults(handler=run_export)
    i = ps.add_parser("import", help="take in a request file from another workstation")
    i.add_argument("file", type=Path)
    i.set_defaults(handler=run_import)
    d = ps.add_parser("defer", help="record the SMKI PMA's deferral of a request")
    d.add_argument("id")
    d.add_argument("--reason", required=True)
    d.set_defaults(handler=run_defer)


def describe(v: RequestView) -> str:
    certs = ", ".join(f"{c['serial']} ({c.get('role') or '-'} {c.get('eui') or '-'} "
                      f"{c.get('usage') or '-'})" for c in v.body.get("certificates", []))
    approvals = ", ".join(s.officer_id for s in v.approvals()) or "none"
    text = (f"{v.request_id}  {v.state:<9}  by {v.body.get('requested_by')}  "
            f"{v.body.get('reason')}  approvals: {approvals}  expires "
            f"{v.body.get('expires')}\n    {certs}")
    return text + "".join(f"\n    problem: {p}" for p in v.problems)


def run_request(args: argparse.Namespace, app: CliApp) -> int:
    res = revocation.request(app.context(), args.serials, reason=args.reason,
                             justification=args.justification, as_ref=args.as_officer,
                             key_ref=args.key, issuer=args.issuer, urgency=args.urgency,
                             euis=args.eui, role=args.role)
    app.emit({"id": res.request.request_id, "state": res.request.state},
             res.request.request_id)
    return 0


def run_approve(args: argparse.Namespace, app: CliApp) -> int:
    res = revocation.approve(app.context(), args.id, as_ref=args.as_officer, key_ref=args.key)
    app.emit(res.request.as_dict(), f"{res.request.request_id}: approved by "
                                    f"{', '.join(s.officer_id for s in res.request.approvals())}"
                                    f"; state {res.request.state}.")
    return 0


def run_reject(args: argparse.Namespace, app: CliApp) -> int:
    res = revocation.reject(app.context(), args.id, as_ref=args.as_officer, key_ref=args.key,
                            reason=args.reason)
    app.emit(res.request.as_dict(), f"{res.request.request_id}: rejected ({args.reason}).")
    return 0


def run_submit(args: argparse.Namespace, app: CliApp) -> int:
    res = revocation.submit(app.context(), args.id)
    app.emit(res.request.as_dict(), f"{res.request.request_id}: submitted; the DCC revoked it. "
                                    "`smki portal poll` or `smki repo crl` fetches the CRL.")
    return 0


def run_status(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    if args.id:
        v = get_view(ctx, args.id)
        app.emit(v.as_dict(), describe(v))
        return 0
    views = list_views(ctx)
    app.emit({"requests": [v.as_dict() for v in views]},
             "\n".join(describe(v) for v in views)
             or f"No revocation requests in the {ctx.env.label} environment.")
    return 0


def run_export(args: argparse.Namespace, app: CliApp) -> int:
    path = revocation.export(app.context(), args.id, args.out, overwrite=args.overwrite)
    app.emit({"path": str(path)}, f"Wrote {path}")
    return 0


def run_import(args: argparse.Namespace, app: CliApp) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise InputError(f"{args.file}: cannot read: {exc.strerror or exc}.") from None
    res = revocation.import_bundle(app.context(), data, str(args.file))
    app.emit(res.request.as_dict(), f"Imported {res.request.request_id} ({res.request.state}).")
    return 0


def run_defer(args: argparse.Namespace, app: CliApp) -> int:
    res = revocation.defer(app.context(), args.id, args.reason)
    app.emit(res.request.as_dict(), f"{res.request.request_id}: deferred ({args.reason}).")
    return 0
