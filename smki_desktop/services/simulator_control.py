"""Test mode's embedded portal: start the simulator on demand as a background process on a free
loopback port, with its state in the Test data folder; record the endpoint; reuse it from later
commands; stop it. Never used in Live."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.child_process import module_command
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal, SmkiError
from smki_desktop.services.endpoint_record import SIMULATOR_START_ACTION
from smki_desktop.store.repos import endpoints as endpoints_repo

if TYPE_CHECKING:
    from smki_desktop.services.context import AppContext


class SimulatorError(SmkiError):
    """The simulator could not be started or reached."""


@dataclass(frozen=True)
class SimulatorInfo:
    state_dir: Path
    pid: int
    portal_url: str
    repository_url: str
    trust_anchor_pem: bytes
    enrolment_token: str
    control_token: str
    started: bool  # False when an already running one was reused

    def as_dict(self) -> dict[str, Any]:
        return {"state_dir": str(self.state_dir), "pid": self.pid, "portal_url": self.portal_url,
                "repository_url": self.repository_url, "started": self.started}


IDLE_EXIT_DEFAULT = 4 * 3600.0
# the record of starting it: its trust anchor vouched (services/endpoint_record.py reads it)
START_ACTION = SIMULATOR_START_ACTION


def idle_exit_seconds() -> float:
    """An on-demand simulator ends itself after this long without a request (default 4 h;
    `SMKI_SIMULATOR_IDLE_EXIT` seconds overrides it, e.g. short in test runs)."""
    try:
        value = float(os.environ.get("SMKI_SIMULATOR_IDLE_EXIT", IDLE_EXIT_DEFAULT))
    except ValueError:
        value = IDLE_EXIT_DEFAULT
    return max(value, 0.0)


def state_dir(ctx: AppContext) -> Path:
    return ctx.paths.env_dir / "simulator"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _listening(url: str) -> bool:
    import socket  # here, not at the top: the GUI's start asks `running` (no simulator: no socket)

    host, port = url.split("//", 1)[1].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _read_info(d: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads((d / "endpoint.json").read_text()))
    except (OSError, ValueError):
        return None


def _info(d: Path, data: dict[str, Any], started: bool) -> SimulatorInfo:
    return SimulatorInfo(d, int(data["pid"]), str(data["portal_url"]),
                         str(data["repository_url"]), (d / "trust-anchor.pem").read_bytes(),
                         str(data["enrolment_token"]), str(data["control_token"]), started)


def running(ctx: AppContext) -> SimulatorInfo | None:
    d = state_dir(ctx)
    data = _read_info(d)
    if data and _alive(int(data.get("pid", 0))) and _listening(str(data["portal_url"])):
        return _info(d, data, False)
    return None


def start(ctx: AppContext, *, batch_step: float | None = None,
          timeout: float = 30.0) -> SimulatorInfo:
    """Start (or reuse) this Test installation's simulator."""
    if ctx.env is not Environment.TEST:
        raise Refusal("The simulator serves the Test environment only; Live talks to the DCC.")
    found = running(ctx)
    if found is not None:
        return found
    d = state_dir(ctx)
    d.mkdir(parents=True, exist_ok=True)
    import fcntl

    with open(d / "start.lock", "w") as lock:  # one starter at a time (CLI and GUI at once)
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = running(ctx)
        if found is not None:
            return found
        return _spawn(ctx, d, batch_step, timeout)


def _spawn(ctx: AppContext, d: Path, batch_step: float | None,
           timeout: float) -> SimulatorInfo:
    import subprocess  # here: the GUI's start imports this module but spawns nothing

    old = _read_info(d) or {}
    (d / "endpoint.json").unlink(missing_ok=True)
    ports: list[tuple[int, int]] = []
    if old.get("portal_port"):
        ports.append((int(old["portal_port"]), int(old.get("public_port", 0))))
    ports.append((0, 0))
    last_err = ""
    for portal_port, public_port in ports:
        cmd = [*module_command("smki_desktop.simulator"), "serve", "--state", str(d),
               "--port", str(portal_port), "--public-port", str(public_port)]
        if batch_step is not None:
            cmd += ["--batch-step", str(batch_step)]
        cmd += ["--idle-exit", str(idle_exit_seconds())]
        log = open(d / "simulator.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = _read_info(d)
            if data and int(data.get("pid", 0)) == proc.pid and _listening(
                    str(data["portal_url"])):
                info = _info(d, data, True)
                # the endpoint row and its record (with the anchor's SHA-256, which vouches for
                # the row's anchor: services/adt/anchors.py): one transaction
                with ctx.audit.change():
                    _record(ctx, info)
                    ctx.audit.record(START_ACTION, info.as_dict(),
                                     {"trust_anchor": info.trust_anchor_pem})
                return info
            if proc.poll() is not None:
                last_err = (d / "simulator.log").read_text(errors="replace")[-800:]
                break
            time.sleep(0.1)
        else:
            proc.kill()
            last_err = "it did not answer in time"
    raise SimulatorError(f"The Test simulator could not be started: {last_err}")


def _record(ctx: AppContext, info: SimulatorInfo) -> None:
    endpoints_repo.put(ctx.db, endpoints_repo.EndpointRow(
        ctx.env.value, "simulator", info.portal_url, info.repository_url,
        info.trust_anchor_pem, str(info.state_dir), info.pid, ctx.clock.now().isoformat()))


def stop(ctx: AppContext, timeout: float = 10.0) -> bool:
    """Stop the simulator if it runs; True if one was stopped."""
    data = _read_info(state_dir(ctx))
    if not data or not _alive(int(data.get("pid", 0))):
        return False
    pid = int(data["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    ctx.audit.record("simulator.stop", {"pid": pid}, {})
    return True


def control(info: SimulatorInfo, path: str, payload: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """Call the simulator's test control endpoint (faults, clock, submission counts)."""
    import ssl

    import httpx

    ctx = ssl.create_default_context(cadata=info.trust_anchor_pem.decode())
    with httpx.Client(verify=ctx, timeout=30) as client:
        url = info.repository_url + path
        headers = {"X-Control-Token": info.control_token}
        if payload is None:
            resp = client.get(url, headers=headers)
        else:
            resp = client.post(url, headers=headers, content=json.dumps(payload).encode())
    if resp.status_code != 200:
        raise SimulatorError(f"Simulator control {path} answered HTTP {resp.status_code}.")
    return dict(resp.json())


def batch_step(info: SimulatorInfo, default: float = 2.0) -> float:
    """The simulator's batch speed (seconds a stage, `/_control/config` `batch_step`); the
    default if it cannot be asked."""
    import httpx

    try:
        return max(float(control(info, "/_control/config")["batch_step"]), 0.0)
    except (SimulatorError, httpx.HTTPError, OSError, KeyError, TypeError, ValueError):
        return default
