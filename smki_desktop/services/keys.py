"""Key workflows over the key stores: generate, list, show, export the public key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.keys import ARCHIVED_FLAG, KeyInfo, KeyType, KeyUsage
from smki_desktop.core.plain_text import check_plain
from smki_desktop.keystores.os_keyring import resolve_key_ref
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos import keys as keys_repo

if TYPE_CHECKING:  # (core.audit is loaded when a record is written)
    from smki_desktop.core.audit import AuditEntry

# `services.crossing` (and with it cryptography's X.509 modules) is imported by generate_key
# when a key is made: the Dashboard shown at start-up lists keys and should not pay for it.


@dataclass(frozen=True)
class KeyGenerated:
    key: KeyInfo
    audit: AuditEntry


def default_key_type(usage: KeyUsage) -> KeyType:
    return KeyType.RSA_2048 if usage is KeyUsage.CLIENT_AUTH else KeyType.EC_P256


class KeyRecord:
    """The `recorded` hook of `KeyStore.generate`: the new key's row and its `key.generate`
    record in one transaction (issue 16). The key material (keyring entry, key file, token
    object) is made outside it; a kill before the commit leaves a pending key file that
    `sweep_pending` removes on the next open, or a token key that a ceremony adopts."""

    def __init__(self, ctx: AppContext, extra: dict[str, Any] | None = None) -> None:
        self.ctx, self.extra = ctx, extra or {}
        self.entry: AuditEntry | None = None

    @contextmanager
    def __call__(self, info: KeyInfo) -> Iterator[None]:
        with self.ctx.audit.change():
            yield  # the row goes in here
            self.entry = self.ctx.audit.record(
                "key.generate",
                {"key_id": info.key_id, "label": info.label, "type": info.key_type.value,
                 "usage": info.usage.value, "location": info.location.value, **self.extra},
                {"public_key": info.public_key_der},
            )

    def written(self) -> AuditEntry:
        assert self.entry is not None, "the key store never entered its row hook"
        return self.entry


def check_new_label(label: str) -> str:
    """A new key's label (in the keyring or on a token), stripped: one line of plain text.
    Checked before the key is made: a label the database or audit log refuses would fail
    after the keyring entries (or the token objects) were written."""
    try:
        return check_plain(label, "Label")
    except InputError as exc:
        raise InputError(exc.message, hint="field.label") from None


def generate_key(ctx: AppContext, usage: KeyUsage, label: str,
                 key_type: KeyType | None = None) -> KeyGenerated:
    from smki_desktop.services import crossing

    crossing.require_party(ctx, "New key")  # Live makes nothing without a Party profile
    check_new_label(label)
    rec = KeyRecord(ctx)
    info = ctx.keystore.generate(key_type or default_key_type(usage), usage, label,
                                 recorded=rec)
    return KeyGenerated(info, rec.written())


def list_keys(ctx: AppContext) -> list[KeyInfo]:
    """Every key of this environment, whatever store holds it."""
    return keys_repo.for_environment(ctx.db, ctx.env.value)


def get_key(ctx: AppContext, key_ref: str) -> KeyInfo:
    return resolve_key_ref(ctx.db, ctx.env, key_ref)


class KeyArchived(Refusal):
    """An archived key offered for new work (a CSR of any kind, signing, a credential)."""


def archive_record(ctx: AppContext, info: KeyInfo) -> AuditEntry | None:
    """The proven `key.archive` record of this key still in force (none after it deleted the
    key: a key restored later is a key again), or None."""
    entries = ctx.audit.vouched_naming(("key.archive", "key.delete"), "key_id", [info.key_id])
    last = entries[-1] if entries else None
    return last if last is not None and last.action == "key.archive" else None


def archived_note(ctx: AppContext, info: KeyInfo) -> str | None:
    """When and why the key was archived, in words, or None when it is not. Archived is the
    key's flag or a proven record of archiving it: a flag taken off in the store without
    SMKI Desktop does not bring the key back into use."""
    record = archive_record(ctx, info)
    if record is None and ARCHIVED_FLAG not in info.flags:
        return None
    if record is None:
        return "archived (no audit record of it says when or why)"
    reason = str(record.details.get("reason", "")).strip() or "no reason recorded"
    return f"archived on {record.ts[:10]} (reason: {reason}; audit record {record.seq})"


def refuse_archived(ctx: AppContext, info: KeyInfo, use: str) -> None:
    """`KeyArchived` naming the key, when and why it was archived, when `info` is archived:
    an archived key is used for no new work (`use`: "an Organisation CSR", "signing"...)."""
    note = archived_note(ctx, info)
    if note is not None:
        raise KeyArchived(
            f"Key {info.short_id} ({info.label}) is {note}: an archived key is used for no new "
            f"work, so it cannot be used for {use}. Archiving cannot be undone; make a new key "
            "for new work.")


def not_archived(ctx: AppContext, keys: list[KeyInfo]) -> list[KeyInfo]:
    """`keys` less the archived ones (for lists of keys to choose from): one audit query."""
    if not keys:
        return keys
    entries = ctx.audit.vouched_naming(("key.archive", "key.delete"), "key_id",
                                       [k.key_id for k in keys])
    last: dict[str, str] = {}
    for e in entries:
        last[str(e.details.get("key_id"))] = e.action
    return [k for k in keys
            if ARCHIVED_FLAG not in k.flags and last.get(k.key_id) != "key.archive"]


def public_pem(info: KeyInfo) -> bytes:
    from cryptography.hazmat.primitives import serialization

    pub = serialization.load_der_public_key(info.public_key_der)
    return pub.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def key_as_dict(info: KeyInfo) -> dict[str, object]:
    return {
        "key_id": info.key_id, "label": info.label, "type": info.key_type.value,
        "usage": info.usage.value, "environment": info.environment.value,
        "created": info.created.isoformat(), "location": info.location.value,
        "flags": list(info.flags),
    }
