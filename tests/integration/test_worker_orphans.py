"""kill -9 of `smki devices validate` leaves no worker process running: each worker watches
its parent and ends when the parent is gone (a real SIGKILL on a real process)."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smki_desktop.crypto import device_csr as dc


def _children(pid: int) -> list[int]:
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(proc.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.slow
def test_kill_9_of_validate_leaves_no_worker(tmp_path: Path, data_root: Path) -> None:
    der = dc.generate_one((0x00DB123456100000).to_bytes(8, "big"), dc.SIGNING,
                          keep_key=False)[2]
    b64 = base64.b64encode(der).decode()
    csv = tmp_path / "many.csv"
    with open(csv, "w") as fh:
        fh.write("device_eui,usage,csr\n")
        for i in range(150_000):
            fh.write(f"{0x00DB123456100000 + i:016X},signing,{b64}\n")
    env = {**os.environ, "SMKI_DATA_DIR": str(data_root)}
    proc = subprocess.Popen([sys.executable, "-m", "smki_desktop.cli", "devices", "validate",
                             str(csv)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            workers = [p for p in _children(proc.pid) if "spawn_main" in _cmdline(p)]
            if workers:
                break
            time.sleep(0.05)
        assert workers, "the validation never started its worker processes"
        time.sleep(0.3)
        workers = [p for p in _children(proc.pid) if "spawn_main" in _cmdline(p)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        left = [p for p in workers if _alive(p)]
        assert not left, f"workers still running after the parent was killed: {left}"
    finally:
        for p in workers:
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
