"""`smki simulator serve|start|stop|status|fault`: the local SMKI portal and repository
simulator (Test only)."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.services import simulator_control


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("simulator", help="the local SMKI portal/repository simulator (Test)")
    ps = p.add_subparsers(dest="sim_cmd", metavar="ACTION")
    ps.required = True
    s = ps.add_parser("serve", help="run a simulator in the foreground")
    s.add_argument("--port", type=int, default=0, help="portal (mutual TLS) port")
    s.add_argument("--public-port", type=int, default=0, help="repository/enrolment port")
    s.add_argument("--state", type=Path, required=True, help="state folder")
    s.add_argument("--batch-step", type=float, default=None)
    s.set_defaults(handler=run_serve)
    st = ps.add_parser("start", help="start this installation's simulator in the background")
    st.add_argument("--batch-step", type=float, default=None,
                    help="seconds per batch stage on the accelerated clock")
    st.set_defaults(handler=run_start)
    ps.add_parser("stop", help="stop it").set_defaults(handler=run_stop)
    ps.add_parser("status", help="is it running, where").set_defaults(handler=run_status)
    f = ps.add_parser("fault", help="inject faults for tests and training")
    f.add_argument("kind", choices=["delay", "delay-after", "5xx", "drop", "drop-after",
                                    "malformed", "huge", "clear"])
    f.add_argument("--count", type=int, default=1)
    f.add_argument("--seconds", type=float, default=5.0, help="for delay")
    f.add_argument("--path", default="/", help="only requests whose path starts so")
    f.set_defaults(handler=run_fault)


def run_serve(args: argparse.Namespace, app: CliApp) -> int:
    from smki_desktop.simulator.__main__ import main as sim_main

    argv = ["serve", "--state", str(args.state), "--port", str(args.port),
            "--public-port", str(args.public_port)]
    if args.batch_step is not None:
        argv += ["--batch-step", str(args.batch_step)]
    return sim_main(argv)


def run_start(args: argparse.Namespace, app: CliApp) -> int:
    info = simulator_control.start(app.context(), batch_step=args.batch_step)
    app.emit(info.as_dict(), f"Simulator {'started' if info.started else 'already running'}: "
                             f"portal {info.portal_url}, repository {info.repository_url} "
                             f"(pid {info.pid})")
    return 0


def run_stop(args: argparse.Namespace, app: CliApp) -> int:
    stopped = simulator_control.stop(app.context())
    app.emit({"stopped": stopped}, "Simulator stopped." if stopped else "No simulator running.")
    return 0


def run_status(args: argparse.Namespace, app: CliApp) -> int:
    info = simulator_control.running(app.context())
    if info is None:
        app.emit({"running": False}, "No simulator running.")
        return 0
    app.emit(dict(info.as_dict(), running=True),
             f"Running (pid {info.pid}): portal {info.portal_url}, repository "
             f"{info.repository_url}, state {info.state_dir}")
    return 0


def run_fault(args: argparse.Namespace, app: CliApp) -> int:
    info = simulator_control.start(app.context())
    spec = {"clear": True} if args.kind == "clear" else {
        "kind": args.kind, "count": args.count, "seconds": args.seconds, "path": args.path}
    simulator_control.control(info, "/_control/faults", spec)
    app.emit(spec, f"Fault set: {spec}")
    return 0
