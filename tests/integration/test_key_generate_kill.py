"""kill -9 during `smki key generate` leaves no encrypted key file without a database row: the
file is written under a pending name and renamed after the row is committed; the next open
removes (or completes) what a killed process left, with an audit record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.keystores.os_keyring import PENDING
from smki_desktop.services.context import open_context


def _orphans(data_root: Path) -> list[str]:
    ctx = open_context(Environment.TEST, data_root)
    try:
        rows = {r["location_ref"] for r in ctx.db.conn().execute("SELECT location_ref FROM keys")}
        files = {p.name for p in ctx.paths.keys_dir.iterdir()}
        return sorted((files - rows) | (rows - files))
    finally:
        ctx.close()


def test_kill_9_while_the_key_file_is_written(data_root: Path) -> None:
    keys = data_root / "test" / "keys"
    env = {**os.environ, "SMKI_DATA_DIR": str(data_root)}
    subprocess.run([sys.executable, "-m", "smki_desktop.cli", "key", "list"], env=env,
                   check=True, capture_output=True)
    killed_with_file = 0
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "smki_desktop.cli", "key", "generate",
                                 "--usage", "signing", "--label", f"k{attempt}"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        before = set(os.listdir(keys))
        while time.monotonic() < deadline and proc.poll() is None:
            if set(os.listdir(keys)) - before:
                os.kill(proc.pid, signal.SIGKILL)  # the key file exists, its row may not
                killed_with_file += 1
                break
        proc.wait(30)
    assert killed_with_file, "never caught a key generation with its file written"
    # the next open sweeps what the killed processes left
    assert _orphans(data_root) == []
    ctx = open_context(Environment.TEST, data_root)
    try:
        recovered = ctx.audit.entries(action_prefix="key.store.recover")
        listed = {k.key_id for k in ctx.keystore.list_keys()}
        for e in recovered:
            assert e.details["outcome"] in ("removed", "completed")
            if e.details["outcome"] == "removed":
                assert e.details["key_id"] not in listed
                assert ctx.keystore.secrets.get_optional(f"key:{e.details['key_id']}") is None
        for k in ctx.keystore.list_keys():  # every recorded key still signs
            with ctx.keystore.signer(k.key_id) as s:
                assert s.sign(b"x")
        assert recovered or listed  # each killed generation was removed or completed
    finally:
        ctx.close()
    r = subprocess.run([sys.executable, "-m", "smki_desktop.cli", "audit", "verify"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_a_planted_pending_file_never_destroys_a_key(data_root: Path, tmp_path: Path) -> None:
    """Someone who can write a data folder (not the keyring) plants 'pending' key files: a
    copy of another data folder's key (same environment, same keyring), and junk named like
    an existing key of this folder. Opening the folder must not delete the other folder's
    wrapping secret from the keyring, nor overwrite this folder's key file."""
    other = tmp_path / "other"
    other.mkdir()
    b = open_context(Environment.TEST, other)
    try:
        theirs = b.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "theirs")
        their_file = b.paths.keys_dir / theirs.location_ref
    finally:
        b.close()
    a = open_context(Environment.TEST, data_root)
    try:
        mine = a.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "mine")
        keys = a.paths.keys_dir
    finally:
        a.close()
    pid = _dead_pid()
    (keys / f"{theirs.location_ref}{PENDING}{pid}").write_bytes(their_file.read_bytes())
    (keys / f"{mine.location_ref}{PENDING}{pid}").write_bytes(b"junk")
    a = open_context(Environment.TEST, data_root)  # sweeps
    try:
        assert not [p for p in keys.iterdir() if PENDING in p.name]
        with a.keystore.signer(mine.key_id) as s:
            assert s.sign(b"x")
    finally:
        a.close()
    b = open_context(Environment.TEST, other)
    try:
        with b.keystore.signer(theirs.key_id) as s:
            assert s.sign(b"x")
    finally:
        b.close()
