"""A restore during which the OS keyring locks (security review, f_locked_restore.py): the
wrapping secret it had stored stayed behind (the clean-up's delete was refused), and the same
restore was refused afterwards as if "another data folder of this user still has this key".
Now the failed restore notes its leftover; the next restore clears it (audited, said) when
this data folder's failed restore provably left it, and otherwise says exactly what happened
and how to clear it."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.keystores.errors import KeyringLocked
from smki_desktop.services import audit as audit_mod
from smki_desktop.services import key_backup as kb
from smki_desktop.services.key_lifecycle import delete_key

PASS = "correct horse battery staple"
pytestmark = pytest.mark.both_backends


def _backed_up_and_deleted(ctx, tmp_path: Path) -> tuple[str, Path]:  # type: ignore[no-untyped-def]
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "locked restore key")
    out = tmp_path / "b.smkikey"
    kb.backup_with_passphrase(ctx, info.key_id, out, PASS)
    delete_key(ctx, info.key_id, "restore drill")
    return info.key_id, out


def test_a_restore_the_locked_keyring_broke_can_be_done_again(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_id, out = _backed_up_and_deleted(ctx, tmp_path)
    secrets = ctx.keystore.secrets
    service = ctx.env.keyring_service
    real_record, real_delete = audit_mod.AuditLog.record, type(secrets).delete
    locked = {"now": False}

    def record(self, action, *a, **kw):  # type: ignore[no-untyped-def]
        if action == "key.restore":
            locked["now"] = True  # the screen locks as the restore is being recorded
            raise KeyringLocked(service)
        return real_record(self, action, *a, **kw)

    def delete(self, name):  # type: ignore[no-untyped-def]
        if locked["now"]:
            raise KeyringLocked(service)
        return real_delete(self, name)

    monkeypatch.setattr(audit_mod.AuditLog, "record", record)
    monkeypatch.setattr(type(secrets), "delete", delete)
    with pytest.raises(KeyringLocked):
        kb.restore_with_passphrase(ctx, out, PASS)
    assert secrets.get_optional(f"key:{key_id}") is not None  # left behind: it was locked
    monkeypatch.undo()  # unlocked again
    res = kb.restore_with_passphrase(ctx, out, PASS)
    assert res.key.key_id == key_id
    assert any("failed" in w and "cleared" in w for w in res.warnings), res.warnings
    [cleared] = ctx.audit.entries(action_prefix="key.restore_leftover_cleared")
    assert cleared.details["key_id"] == key_id
    assert ctx.audit.entries(action_prefix="key.restore")[0].details["key_id"] == key_id


def test_a_wrapping_secret_not_proven_a_leftover_is_explained_not_cleared(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    key_id, out = _backed_up_and_deleted(ctx, tmp_path)
    secrets = ctx.keystore.secrets
    secrets.set(f"key:{key_id}", "another data folder's")
    try:
        with pytest.raises(Refusal) as err:
            kb.restore_with_passphrase(ctx, out, PASS)
        msg = err.value.message
        assert f"key:{key_id}" in msg and "smki-desktop/test" in msg
        assert "failed part-way" in msg and "another data folder" in msg
        assert "delete that keyring entry" in msg and "Nothing was restored" in msg
        assert secrets.get_optional(f"key:{key_id}") == "another data folder's"
    finally:
        secrets.delete(f"key:{key_id}")
