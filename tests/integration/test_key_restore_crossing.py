"""A key backup re-sealed for the other environment of the same data folder (security review,
f_cross.sh): whoever knows a Test backup's passphrase seals it again with "environment":"live"
and the restore took it into Live. Now a restore refuses, naming both environments, a key the
other environment of this data folder made or holds (both directions, passphrase and shares),
and Live restores nothing without a Party profile, as it makes nothing without one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smki_desktop.core.errors import EnvironmentMismatch, Refusal
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import key_backup as kb
from tests.integration.adt_support import set_profiles

PASS = "correct horse battery staple"
pytestmark = pytest.mark.both_backends


def _reseal(src: Path, dst: Path, **changes: str) -> None:
    """What anyone who knows the passphrase can do (the format is public)."""
    doc = json.loads(src.read_text())
    prot = doc["protection"]
    aes = kb._scrypt(PASS, kb._unb64(prot["salt"], "salt"), prot["n"], prot["r"], prot["p"])
    der = kb._open(doc, aes, src, "wrong")
    header = {k: v for k, v in doc.items() if k not in ("nonce", "ciphertext")}
    header.update(changes)
    dst.write_bytes(kb._seal(header, aes, der))


def _no_restore(c, key_id: str) -> None:  # type: ignore[no-untyped-def]
    assert not any(k.key_id == key_id for k in c.keystore.list_keys())
    assert not c.audit.entries(action_prefix="key.restore")
    assert c.keystore.secrets.get_optional(f"key:{key_id}") is None


def test_a_test_key_resealed_as_live_is_refused_in_live(ctx, live_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "TEST training key")
    kb.backup_with_passphrase(ctx, info.key_id, tmp_path / "test.smkikey", PASS)
    _reseal(tmp_path / "test.smkikey", tmp_path / "live.smkikey", environment="live",
            label="Acme LIVE DS 2026")
    set_profiles(live_ctx)
    with pytest.raises(EnvironmentMismatch) as err:
        kb.restore_with_passphrase(live_ctx, tmp_path / "live.smkikey", PASS)
    msg = err.value.message
    assert "belongs to the Test environment; this is the Live environment" in msg, msg
    assert info.key_id[:16] in msg and "Nothing was restored" in msg
    _no_restore(live_ctx, info.key_id)


def test_a_live_key_resealed_as_test_is_refused_in_test(ctx, live_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    set_profiles(live_ctx)
    info = live_ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "Acme DS 2026")
    kb.backup_with_passphrase(live_ctx, info.key_id, tmp_path / "live.smkikey", PASS)
    _reseal(tmp_path / "live.smkikey", tmp_path / "test.smkikey", environment="test")
    with pytest.raises(EnvironmentMismatch) as err:
        kb.restore_with_passphrase(ctx, tmp_path / "test.smkikey", PASS)
    msg = err.value.message
    assert "belongs to the Live environment; this is the Test environment" in msg, msg
    _no_restore(ctx, info.key_id)


def test_a_deleted_test_key_made_in_test_is_still_refused_in_live(ctx, live_ctx,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    """Gone from Test's keys, the key is still one Test's audit log records making: a Live
    restore of it is refused (shares this time: the rule is the restore's, not one path's)."""
    from smki_desktop.services.key_lifecycle import delete_key

    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "TEST walk key")
    ctx.audit.record("key.generate", {"key_id": info.key_id, "label": info.label})
    kb.backup_with_shares(ctx, info.key_id, tmp_path / "s", 2, 3)
    delete_key(ctx, info.key_id, "training over")
    for p in (tmp_path / "s").iterdir():
        text = p.read_text()
        if p.suffix == ".smkikey":
            doc = json.loads(text)
            doc["environment"] = "live"  # the shares' secret opens it: re-sealed as anyone can
            secret = __import__("shamir_mnemonic").combine_mnemonics([
                kb.read_share_file(q)["mnemonic"] for q in sorted((tmp_path / "s").glob(
                    "share-*"))[:2]])
            header = {k: v for k, v in doc.items() if k not in ("nonce", "ciphertext")}
            der = kb._open(json.loads(text), secret, p, "wrong")
            p.write_bytes(kb._seal(header, secret, der))
        else:
            p.write_text(text.replace("environment: test", "environment: live"))
    set_profiles(live_ctx)
    with pytest.raises(EnvironmentMismatch, match="belongs to the Test environment; this is "
                       "the Live environment"):
        kb.restore_with_shares(live_ctx, sorted((tmp_path / "s").iterdir())[:3])
    _no_restore(live_ctx, info.key_id)


def test_live_restores_nothing_without_a_party_profile(ctx, live_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "Acme DS")
    kb.backup_with_passphrase(ctx, info.key_id, tmp_path / "k.smkikey", PASS)
    ctx.keystore.delete(info.key_id)
    # a Live backup of a key neither environment here knows (made in another data folder)
    _reseal(tmp_path / "k.smkikey", tmp_path / "live.smkikey", environment="live")
    with pytest.raises(Refusal, match="Live environment makes nothing without a Party "
                       "profile") as err:
        kb.restore_with_passphrase(live_ctx, tmp_path / "live.smkikey", PASS)
    assert err.value.hint == "party.set"
    _no_restore(live_ctx, info.key_id)
