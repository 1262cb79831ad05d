"""A key backup killed (SIGKILL) before its `key.backup` audit record (security review,
f_kill_shares.sh, f_kill_pass.sh): it left complete hidden `.part` files (the encrypted key and
every share, or the whole passphrase file) that restore the key once renamed, never removed
nor recorded. Now the next key command finds the backup's staging note unlocked (its process
is gone), removes the staged files, audits `key.backup_abandoned` and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import key_backup as kb
from smki_desktop.store import fault_point

PASS = "correct horse battery staple"
pytestmark = pytest.mark.both_backends


def _killed_at_record(data_root: Path, tmp_path: Path, stdin: str, *args: str) -> None:
    """Run `smki ARGS` until its key.backup record is about to be written, then SIGKILL it."""
    marker = tmp_path / f"stalled-{time.monotonic_ns()}"
    env = dict(os.environ, **{fault_point.STALL: "audit:key.backup",
                              fault_point.STALL_FILE: str(marker)})
    typed = tmp_path / f"typed-{time.monotonic_ns()}"
    typed.write_text(stdin)
    with typed.open("rb") as given:
        proc = subprocess.Popen([sys.executable, "-m", "smki_desktop.cli", "--data-dir",
                                 str(data_root), *args], stdin=given, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, start_new_session=True)
    end = time.monotonic() + 240
    while not marker.exists() and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.fail(f"smki ended ({proc.returncode}) before its record: "
                    f"{proc.stderr.read().decode() if proc.stderr else ''}")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _hidden(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.part")) if folder.is_dir() else []


@pytest.mark.parametrize("kind", ["shares", "passphrase"])
def test_a_backup_killed_before_its_record_leaves_nothing_usable(  # type: ignore[no-untyped-def]
        ctx, cli_run, data_root: Path, tmp_path: Path, kind: str) -> None:
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "killed backup key")
    if kind == "shares":
        folder = tmp_path / "kshares"
        _killed_at_record(data_root, tmp_path, "", "key", "backup", info.key_id[:16],
                          "--out", str(folder), "--shares", "2-of-3")
        assert len(_hidden(folder)) == 4  # the key and every share, staged: killed in time
    else:
        folder = tmp_path / "kp"
        folder.mkdir()
        _killed_at_record(data_root, tmp_path, f"{PASS}\n{PASS}\n", "key", "backup",
                          info.key_id[:16], "--out", str(folder / "k.smkikey"))
        assert len(_hidden(folder)) == 1
    assert not ctx.audit.entries(action_prefix="key.backup")
    res = cli_run("key", "list")  # any key command clears it
    assert res.code == 0, res.err
    assert _hidden(folder) == []
    assert "was interrupted before it finished" in res.err and info.key_id[:16] in res.err
    [entry] = ctx.audit.entries(action_prefix="key.backup_abandoned")
    assert entry.details["key_id"] == info.key_id
    assert len(entry.details["removed"]) == (4 if kind == "shares" else 1)
    if kind == "shares":
        assert not folder.exists()  # the folder it made, empty now, is gone too
    assert cli_run("key", "list").err == ""  # said once


def test_a_running_backups_staging_is_left_alone(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A backup still running (its note locked, here by this very process) is not swept."""
    from smki_desktop.services import key_backup_staging as staging

    out = tmp_path / "k.smkikey"
    with staging.staging(ctx, "ab" * 32, [out]):
        part = tmp_path / ".k.smkikey.x1.part"
        part.write_bytes(b"staged")
        assert staging.sweep(ctx) == []
        assert part.exists()
    part.unlink()
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "fine")
    kb.backup_with_passphrase(ctx, info.key_id, tmp_path / "ok.smkikey", PASS)
    assert not ctx.audit.entries(action_prefix="key.backup_abandoned")
    assert not list((ctx.paths.env_dir / staging.STAGING).iterdir())
