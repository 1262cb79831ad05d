"""`key restore` of a backup made by anyone (attack review): a file built around one of the
DCC's PUBLISHED test private keys went into Live with no warning, and the key then got a Live
CSR. Now: Live refuses a published test key (at restore, and at CSR time for one already
there); a backup labelled as a ceremony's key is refused unless this environment's ceremony
made it; a key this environment has no backup record and no certificate for restores with a
warning saying so (in the text and in the JSON `warnings`)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.errors import EnvironmentMismatch, Refusal
from smki_desktop.core.keys import KeyType, KeyUsage, key_id_for_spki
from smki_desktop.services import key_backup as kb
from smki_desktop.services.csr import create_org_csr
from smki_desktop.services.key_lifecycle import delete_key
from smki_desktop.services.keys import KeyRecord
from smki_desktop.services.published_keys import published_test_key
from tests.integration.adt_support import set_profiles
from tests.support.secret_service import secret_service_env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dcc-test-pki"
ZAZ1 = FIXTURES / "organisation" / "90b3d51f30010000-ds.key"
PASS = "correct horse battery staple"


def _backup_of(key_pem: bytes, out: Path, env: str, label: str) -> str:
    """A passphrase backup file around a private key, as anyone can write one; its key id."""
    priv = serialization.load_pem_private_key(key_pem, None)
    der = priv.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    pub = priv.public_key()
    spki = pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    kid = key_id_for_spki(spki)
    salt = os.urandom(16)
    header: dict[str, Any] = {
        "format": kb.KEY_FORMAT, "environment": env, "key_id": kid,
        "fingerprint": f"SHA-256:{kid}", "label": label, "usage": "signing",
        "key_type": "ec-p256",
        "public_key_pem": pub.public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo
                                           ).decode(),
        "certificates": [],
        "protection": {"kind": "passphrase", "kdf": "scrypt", "n": 2 ** 14, "r": 8, "p": 1,
                       "salt": base64.b64encode(salt).decode()}}
    out.write_bytes(kb._seal(header, kb._scrypt(PASS, salt, 2 ** 14, 8, 1), der))
    return kid


def _a_new_private_key() -> bytes:
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def test_live_refuses_to_restore_a_published_test_key(live_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    set_profiles(live_ctx)  # Live restores nothing without a Party profile
    f = tmp_path / "from-a-colleague.smkikey"
    kid = _backup_of(ZAZ1.read_bytes(), f, "live", "supplier signing 2026")
    with pytest.raises(Refusal, match="one of the DCC's published test keys") as err:
        kb.restore_with_passphrase(live_ctx, f, PASS)
    assert "organisation/90b3d51f30010000-ds.key" in err.value.message
    assert kid[:16] in err.value.message
    assert not any(k.key_id == kid for k in live_ctx.keystore.list_keys())
    assert not live_ctx.audit.entries(action_prefix="key.restore")


def test_live_refuses_a_csr_for_a_published_test_key_already_there(live_ctx) -> None:  # type: ignore[no-untyped-def]
    """A key that got in before this check (or by another way in): no Live CSR for it."""
    ctx = live_ctx
    info = ctx.keystore.import_private_key(ZAZ1.read_bytes(), KeyUsage.SIGNING, "old restore")
    set_profiles(ctx)
    with pytest.raises(Refusal, match="Organisation CSR refused: key .* published test keys"):
        create_org_csr(ctx, info.key_id, "supplier", "90-B3-D5-1F-30-01-00-01")
    assert not ctx.audit.entries(action_prefix="csr.org.create")


def test_test_restores_a_published_test_key_with_the_unknown_key_warning(ctx,  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path) -> None:
    """Test is where the published keys belong: restored, said to be unknown here."""
    f = tmp_path / "zaz1.smkikey"
    kid = _backup_of(ZAZ1.read_bytes(), f, "test", "ZAZ1 supplier")
    res = kb.restore_with_passphrase(ctx, f, PASS)
    assert res.key.key_id == kid
    assert any("has no record of key" in w for w in res.warnings)


@pytest.mark.parametrize("env", ["test", "live"])
@pytest.mark.parametrize("label", ["ceremony adopt-test supplier-ds",  # an older version's
                                   "ceremony {env} adopt-test supplier-ds"])
def test_a_backup_labelled_as_a_ceremonys_key_is_refused(ctx, live_ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                         env: str, label: str) -> None:
    c = ctx if env == "test" else live_ctx
    set_profiles(live_ctx)  # Live restores nothing without a Party profile
    f = tmp_path / "c.smkikey"
    kid = _backup_of(_a_new_private_key(), f, env, label.format(env=env))
    with pytest.raises(Refusal, match="is a ceremony key's label") as err:
        kb.restore_with_passphrase(c, f, PASS)
    assert "made by the ceremony, not restored under its label" in err.value.message
    assert not any(k.key_id == kid for k in c.keystore.list_keys())


@pytest.mark.parametrize("env", ["test", "live"])
def test_a_backup_labelled_as_the_other_environments_ceremony_key_is_refused_naming_both(  # type: ignore[no-untyped-def]
        ctx, live_ctx, tmp_path: Path, env: str) -> None:
    c, them = (ctx, "live") if env == "test" else (live_ctx, "test")
    set_profiles(live_ctx)  # Live restores nothing without a Party profile
    f = tmp_path / "c.smkikey"
    kid = _backup_of(_a_new_private_key(), f, env, f"ceremony {them} adopt-test supplier-ds")
    with pytest.raises(EnvironmentMismatch) as err:
        kb.restore_with_passphrase(c, f, PASS)
    assert "Test environment" in err.value.message and "Live environment" in err.value.message
    assert not any(k.key_id == kid for k in c.keystore.list_keys())


def test_a_ceremonys_own_key_comes_back_after_a_delete(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The key this environment's ceremony made (its key.generate record names it) is its
    own: restored from its backup after a delete, with no "unknown here" warning."""
    label = "ceremony test c1 supplier-ds"
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, label,
                                 recorded=KeyRecord(ctx, {"ceremony": "c1"}))
    out = tmp_path / "c1.smkikey"
    kb.backup_with_passphrase(ctx, info.key_id, out, PASS)
    delete_key(ctx, info.key_id, "test")
    res = kb.restore_with_passphrase(ctx, out, PASS)
    assert res.key.label == label
    assert not any("no record of key" in w for w in res.warnings)
    assert any("was deleted in this environment" in w for w in res.warnings)


