"""`smki expiry [--days N] [--set-window N]`: certificates and credentials expiring soon or
expired. Exit 1 when something has expired, else 0."""

from __future__ import annotations

import argparse

from smki_desktop.cli.main import CliApp
from smki_desktop.services import expiry


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("expiry", help="certificates and credentials expiring soon or expired")
    p.add_argument("--days", type=int, default=None,
                   help="window in days (default: the environment's setting, 90)")
    p.add_argument("--set-window", type=int, default=None, metavar="DAYS",
                   help="store the default window for this environment")
    p.set_defaults(handler=run_expiry)


def run_expiry(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    if args.set_window is not None:
        expiry.set_window_days(ctx, args.set_window)
    rep = expiry.expiry_report(ctx, args.days)
    lines = [f"Expiring within {rep.window_days} days ({ctx.env.label}):"]
    lines += [f"  {e.not_after:%Y-%m-%d}  {e.days_left:>4} days  {e.item.kind} "
              f"{e.item.serial}  {e.item.subject}" for e in rep.expiring] or ["  none"]
    lines.append("Expired:")
    lines += [f"  {e.not_after:%Y-%m-%d}  {e.item.kind} {e.item.serial}  {e.item.subject}"
              for e in rep.expired] or ["  none"]
    if rep.problems:
        lines.append("Not vouched for by the audit log:")
        lines += [f"  {p}" for p in rep.problems]
    app.emit(rep.as_dict(), "\n".join(lines))
    return 1 if rep.expired else 0
