"""The staging of a key backup, and the clearing of one killed before it was recorded.

A backup stages its files (the encrypted key, every share) as hidden `.part` files, records
the backup (row and `key.backup` audit record in one transaction), then puts them in place.
Killed before the record, it left complete hidden copies that restore the key once renamed,
known to no record. So each backup first notes, in this environment's folder, what it stages
(its target files, and the folder it made), and holds an OS lock (flock) on that note for as
long as it runs, as the Devices packaging does in each staging folder: the OS drops the lock
when the process ends, even by SIGKILL. The next backup, restore or key command finds a note
whose lock is free: its backup's process is gone, so its staged files are removed, audited
(`key.backup_abandoned`) and said."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from smki_desktop.services.context import AppContext
from smki_desktop.store import atomic

STAGING = "key-backup-staging"  # a folder of this environment's folder: one note per backup


def _notes_dir(ctx: AppContext) -> Path:
    return ctx.paths.env_dir / STAGING


@contextlib.contextmanager
def staging(ctx: AppContext, key_id: str, targets: list[Path],
            made_folder: Path | None = None) -> Iterator[None]:
    """Around a backup's staging, recording and publishing: its note, locked. `targets`: the
    files it writes (their `.part` files are what a sweep removes); `made_folder`: the folder
    it creates (removed by a sweep when nothing else is in it)."""
    folder = _notes_dir(ctx)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    note = folder / f"{os.getpid()}-{secrets.token_hex(6)}.json"
    fd = os.open(note, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a new file of our own: never held by anyone else
        os.write(fd, json.dumps({"key_id": key_id, "targets": [str(t) for t in targets],
                                 "folder": str(made_folder or "")}).encode())
        os.fsync(fd)
        yield
    finally:
        note.unlink(missing_ok=True)  # unlinked while still locked: a sweep never sees it free
        os.close(fd)


def _abandoned(note: Path) -> dict[str, object] | None:
    """The note's content when its backup's process is gone (its lock is free), removing the
    note; None when the backup still runs (or finished meanwhile)."""
    try:
        fd = os.open(note, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return None  # held: that backup is running (in this process or another)
        if not note.exists():
            return None  # it finished between our open and our lock
        try:
            doc = json.loads(os.read(fd, 1 << 20) or b"{}")
        except ValueError:
            doc = {}
        note.unlink(missing_ok=True)
        return doc if isinstance(doc, dict) else {}
    finally:
        os.close(fd)


def sweep(ctx: AppContext) -> list[str]:
    """Remove the staged files of every backup of this environment killed before it finished;
    each removal is audited and returned as a sentence for the officer."""
    folder = _notes_dir(ctx)
    if not folder.is_dir():
        return []
    said: list[str] = []
    for note in sorted(folder.glob("*.json")):
        doc = _abandoned(note)
        if doc is None:
            continue
        raw = doc.get("targets")
        targets = [Path(str(t)) for t in raw] if isinstance(raw, list) else []
        removed = [p for t in targets for p in atomic.part_files(t)]
        for p in removed:
            p.unlink(missing_ok=True)
        made = str(doc.get("folder") or "")
        if made:
            with contextlib.suppress(OSError):
                Path(made).rmdir()  # only when empty: the staged files were all it held
        if not removed:
            continue
        key_id = str(doc.get("key_id", ""))
        with ctx.audit.change():
            entry = ctx.audit.record("key.backup_abandoned", {
                "key_id": key_id, "removed": [str(p) for p in removed]})
        said.append(f"A backup of key {key_id[:16]} was interrupted before it finished: its "
                    f"{len(removed)} unfinished hidden file(s) beside "
                    f"{targets[0] if targets else 'its output'} held the key and were removed "
                    f"(audit record {entry.seq}). Make that backup again if it is needed.")
    return said