def test_a_key_unknown_here_restores_with_a_warning_in_text_and_json(cli_run,  # type: ignore[no-untyped-def]
                                                                     tmp_path: Path) -> None:
    f = tmp_path / "stranger.smkikey"
    kid = _backup_of(_a_new_private_key(), f, "test", "from a stranger")
    with secret_service_env(tmp_path / "kr"):
        r = cli_run("--json", "key", "restore", str(f), stdin=f"{PASS}\n")
        assert r.code == 0, r.err
        doc = r.json()
        assert doc["key_id"] == kid
        [w] = doc["warnings"]
        assert f"no record of key {kid[:16]}" in w and "no backup of it" in w
        assert "no certificate for it" in w and w in r.err
    f2 = tmp_path / "stranger2.smkikey"
    _backup_of(_a_new_private_key(), f2, "test", "another")
    with secret_service_env(tmp_path / "kr2"):
        text = cli_run("key", "restore", str(f2), stdin=f"{PASS}\n")
        assert text.code == 0, text.err
        assert "has no record of key" in text.out


def test_the_published_list_holds_the_test_keys_the_app_would_meet(ctx) -> None:  # type: ignore[no-untyped-def]
    assert published_test_key(key_id_for_spki(
        serialization.load_pem_private_key(ZAZ1.read_bytes(), None).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)))
    assert published_test_key(ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING,
                                                    "fresh").key_id) == ""
