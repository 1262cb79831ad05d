"""`smki token use|keygen|list`: the PKCS#11 token for Organisation keys (PIN asked on the
terminal or read from standard input, never taken from the command line)."""

from __future__ import annotations

import argparse

from smki_desktop.cli.main import CliApp
from smki_desktop.core.keys import KeyUsage
from smki_desktop.services import token as token_service
from smki_desktop.services import token_manager


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("token", help="PKCS#11 hardware token or HSM for keys")
    ts = p.add_subparsers(dest="token_cmd", metavar="ACTION")
    ts.required = True
    u = ts.add_parser("use", help="choose the PKCS#11 module and token label")
    u.add_argument("--module", required=True, help="e.g. /usr/lib/softhsm/libsofthsm2.so")
    u.add_argument("--token", required=True, help="token label")
    u.set_defaults(handler=run_use)
    g = ts.add_parser("keygen", help="generate a non-exportable P-256 key on the token")
    g.add_argument("--usage", required=True, help="signing | key-agreement | file-signing")
    g.add_argument("--label", required=True)
    g.set_defaults(handler=run_keygen)
    lst = ts.add_parser("list", help="list this environment's token keys")
    lst.set_defaults(handler=run_list)
    tk = ts.add_parser("tokens", help="the tokens behind the module, with their PIN state")
    tk.add_argument("--module", default=None, help="default: the module in use")
    tk.set_defaults(handler=run_tokens)
    for action, text in (("test-login", "log in with the PIN and out again"),
                         ("change-pin", "change the token's user PIN")):
        a = ts.add_parser(action, help=text)
        a.add_argument("label", help="token label")
        a.add_argument("--module", default=None, help="default: the module in use")
        a.set_defaults(handler=run_pin_action, action=action)


def run_tokens(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    found = token_manager.list_tokens(ctx, args.module)
    app.emit({"tokens": [t.as_dict() for t in found]},
             "\n".join(f"{t.label:<20} {t.manufacturer} {t.model} serial {t.serial}: "
                       f"{t.pin_state}{' (in use)' if t.in_use else ''}" for t in found)
             or "No token present.")
    return 0


def run_pin_action(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    if args.action == "test-login":
        token_manager.test_login(ctx, args.label, args.module)
        app.emit({"token": args.label, "login": "ok"}, f"PIN accepted by {args.label!r}.")
    else:
        token_manager.change_pin(ctx, args.label, args.module)
        app.emit({"token": args.label, "pin": "changed"}, f"PIN of {args.label!r} changed.")
    return 0


def run_use(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    choice = token_service.use_token(ctx, args.module, args.token)
    app.emit({"module": choice.module, "token": choice.token,
              "description": choice.description},
             f"Keys on token {choice.token!r} ({choice.description or 'PKCS#11'}) via "
             f"{choice.module} ({ctx.env.label}).")
    return 0


def run_keygen(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    info, _, token_label = token_service.generate_token_key(ctx, KeyUsage.parse(args.usage),
                                                            args.label)
    app.emit({"key_id": info.key_id, "usage": info.usage.value, "location": "pkcs11",
              "flags": list(info.flags)},
             f"{info.key_id}\nGenerated a non-exportable P-256 {info.usage.value} key "
             f"'{info.label}' on token {token_label!r}.")
    return 0


def run_list(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    keys = token_service.token_keys(ctx)
    app.emit({"keys": [{"key_id": k.key_id, "label": k.label, "usage": k.usage.value,
                        "location_ref": k.location_ref} for k in keys]},
             "\n".join(f"{k.key_id[:16]}  {k.usage.value:<14} {k.label}" for k in keys)
             or "No token keys.")
    return 0
