"""Shared set-up for the ceremony tests: the example ceremony file copied to a folder, a Party
profile whose range holds its EUIs, the administrator's file-signing credential, a SoftHSM2
token labelled as the example says, and a prompt-driven answerer (like `expect`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from smki_desktop.resources_path import resource
from tests.integration.adt_support import make_aro

PASS = "correct horse battery staple"
PIN = "1234"


def example_file(folder: Path, **replace: str) -> Path:
    text = resource("ceremony", "example.toml").read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ceremony.toml"
    path.write_text(text)
    return path


def prepare(ctx, folder: Path):  # type: ignore[no-untyped-def]
    """Party profile + the administrator's credential (Ada Aro), in `ctx`'s data folder."""
    return make_aro(ctx, folder / "pki")


def answer_for(prompt: str) -> str:
    if "PIN" in prompt:
        return PIN
    if "passphrase" in prompt.lower():
        return PASS
    return "yes"


def run_cli(data_root: Path, path: Path, *extra: str, env_vars: dict[str, str] | None = None,
            kill_after: int | None = None, timeout: float = 120) -> tuple[int, str]:
    """`smki ceremony run FILE --answers-fd N` in a real process, answering each prompt it
    writes; with `kill_after`, SIGKILL it as soon as that many steps report DONE."""
    r, w = os.pipe()
    env = dict(os.environ, **(env_vars or {}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root), "ceremony",
         "run", str(path), "--answers-fd", str(r), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, pass_fds=(r,), env=env, text=True,
        bufsize=1)
    os.close(r)
    out: list[str] = []
    done = 0
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            out.append(line)
            if line.startswith("DONE "):
                done += 1
                if kill_after is not None and done >= kill_after:
                    proc.kill()  # SIGKILL: no clean-up runs
                    break
            elif line.rstrip().endswith("type 'yes'") or "PIN" in line or \
                    "passphrase" in line.lower():
                os.write(w, (answer_for(line) + "\n").encode())
        proc.wait(timeout=timeout)
    finally:
        os.close(w)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, "".join(out)
