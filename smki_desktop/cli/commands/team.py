"""`smki team connect URL | init | status | disconnect`: this workstation and a shared PostgreSQL
team store (issue 16). The password is read from standard input (`--password-stdin`) and kept
in the OS keyring; never give it on the command line.

`status --json` keys: connected, url, where, tls, reachable, initialised, environment, party_id,
installation_id, initialised_at, schema, error. Exit 1 when linked but the store is unreachable.
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
    ps.add_parser("disconnect", help="unlink this workstation (the store is left as it is)") \
        .set_defaults(handler=run_disconnect)


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
