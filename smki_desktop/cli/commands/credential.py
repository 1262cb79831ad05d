"""`smki credential request|import|list`: the web-service client credential and an ARO's
file-signing credential."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.core.errors import InputError
from smki_desktop.services import credentials
from smki_desktop.services.credential_vouch import listing_problem


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("credential", help="credentials the DCC issues to this installation")
    ps = p.add_subparsers(dest="credential_cmd", metavar="ACTION")
    ps.required = True
    r = ps.add_parser("request", help="make the key (unless --key) and the CSR; in Test the "
                                      "simulator issues at once, in Live the CSR is written")
    r.add_argument("--purpose", required=True, choices=list(credentials.PURPOSES))
    r.add_argument("--key", help="an existing key (id or prefix) of the right usage")
    r.add_argument("--organisation", help="trading name (default: the Party profile's name)")
    r.add_argument("--role", help="role code OU for web-service (default from the Party type)")
    r.add_argument("--system-name", help="unique system name CN for web-service")
    r.add_argument("--name", help="the ARO's name CN for file-signing (default: officer)")
    r.add_argument("--officer", help="file-signing: the officer's register id, put in the "
                                     "credential's subject (the DCC issues it to that person)")
    r.add_argument("--out", type=Path, help="folder for the CSR file (Live)")
    r.set_defaults(handler=run_request)
    i = ps.add_parser("import", help="import a credential certificate the DCC issued")
    i.add_argument("file", type=Path)
    i.add_argument("--purpose", choices=list(credentials.PURPOSES))
    i.set_defaults(handler=run_import)
    ls = ps.add_parser("list", help="list this environment's credentials")
    ls.set_defaults(handler=run_list)


def run_request(args: argparse.Namespace, app: CliApp) -> int:
    res = credentials.request_credential(
        app.context(), args.purpose, args.key, organisation=args.organisation, role=args.role,
        system_name=args.system_name, common_name=args.name, out_dir=args.out,
        officer=args.officer)
    if res.credential:
        text = (f"Issued {res.purpose} credential serial {res.credential.serial} for key "
                f"{res.key_id[:16]} (valid to {res.credential.not_after:%Y-%m-%d}).")
    else:
        text = (f"Wrote the {res.purpose} credential CSR for key {res.key_id[:16]} to "
                f"{res.csr_path}: send it to the DCC as RAPP 5.4 asks, then `smki credential "
                "import` the certificate.")
    app.emit(res.as_dict(), text)
    return 0


def run_import(args: argparse.Namespace, app: CliApp) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise InputError(f"Credential file {args.file}: {exc.strerror or exc}.") from None
    cred = credentials.import_credential(app.context(), data, args.purpose)
    app.emit(cred.as_dict(), f"Imported the {cred.purpose} credential serial {cred.serial} for "
                             f"key {cred.key_id[:16]}.")
    return 0


def run_list(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    creds = credentials.list_credentials(ctx)
    now = ctx.clock.now()
    if not creds:
        app.emit({"credentials": []}, f"No credentials in the {ctx.env.label} environment.")
        return 0
    # a row no proven import record vouches for is listed with why it is refused when used
    problems = [listing_problem(ctx, c) for c in creds]
    lines = [f"{c.purpose:<13} {c.serial:<34} key {c.key_id[:16]}  until "
             f"{c.not_after:%Y-%m-%d}{'' if c.valid_at(now) else '  (not valid now)'}  "
             f"{c.subject}" + (f"\n  REFUSED: {why}" if why else "")
             for c, why in zip(creds, problems, strict=True)]
    app.emit({"credentials": [{**c.as_dict(), "problem": why}
                              for c, why in zip(creds, problems, strict=True)]},
             "\n".join(lines))
    return 0
