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


def prepare(ctx, folder: Path, register: bool = True):  # type: ignore[no-untyped-def]
    """Party profile + the administrator's credential (Ada Aro), in `ctx`'s data folder; with
    `register`, Ada Aro is an active entry of the officer register holding that credential's
    key (a ceremony's administrator and witnesses sign as the register's named people)."""
    aro = make_aro(ctx, folder / "pki")
    if register:
        register_officer(ctx, folder, "Ada Aro", aro.key.key_id)
    return aro


def in_process_cli(ctx):  # type: ignore[no-untyped-def]
    """`smki` run in-process against `ctx`'s data folder and environment (as the `cli_run`
    fixture), for set-up helpers that have only the context."""
    import contextlib
    import io

    from smki_desktop.cli.main import main
    from tests.conftest import CliResult

    def run(*args: str, env: str = ctx.env.value, stdin: str | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        argv = ["--env", env, "--data-dir", str(ctx.paths.root), *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = int(exc.code or 0)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def register_officer(ctx, folder: Path, name: str, key_id: str) -> str:  # type: ignore[no-untyped-def]
    """An active officer register entry named `name` (nominated, verified, activated: an
    SRO, whose first activation rests on the verification record) holding `key_id`; its
    register id."""
    from tests.integration.test_officer_cli import make_active_sro

    cli = in_process_cli(ctx)
    (folder / "register").mkdir(parents=True, exist_ok=True)
    oid = make_active_sro(cli, folder / "register", name, env=ctx.env.value)
    linked = cli("officer", "link-key", oid, key_id)
    assert linked.code == 0, linked.err
    return oid


def make_witness(ctx, folder: Path, aro, name: str, register: bool = True):  # type: ignore[no-untyped-def]
    """A witness's own file-signing key and credential (from the administrator's CA, so the
    same trust anchor), held by an active register entry named `name` unless told not."""
    from datetime import UTC, datetime

    from smki_desktop.core.keys import KeyType, KeyUsage
    from smki_desktop.services.credentials import record_credential
    from tests.integration.adt_support import Aro, issue

    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, f"{name} signing")
    cert = issue(aro.root_key, aro.root, info.public_key_der, ctx.env, datetime.now(UTC),
                 cn=name)
    record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    if register:
        register_officer(ctx, folder, name, info.key_id)
    return Aro(info, cert, aro.root, aro.root_key, aro.root_pem)


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
