"""`smki audit list|verify`."""

from __future__ import annotations

import argparse

from smki_desktop.cli.main import CliApp
from smki_desktop.services import audit_log


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="the hash-chained audit log")
    s = p.add_subparsers(dest="audit_cmd", metavar="ACTION")
    s.required = True
    lst = s.add_parser("list", help="list audit records, newest first")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--action", default="", help="only actions starting with this")
    lst.set_defaults(handler=run_list)
    v = s.add_parser("verify", help="check the chain, its head in the OS keyring, every row")
    v.set_defaults(handler=run_verify)
    ack = s.add_parser("acknowledge-loss", help="record that an earlier audit log at this "
                                                "folder was deleted, or the log rolled back "
                                                "to a backup, on purpose")
    ack.add_argument("--reason", required=True)
    ack.set_defaults(handler=run_acknowledge)


def run_list(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    entries = audit_log.records(ctx, limit=args.limit, action_prefix=args.action)
    lines = [f"{e.seq:>6}  {e.ts[:19]}  {e.actor:<30}  {e.action}" for e in entries]
    app.emit({"environment": ctx.env.value, "entries": [e.as_dict() for e in entries]},
             "\n".join(lines) if lines else "The audit log is empty.")
    return 0


def run_verify(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    report = audit_log.verify(ctx)
    data = {"environment": ctx.env.value, "ok": report.ok, "rows": report.rows,
            "problems": report.problems, "notes": report.notes}
    if report.ok:
        text = f"Audit log intact: {report.rows} records ({ctx.env.label})."
        if report.notes:
            text += "\n" + "\n".join("note: " + n for n in report.notes)
        app.emit(data, text)
        return 0
    for p in report.problems:
        app.warn(f"audit: {p}")
    app.emit(data, f"Audit log FAILED verification: {len(report.problems)} problem(s).")
    return 1


def run_acknowledge(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    entry = audit_log.acknowledge_loss(ctx, args.reason)
    app.emit({"environment": ctx.env.value, "seq": entry.seq,
              "lost": entry.details["lost"], "rolled_back": entry.details["rolled_back"]},
             f"Recorded in audit record {entry.seq}: {len(entry.details['lost'])} lost log(s) "
             f"and {len(entry.details['rolled_back'])} rollback(s) acknowledged.")
    return 0
