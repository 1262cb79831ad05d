"""`smki csr org|list|export|authorise|keys`: Organisation CSRs exactly to the SMKI profile."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.commands.revoke import add_actor
from smki_desktop.cli.main import CliApp
from smki_desktop.core.errors import InputError
from smki_desktop.services import csr as csr_service
from smki_desktop.services import org_csr_approval


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("csr", help="Organisation certificate signing requests")
    cs = p.add_subparsers(dest="csr_cmd", metavar="ACTION")
    cs.required = True
    o = cs.add_parser("org", help="make an Organisation CSR for a key that has none")
    o.add_argument("--key", required=True, help="key id or unique prefix (8+ hex digits)")
    o.add_argument("--role", required=True, help="role name (supplier) or OU code (02)")
    o.add_argument("--eui", required=True, help="the subject EUI-64, e.g. 90-B3-D5-1F-30-01-00-00")
    o.add_argument("--cn", default=None, help="optional CN, where the profile allows one")
    o.add_argument("--out", required=True, help="output file (never replaced unless --force)")
    o.add_argument("--format", default="pem", choices=csr_service.CSR_FORMATS)
    o.add_argument("--crlf", action="store_true", help="CRLF line endings")
    o.add_argument("--force", "--overwrite", dest="force", action="store_true",
                   help="replace an existing output file")
    o.set_defaults(handler=run_org)
    lst = cs.add_parser("list", help="list Organisation CSRs")
    lst.set_defaults(handler=run_list)
    e = cs.add_parser("export", help="write a CSR made earlier to a file again")
    e.add_argument("csr_id", metavar="ID", type=int, help="the CSR's number (smki csr list)")
    e.add_argument("--out", required=True, help="output file (never replaced unless --force)")
    form = e.add_mutually_exclusive_group()
    form.add_argument("--format", default="pem", choices=csr_service.CSR_FORMATS)
    form.add_argument("--pem", dest="format", action="store_const", const="pem")
    form.add_argument("--der", dest="format", action="store_const", const="der")
    e.add_argument("--crlf", action="store_true", help="CRLF line endings")
    e.add_argument("--force", "--overwrite", dest="force", action="store_true",
                   help="replace an existing output file")
    e.set_defaults(handler=run_export)
    au = cs.add_parser("authorise", help="an SRO's signed authorisation of an Organisation CSR "
                                         "(required before sending where the org-csr rule is "
                                         "on: Live by default)")
    au.add_argument("file", type=Path)
    add_actor(au)
    au.set_defaults(handler=run_authorise)
    k = cs.add_parser("keys", help="keys that may still get a CSR")
    k.set_defaults(handler=run_keys)


def run_org(args: argparse.Namespace, app: CliApp) -> int:
    out = Path(args.out)
    made = csr_service.create_org_csr_file(app.context(), args.key, args.role, args.eui,
                                           args.cn, out, args.format, crlf=args.crlf,
                                           overwrite=args.force).made
    f = made.report.fields
    app.emit({"csr_id": made.csr_id, "path": str(out), "format": args.format,
              "fields": f.to_json()},
             f"Wrote the Organisation CSR {made.csr_id} to {out} ({args.format}"
             f"{', CRLF' if args.crlf else ''}): {f.subject}, {f.usage.value if f.usage else ''}"
             f", key {made.key.short_id}. Profile lint: no findings.")
    return 0


def run_list(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    rows = csr_service.list_csrs(ctx)
    lines = [f"{'ID':<5}{'ROLE':<6}{'EUI':<25}{'USAGE':<15}{'KEY':<18}{'CERT':<16}CN"]
    lines += [f"{r['csr_id']:<5}{r['role']:<6}{r['eui']:<25}{r['usage']:<15}"
              f"{r['key_id'][:16]:<18}{r['certificate'] or '-':<16}{r['cn'] or ''}" for r in rows]
    app.emit({"environment": ctx.env.value, "csrs": rows},
             "\n".join(lines) if rows else f"No CSRs in the {ctx.env.label} environment.")
    return 0


def run_export(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    out = Path(args.out)
    csr_service.export_csr(ctx, args.csr_id, out, args.format, crlf=args.crlf,
                           overwrite=args.force)
    app.emit({"csr_id": args.csr_id, "path": str(out), "format": args.format},
             f"Wrote the CSR {args.csr_id} to {out} ({args.format}"
             f"{', CRLF' if args.crlf else ''}).")
    return 0


def run_keys(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    keys = csr_service.keys_available_for_csr(ctx)
    app.emit({"keys": [{"key_id": k.key_id, "label": k.label, "usage": k.usage.value,
                        "location": k.location.value} for k in keys]},
             "\n".join(f"{k.short_id}  {k.usage.value:<14} {k.location.value:<11} {k.label}"
                       for k in keys) or "No key that may get a CSR (keys with a CSR or a "
                                       "certificate, and archived keys, are not offered): "
                                       "generate one first.")
    return 0


def run_authorise(args: argparse.Namespace, app: CliApp) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise InputError(f"{args.file}: cannot read: {exc.strerror or exc}.") from None
    res = org_csr_approval.authorise(app.context(), data, as_ref=args.as_officer,
                                     key_ref=args.key)
    app.emit(res.as_dict(), f"{res.authorisation_id}: {res.by} authorises the Organisation CSR "
                            f"{res.csr_sha256[:16]}… (until {res.expires}).")
    return 0
