"""`smki repo search|crl`: the SMKI Repository (API key authenticated)."""

from __future__ import annotations

import argparse

from smki_desktop.cli.main import CliApp
from smki_desktop.services import repository


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("repo", help="search the SMKI Repository, fetch the Organisation CRL")
    ps = p.add_subparsers(dest="repo_cmd", metavar="ACTION")
    ps.required = True
    s = ps.add_parser("search", help="by subject EUI (+ role), device EUI or serial")
    s.add_argument("--eui", help="subject EUI-64 of Organisation certificates")
    s.add_argument("--role", help="role name or OU code (with --eui)")
    s.add_argument("--device", help="device EUI-64 (Device certificates)")
    s.add_argument("--serial", help="certificate serial (hex)")
    s.add_argument("--pem", action="store_true", help="print the certificates too")
    s.set_defaults(handler=run_search)
    c = ps.add_parser("crl", help="download the Organisation CRL and verify its signature")
    c.set_defaults(handler=run_crl)


def run_search(args: argparse.Namespace, app: CliApp) -> int:
    res = repository.search(app.context(), subject_eui=args.eui, role=args.role,
                            device_eui=args.device, serial=args.serial)
    data = res.as_dict()
    for w in res.warnings:
        app.warn(w)
    lines = [f"{len(res.entries)} certificate(s)"]
    for d in data["results"]:
        who = d["subject_eui"] or d["device_eui"] or "-"
        lines.append(f"  {d['serial']}  {d['status_text']:<10} role {d['role'] or '-':<3} "
                     f"{d['usage'] or '-':<3} {who}  until {d['not_after'][:10]}")
        if args.pem:
            lines.append(d["pem"])
    app.emit(data, "\n".join(lines))
    return 0


def run_crl(args: argparse.Namespace, app: CliApp) -> int:
    res = repository.fetch_crl(app.context())
    app.emit(res.as_dict(), f"CRL from {res.issuer}: signature verified by {res.verified_by}; "
                            f"{len(res.revoked_serials)} revoked; next update "
                            f"{res.next_update:%Y-%m-%d %H:%M} UTC; saved to {res.path}"
             if res.next_update else f"CRL saved to {res.path}")
    return 0
