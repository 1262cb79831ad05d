"""`smki agent status|stop`: the command agent that serves `adt sign` and `adt verify` warm
(`cli/agent_client.py`, docs/command-agent.md)."""

from __future__ import annotations

import argparse
import os

from smki_desktop.cli import agent_client
from smki_desktop.cli.main import CliApp


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("agent", help="the command agent that keeps `adt sign`/`verify` warm")
    ps = p.add_subparsers(dest="agent_cmd", metavar="ACTION")
    ps.required = True
    for name, text in (("status", "is an agent running for this installation"),
                       ("stop", "stop it (the next `adt sign`/`verify` starts one again "
                                "unless SMKI_AGENT=off)")):
        a = ps.add_parser(name, help=text)
        a.set_defaults(handler=run_status if name == "status" else run_stop)


def _facts() -> dict[str, object]:
    return {"enabled": agent_client.enabled(), "socket": agent_client.socket_path(create=False),
            "idle_seconds": float(os.environ.get("SMKI_AGENT_IDLE", "") or
                                  agent_client.IDLE_DEFAULT)}


def run_status(args: argparse.Namespace, app: CliApp) -> int:
    pid = agent_client.ask(b"S")
    data = {**_facts(), "running": pid is not None, "pid": pid}
    state = f"running (process {pid})" if pid is not None else "not running"
    app.emit(data, f"Command agent: {state}; "
                   f"{'on' if data['enabled'] else 'off (SMKI_AGENT=off)'}; "
                   f"socket {data['socket'] or '-'}.")
    return 0


def run_stop(args: argparse.Namespace, app: CliApp) -> int:
    pid = agent_client.ask(b"Q")
    data = {**_facts(), "stopped": pid is not None, "pid": pid}
    app.emit(data, f"Command agent (process {pid}) stops once its running commands end."
             if pid is not None else "No command agent was running.")
    return 0
