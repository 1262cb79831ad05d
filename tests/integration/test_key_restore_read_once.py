"""A restore reads its backup file once (security review, f_toctou.py): it read the file, asked
for the passphrase, then hashed the PATH again for its record. A file swapped meanwhile had
its hash recorded for a backup that was not the one restored, and a FIFO swapped in hung the
restore for good (past the FIFO refusal and the size cap). Now the bytes read and checked
are the bytes hashed, for a passphrase backup and for the share restore's key file."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from pathlib import Path

import pytest
import shamir_mnemonic

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import key_backup as kb
from smki_desktop.services.key_lifecycle import delete_key
from smki_desktop.store.repos import key_backups as backup_repo

PASS = "correct horse battery staple"
pytestmark = pytest.mark.both_backends


class _SwapWhenAsked:
    """A passphrase provider that, while "the officer types", swaps the backup file for a
    decoy (or a FIFO)."""

    def __init__(self, path: Path, fifo: bool) -> None:
        self.path, self.fifo = path, fifo

    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        _swap(self.path, self.fifo)
        return PASS


def _swap(path: Path, fifo: bool) -> None:
    os.rename(path, path.with_suffix(".kept"))
    if fifo:
        os.mkfifo(path)
    else:
        path.write_bytes(b"not the backup that was restored\n")


def _unblock_a_reader(fifo: Path, hung: list[bool], done: threading.Event) -> None:
    """Had the restore opened the FIFO to read it, it would block for ever: a writer that
    finds a reader there says so and lets it go (so that main's code fails, not hangs)."""
    end = time.monotonic() + 8
    while time.monotonic() < end and not done.is_set():
        try:
            if not stat.S_ISFIFO(os.stat(fifo).st_mode):
                raise FileNotFoundError  # the real file, not swapped yet
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # no reader (ENXIO) or not a FIFO yet
            time.sleep(0.05)
            continue
        hung.append(True)
        os.write(fd, b"decoy")
        os.close(fd)
        return


def _backed_up_and_deleted(ctx, tmp_path: Path) -> tuple[str, Path, str]:  # type: ignore[no-untyped-def]
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "toc key")
    out = tmp_path / "real.smkikey"
    kb.backup_with_passphrase(ctx, info.key_id, out, PASS)
    delete_key(ctx, info.key_id, "test restore")
    return info.key_id, out, hashlib.sha256(out.read_bytes()).hexdigest()


def _recorded_sha(ctx, key_id: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    [entry] = [e for e in ctx.audit.entries(action_prefix="key.restore")
               if e.details.get("key_id") == key_id]
    row = backup_repo.for_environment(ctx.db, ctx.env)[key_id][-1]
    return entry.artifacts["backup"], row.file_sha256


@pytest.mark.parametrize("fifo", [False, True], ids=["swapped", "fifo"])
def test_a_file_swapped_while_the_passphrase_is_asked_is_not_read_again(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path, fifo: bool) -> None:
    key_id, out, real_sha = _backed_up_and_deleted(ctx, tmp_path)
    ctx.passphrases = _SwapWhenAsked(out, fifo)
    hung: list[bool] = []
    done = threading.Event()
    watcher = threading.Thread(target=_unblock_a_reader, args=(out, hung, done), daemon=True)
    if fifo:
        watcher.start()
    try:
        res = kb.restore_with_passphrase(ctx, out)
    finally:
        done.set()
        if fifo:
            watcher.join()
    assert not hung, "the restore opened the FIFO swapped in to read it"
    assert res.key.key_id == key_id
    assert _recorded_sha(ctx, key_id) == (real_sha, real_sha)


def test_the_share_restores_key_file_is_read_once(ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "shared key")
    res = kb.backup_with_shares(ctx, info.key_id, tmp_path / "s", 2, 3)
    key_file = res.files[0]
    real_sha = hashlib.sha256(key_file.read_bytes()).hexdigest()
    delete_key(ctx, info.key_id, "test restore")
    combine = shamir_mnemonic.combine_mnemonics

    def swap_then_combine(words):  # type: ignore[no-untyped-def]
        _swap(key_file, fifo=False)  # swapped after the file was read and checked
        return combine(words)

    monkeypatch.setattr(shamir_mnemonic, "combine_mnemonics", swap_then_combine)
    kb.restore_with_shares(ctx, [key_file, *res.share_files[:2]])
    assert _recorded_sha(ctx, info.key_id) == (real_sha, real_sha)
