"""`smki key generate|list|show|export-public|backup|restore|share-sheet|relabel|archive|delete`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.core.ceremony import parse_shares_spec
from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import key_backup, key_backup_staging, key_lifecycle
from smki_desktop.services import keys as key_service
from smki_desktop.services.context import AppContext


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("key", help="private keys in the OS keyring or on tokens")
    ks = p.add_subparsers(dest="key_cmd", metavar="ACTION")
    ks.required = True
    g = ks.add_parser("generate", help="make a new key pair (one usage per key)")
    g.add_argument("--usage", required=True, help=", ".join(u.value for u in KeyUsage))
    g.add_argument("--label", required=True)
    g.add_argument("--type", dest="key_type", choices=[t.value for t in KeyType], default=None,
                   help="default: ec-p256 (rsa-2048 for client-auth)")
    g.set_defaults(handler=run_generate)
    lst = ks.add_parser("list", help="list this environment's keys")
    lst.set_defaults(handler=run_list)
    sh = ks.add_parser("show", help="show one key")
    sh.add_argument("key_id")
    sh.set_defaults(handler=run_show)
    e = ks.add_parser("export-public", help="print a key's public key (PEM)")
    e.add_argument("key_id")
    e.set_defaults(handler=run_export_public)
    b = ks.add_parser("backup", help="back up an exportable key: under a passphrase, or split "
                                     "M-of-N into SLIP-39 shares")
    b.add_argument("key_id")
    b.add_argument("--out", required=True, type=Path,
                   help="the backup file (passphrase) or a new folder (--shares)")
    b.add_argument("--shares", metavar="M-of-N", default=None,
                   help="split among N custodians, any M restore (e.g. 3-of-5)")
    b.add_argument("--custodian", action="append", default=None,
                   help="a custodian's name, once per share (default: custodian 1..N)")
    b.set_defaults(handler=run_backup)
    r = ks.add_parser("restore", help="restore a backed-up key into this environment")
    r.add_argument("files", nargs="+", type=Path, metavar="FILE")
    r.add_argument("--shares", action="store_true",
                   help="FILEs are share files (and the .smkikey file)")
    r.set_defaults(handler=run_restore)
    rl = ks.add_parser("relabel", help="give a key a new label (its id never changes)")
    rl.add_argument("key_id")
    rl.add_argument("--label", required=True)
    rl.set_defaults(handler=run_relabel)
    for action, text in (("archive", "keep a key but offer it for no new work"),
                         ("delete", "destroy a key's private key")):
        a = ks.add_parser(action, help=f"{text} (refused while a live certificate uses it)")
        a.add_argument("key_id")
        a.add_argument("--reason", required=True, help="why (recorded in the audit log)")
        a.set_defaults(handler=run_retire, action=action)
    sh = ks.add_parser("share-sheet", help="a printable PDF for one custodian's share")
    sh.add_argument("share", type=Path, help="the custodian's share file")
    sh.add_argument("--out", required=True, type=Path, help="the PDF (never overwritten)")
    sh.set_defaults(handler=run_share_sheet)


def _context(app: CliApp) -> AppContext:
    """The context of every key command, after the hidden files of a key backup killed
    before it finished are removed (audited; said on stderr)."""
    ctx = app.context()
    for said in key_backup_staging.sweep(ctx):
        app.warn(said)
    return ctx


def run_generate(args: argparse.Namespace, app: CliApp) -> int:
    ctx = _context(app)
    usage = KeyUsage.parse(args.usage)
    key_type = KeyType(args.key_type) if args.key_type else None
    result = key_service.generate_key(ctx, usage, args.label, key_type)
    info = result.key
    app.emit(key_service.key_as_dict(info),
             f"{info.key_id}\nGenerated {info.key_type.value} {info.usage.value} key "
             f"'{info.label}' in the {ctx.env.label} environment (OS keyring).")
    return 0


def run_list(args: argparse.Namespace, app: CliApp) -> int:
    ctx = _context(app)
    keys = key_service.list_keys(ctx)
    if app.json:
        app.emit({"environment": ctx.env.value,
                  "keys": [key_service.key_as_dict(k) for k in keys]})
        return 0
    if not keys:
        app.emit(None, f"No keys in the {ctx.env.label} environment.")
        return 0
    # FLAGS: e.g. officer-suspended / officer-revoked (such a key signs nothing)
    flags = [",".join(k.flags) or "-" for k in keys]
    width = max(len("FLAGS"), *(len(f) for f in flags)) + 2
    lines = [f"{'ID':<18}{'TYPE':<10}{'USAGE':<15}{'LOCATION':<12}{'CREATED':<21}"
             f"{'FLAGS':<{width}}LABEL"]
    for k, f in zip(keys, flags, strict=True):
        lines.append(f"{k.short_id:<18}{k.key_type.value:<10}{k.usage.value:<15}"
                     f"{k.location.value:<12}{k.created.strftime('%Y-%m-%d %H:%M'):<21}"
                     f"{f:<{width}}{k.label}")
    app.emit(None, "\n".join(lines))
    return 0


def run_show(args: argparse.Namespace, app: CliApp) -> int:
    ctx = _context(app)
    info = key_service.get_key(ctx, args.key_id)
    d = key_service.key_as_dict(info)
    app.emit(d, "\n".join(f"{k}: {v}" for k, v in d.items()))
    return 0


def run_relabel(args: argparse.Namespace, app: CliApp) -> int:
    ctx = _context(app)
    res = key_lifecycle.relabel_key(ctx, args.key_id, args.label)
    app.emit(res.as_dict(), f"Key {res.key_id[:16]} is now labelled {res.label!r}.")
    return 0


def run_retire(args: argparse.Namespace, app: CliApp) -> int:
    ctx = _context(app)
    fn = key_lifecycle.archive_key if args.action == "archive" else key_lifecycle.delete_key
    res = fn(ctx, args.key_id, args.reason)
    done = "archived" if res.action == "archive" else "deleted"
    text = (f"Key {res.key_id[:16]} {done} in the {ctx.env.label} environment: {res.reason} "
            f"(audit record {res.audit.seq}).")
    if res.warning:  # in the text; on stderr too when stdout is JSON
        text += "\n" + res.warning
        if app.json:
            app.warn(res.warning)
    app.emit(res.as_dict(), text)
    return 0


def run_export_public(args: argparse.Namespace, app: CliApp) -> int:
    ctx = _context(app)
    info = key_service.get_key(ctx, args.key_id)
    pem = key_service.public_pem(info).decode()
    if app.json:
        app.emit({"key_id": info.key_id, "public_key_pem": pem})
    else:
        sys.stdout.write(pem)
    return 0


def run_backup(args: argparse.Namespace, app: CliApp) -> int:
    ctx = _context(app)
    if args.shares:
        t, n = parse_shares_spec(args.shares)
        res = key_backup.backup_with_shares(ctx, args.key_id, args.out, t, n, args.custodian)
        app.warn(res.warning)
        lines = [f"Key {res.key.short_id} ({res.key.label}): encrypted key {res.files[0]}",
                 *[f"  share for custodian: {p}" for p in res.share_files], res.warning]
    else:
        if args.custodian:
            raise InputError("--custodian: only with --shares.")
        res = key_backup.backup_with_passphrase(ctx, args.key_id, args.out)
        lines = [f"Key {res.key.short_id} ({res.key.label}) backed up under a passphrase to "
                 f"{res.files[0]} ({ctx.env.label} environment only)."]
    app.emit(res.as_dict(), "\n".join(lines))
    return 0


def run_restore(args: argparse.Namespace, app: CliApp) -> int:
    ctx = _context(app)
    if args.shares:
        res = key_backup.restore_with_shares(ctx, list(args.files))
    else:
        if len(args.files) != 1:
            raise InputError("restore: give one backup file (or --shares and the share files).")
        res = key_backup.restore_with_passphrase(ctx, args.files[0])
    text = (f"{res.key.key_id}\nRestored key '{res.key.label}' into the {ctx.env.label} "
            f"environment; it matches its public key and {res.certificates_checked} "
            "certificate(s).")
    if res.warning:  # in the text; on stderr too when stdout is JSON
        text += "\n" + res.warning
        if app.json:
            app.warn(res.warning)
    app.emit(res.as_dict(), text)
    return 0


def run_share_sheet(args: argparse.Namespace, app: CliApp) -> int:
    ctx = _context(app)
    out = key_backup.write_share_sheet(ctx, args.share, args.out)
    app.emit({"share": str(args.share), "pdf": str(out)},
             f"Share sheet written to {out}: print it for its custodian, then delete the file.")
    return 0
