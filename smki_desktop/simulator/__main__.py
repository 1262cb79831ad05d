"""`python -m smki_desktop.simulator serve --port N --state DIR`: run the simulator until killed."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="smki-simulator", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run the simulator in the foreground")
    s.add_argument("--port", type=int, default=0, help="portal (mutual TLS) port; 0 = free")
    s.add_argument("--public-port", type=int, default=0,
                   help="repository/enrolment port (server TLS, API key); 0 = free")
    s.add_argument("--state", type=Path, required=True, help="state folder (created)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--batch-step", type=float, default=None,
                   help="seconds per batch stage on the accelerated clock (default 2)")
    s.add_argument("--idle-exit", type=float, default=0,
                   help="exit after this many seconds without a request (0 = never)")
    s.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    from smki_desktop.simulator.server import Simulator

    sim = Simulator(args.state, host=args.host, port=args.port, public_port=args.public_port,
                    batch_step=args.batch_step, verbose=args.verbose)
    sim.start()
    print(f"SMKI simulator: portal {sim.info['portal_url']} (mutual TLS), repository "
          f"{sim.info['repository_url']}, state {args.state}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    while not done.wait(1.0):
        if args.idle_exit and sim.idle_for() > args.idle_exit:
            print(f"SMKI simulator: idle for {args.idle_exit:g} s, exiting", flush=True)
            break
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
