"""A key restore that failed after it stored the key's wrapping secret in the OS keyring (the
keyring locked while it ran, say): the store's clean-up could not delete that secret, and every
later restore of the key was refused as if another data folder of this user held the key.

Now the failed restore tries again to remove what it stored and, when the keyring still refuses,
leaves a note in this environment's folder (the key's id, when, from which file). A later
restore that finds the wrapping secret with no key row here either clears it or tells the
officer exactly what happened and how to clear it.

When is clearing safe? A wrapping secret is the only way to open its key's file; deleting the
secret of a key that some data folder still holds destroys that key. The secret is cleared only
when all of these hold:
  * this data folder's own failed restore noted it: the restore had seen NO wrapping secret of
    the key before it stored one (`_import` refuses otherwise), so the secret it left is its own;
  * the keyring's storing note of the key (`key-storing:<id>`) is still there: every store that
    completes deletes it, so no data folder has completed storing this key since (the only
    exception, a keyring refusing that one delete right after a completed store while the other
    data folder restored the same key in the meantime, needs two failures on one key at once);
  * this data folder holds no key row for it and its audit log records no completed restore of
    it since the note.
Otherwise the officer is told what happened and how to clear it (the keyring entry's name), and
nothing is deleted."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from smki_desktop.core.errors import Refusal
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos import ceremony as ceremony_repo

LEFT = "key-restore-leftovers"  # a folder of this environment's folder: one note per key
STORING = "key-storing:"  # the keyring's note of a key being stored (keystores/os_keyring.py)


def _note(ctx: AppContext, key_id: str) -> Path:
    return ctx.paths.env_dir / LEFT / key_id


def after_failure(ctx: AppContext, key_id: str, path: Path) -> None:
    """After a restore that failed: remove the wrapping secret and storing note it stored
    (there was no wrapping secret of this key before it), or note that they were left."""
    secrets = ctx.keystore.secrets
    for name in (f"key:{key_id}", f"{STORING}{key_id}"):
        with contextlib.suppress(Exception):  # the restore's own failure is what is reported
            secrets.delete(name)
    try:
        left = secrets.get_optional(f"key:{key_id}") is not None
    except Exception:
        left = True
    note = _note(ctx, key_id)
    if not left:
        note.unlink(missing_ok=True)
        return
    with contextlib.suppress(OSError):
        note.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        note.write_text(json.dumps({"ts": ctx.clock.now().isoformat(), "file": str(path),
                                    "pid": os.getpid()}))


def _restored_since(ctx: AppContext, key_id: str, ts: str) -> bool:
    return any(e.action == "key.restore" and e.details.get("key_id") == key_id and e.ts >= ts
               for e in ctx.audit.entries(action_prefix="key.restore"))


def clear_or_refuse(ctx: AppContext, key_id: str, path: Path) -> str:
    """Before a restore stores the key: "" when the keyring holds no wrapping secret of it; a
    sentence for the officer when it held one that this data folder's failed restore left
    (cleared, audited); else a Refusal saying what happened and how to clear it."""
    secrets = ctx.keystore.secrets
    if secrets.get_optional(f"key:{key_id}") is None:
        _note(ctx, key_id).unlink(missing_ok=True)
        return ""
    entry_name = f"key:{key_id}"
    service = ctx.env.keyring_service
    try:
        noted = json.loads(_note(ctx, key_id).read_text())
    except (OSError, ValueError):
        noted = None
    if (isinstance(noted, dict) and secrets.get_optional(f"{STORING}{key_id}") is not None
            and not ceremony_repo.key_recorded(ctx.db, key_id)
            and not _restored_since(ctx, key_id, str(noted.get("ts", "")))):
        with ctx.audit.change():
            entry = ctx.audit.record("key.restore_leftover_cleared", {
                "key_id": key_id, "keyring_entry": entry_name, "service": service,
                "failed_restore_at": str(noted.get("ts", "")),
                "failed_restore_file": str(noted.get("file", ""))})
            secrets.delete(entry_name)
            with contextlib.suppress(Exception):
                secrets.delete(f"{STORING}{key_id}")
        _note(ctx, key_id).unlink(missing_ok=True)
        return (f"An earlier restore of key {key_id[:16]} in this data folder failed on "
                f"{str(noted.get('ts', ''))[:16]} (the OS keyring refused it, e.g. it was "
                "locked) and left the key's wrapping secret in the keyring; no data folder "
                f"completed storing the key since, so it was cleared (audit record {entry.seq}) "
                "before this restore.")
    raise Refusal(
        f"Restore of {path.name} refused: the OS keyring already holds a wrapping secret of key "
        f"{key_id[:16]} for the {ctx.env.label} environment (entry {entry_name!r} of service "
        f"{service!r}), but this data folder holds no such key and this application cannot "
        "prove the entry is a failed restore's leftover. Either another data folder of this "
        "user holds the key (then use that folder: restoring here would replace its keyring "
        "entry and make its key unusable), or an earlier restore or import of the key failed "
        "part-way (for example when the keyring locked) and left it. Only when no data folder "
        "of yours holds this key: delete that keyring entry with your desktop's keyring manager "
        "and restore again. Nothing was restored.")
