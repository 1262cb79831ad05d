"""`smki team connect URL | init | status | disconnect`: this workstation and a shared PostgreSQL
team store (issue 16). The password is read from standard input (`--password-stdin`) and kept
in the OS keyring; never give it on the command line.

`status --json` keys: connected, url, where, tls, reachable, initialised, environment, party_id,
installation_id, initialised_at, schema, error. Exit 1 when linked but the store is unreachable.

`migrate-from-local` copies this workstation's own database into the linked, initialised, empty
team store; `export --out FILE [--overwrite]` writes a SQLite copy of the team store. Both
`--json`: store, tables (rows per table), rows, kept_local, party_id, out. Exit 0 done, 1
refused (not empty, other environment or Party, file exists), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.core.errors import Refusal
from smki_desktop.services import team as svc


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("team", help="share one PostgreSQL team store with other workstations")
    ps = p.add_subparsers(dest="team_cmd", metavar="ACTION", required=True)
    c = ps.add_parser("connect", help="link this workstation to a team store")
    c.add_argument("url", metavar="URL",
                   help="postgresql://USER@HOST[:PORT]/DATABASE (TLS verified unless on "
                        "127.0.0.1, ::1 or a local socket)")
    c.add_argument("--password-stdin", action="store_true",
                   help="read the password from standard input (kept in the OS keyring)")
    c.set_defaults(handler=run_connect)
    ps.add_parser("init", help="create the schema; record the environment and Party") \
        .set_defaults(handler=run_init)
    ps.add_parser("status", help="is the team store linked, reachable, initialised") \
        .set_defaults(handler=run_status)
    ps.add_parser("migrate-from-local",
                  help="copy this workstation's own database into the empty team store") \
        .set_defaults(handler=run_migrate)
    e = ps.add_parser("export", help="write a local SQLite copy of the team store")
    e.add_argument("--out", required=True, metavar="FILE", help="the SQLite file to write")
    e.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    e.set_defaults(handler=run_export)
    ps.add_parser("disconnect", help="unlink this workstation (the store is left as it is)") \
        .set_defaults(handler=run_disconnect)
    en = ps.add_parser("endorse", help="vouch for another workstation's audit writer (from an "
                       "endorsed workstation)")
    en.add_argument("writer", help="its installation id (`smki team status` there) or writer id")
    en.set_defaults(handler=run_endorse)


def _root(args: argparse.Namespace) -> Path | None:
    return Path(args.data_dir) if args.data_dir else None


def _text(st: svc.TeamStatus) -> str:
    if not st.connected:
        return "Not connected to a team store: this workstation uses its own database."
    lines = [f"Team store: {st.where} ({'TLS, server verified' if st.tls else 'local'})"]
    if not st.reachable:
        lines.append(f"  UNREACHABLE: {st.error}")
    elif not st.initialised:
        lines.append("  reachable, not initialised yet")
    else:
        lines.append(f"  initialised for {st.environment}"
                     + (f", Party {st.party_id}" if st.party_id else "")
                     + f" on {st.initialised_at}")
    lines.append(f"  this workstation: {st.installation_id}")
    return "\n".join(lines)


def run_connect(args: argparse.Namespace, app: CliApp) -> int:
    password = None
    if args.password_stdin:
        line = sys.stdin.readline() if sys.stdin is not None else ""
        if not line.strip():
            raise Refusal("Team store password: nothing on standard input to read it from.")
        password = line.rstrip("\r\n")
    st = svc.connect(app.context(), args.url, password)
    app.emit(st.to_json(), _text(st))
    return 0


def run_init(args: argparse.Namespace, app: CliApp) -> int:
    st = svc.init(app.env, _root(args))
    app.emit(st.to_json(), _text(st))
    return 0


def run_status(args: argparse.Namespace, app: CliApp) -> int:
    st = svc.status(app.env, _root(args))
    app.emit(st.to_json(), _text(st))
    return 1 if st.connected and not st.reachable else 0


def run_disconnect(args: argparse.Namespace, app: CliApp) -> int:
    st = svc.disconnect(app.env, _root(args))
    app.emit(st.to_json(), "Disconnected: this workstation uses its own database again.")
    return 0


def run_endorse(args: argparse.Namespace, app: CliApp) -> int:
    got = svc.endorse(app.context(), args.writer)
    app.emit(got, f"Endorsed writer {got['writer'][:16]} (installation "
                  f"{got['installation_id']}) in record {got['seq']}.")
    return 0


def _moved(r: svc.MoveReport, head: str) -> str:
    lines = [f"{head}: {r.rows} rows in {len(r.tables)} tables"]
    lines += [f"  {t}: {n}" for t, n in sorted(r.tables.items()) if n]
    if r.kept_local:
        kept = ", ".join(f"{t} ({n})" for t, n in sorted(r.kept_local.items()))
        lines.append(f"  kept on this workstation: {kept}")
    return "\n".join(lines)


def run_migrate(args: argparse.Namespace, app: CliApp) -> int:
    r = svc.migrate_from_local(app.env, _root(args))
    app.emit(r.to_json(), _moved(r, f"Copied into the team store {r.store}"))
    return 0


def run_export(args: argparse.Namespace, app: CliApp) -> int:
    r = svc.export(app.env, Path(args.out), _root(args), overwrite=args.overwrite)
    app.emit(r.to_json(), _moved(r, f"Wrote {r.out} from the team store {r.store}"))
    return 0
