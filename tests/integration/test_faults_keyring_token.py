"""Faults in the key stores, mid-operation, against the real peers: the OS keyring locked or
its daemon gone between making a key and using it, and a PKCS#11 token removed or replaced.
Each ends in a clear message that says what to do, with nothing written (no signature, no
manifest, no audit record), and the same operation succeeds once the peer is back."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import SmkiError
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.keystores.errors import KeyringLocked, KeyringUnavailable
from smki_desktop.keystores.pkcs11_store import Pkcs11KeyStore
from smki_desktop.services import adt as adt_service
from smki_desktop.services.context import AppContext, open_context
from smki_desktop.services.csr import SETTING_PKCS11_MODULE, SETTING_PKCS11_TOKEN
from tests.integration.adt_support import make_aro, set_profiles
from tests.support.secret_service import (
    SecretServiceSession,
    kill_daemons,
    restart_keyring,
    secret_service_env,
)
from tests.support.softhsm import MODULE, FixedPin, softhsm_token


@pytest.fixture
def private_keyring(tmp_path: Path) -> Iterator[SecretServiceSession]:
    """A Secret Service of this test's own (the session's keyring stays untouched)."""
    with secret_service_env(tmp_path / "kr") as session:
        try:
            yield session
        finally:  # also a daemon the bus started by activation (not in session.pids)
            kill_daemons(session)


def _lock_collection() -> None:
    import secretstorage

    conn = secretstorage.dbus_init()
    try:
        coll = secretstorage.get_default_collection(conn)
        coll.lock()
        assert coll.is_locked()
    finally:
        conn.close()


def _records(ctx: AppContext) -> int:
    """The audit records, those of validating the file included: signing records the rows it
    validated with its signature, so a failed signing leaves none of them either."""
    return len(ctx.audit.entries())


def _nothing_written(ctx: AppContext, f: Path, audit_before: int) -> None:
    assert sorted(p.name for p in f.parent.iterdir()) == [f.name]
    assert _records(ctx) == audit_before
    assert adt_service.signed_files(ctx) == []


def _sign_fails(ctx: AppContext, f: Path, key_id: str, error: type[SmkiError]) -> SmkiError:
    before = _records(ctx)
    with pytest.raises(error) as e:
        adt_service.sign_file(ctx, f, key_id, smsr="SMSR-1")
    _nothing_written(ctx, f, before)
    return e.value


@pytest.fixture
def signing_setup(private_keyring: SecretServiceSession, data_root: Path,
                  tmp_path: Path) -> Iterator[tuple[AppContext, Path, str]]:
    ctx = open_context(Environment.TEST, data_root)
    aro = make_aro(ctx, tmp_path / "pki")
    folder = tmp_path / "out"
    folder.mkdir()
    f = folder / "adt.csv"
    adt_service.write_template(ctx, f)
    try:
        yield ctx, f, aro.key.key_id
    finally:
        ctx.close()


def test_keyring_locked_mid_operation(private_keyring: SecretServiceSession,
                                      signing_setup: tuple[AppContext, Path, str]) -> None:
    ctx, f, key_id = signing_setup
    _lock_collection()  # between making the key and signing with it
    err = _sign_fails(ctx, f, key_id, KeyringLocked)
    assert "locked" in err.message.lower() and "unlock" in err.message.lower(), err.message
    restart_keyring(private_keyring)  # the officer unlocks it: the key was never lost
    res = adt_service.sign_file(ctx, f, key_id, smsr="SMSR-1")
    assert res.signature.exists() and res.manifest.exists()


def test_keyring_daemon_gone_mid_operation(private_keyring: SecretServiceSession,
                                           signing_setup: tuple[AppContext, Path, str]) -> None:
    ctx, f, key_id = signing_setup
    kill_daemons(private_keyring)
    err = _sign_fails(ctx, f, key_id, (KeyringUnavailable, KeyringLocked))  # type: ignore[arg-type]
    assert "Secret Service" in err.message or "keyring" in err.message.lower(), err.message
    restart_keyring(private_keyring)
    res = adt_service.sign_file(ctx, f, key_id, smsr="SMSR-1")
    assert res.signature.exists()


def test_keyring_gone_while_generating_a_key_leaves_no_key(
        private_keyring: SecretServiceSession, data_root: Path) -> None:
    from smki_desktop.services.keys import generate_key

    ctx = open_context(Environment.TEST, data_root)
    try:
        kill_daemons(private_keyring)
        with pytest.raises((KeyringUnavailable, KeyringLocked)):
            generate_key(ctx, KeyUsage.SIGNING, "no keyring")
        assert not list(ctx.paths.keys_dir.glob("*")), "a key file without its wrapping key"
        assert ctx.db.conn().execute("SELECT COUNT(*) FROM keys").fetchone()[0] == 0
    finally:
        ctx.close()


# --- PKCS#11 token removed or replaced -------------------------------------------------------

@pytest.fixture
def token_setup(data_root: Path, tmp_path: Path) -> Iterator[tuple[AppContext, Path, str, Path]]:
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives import serialization

    from smki_desktop.crypto.demo_pki import issue, make_root
    from smki_desktop.services.credentials import record_credential

    with softhsm_token(tmp_path, "fault-token") as label:
        ctx = open_context(Environment.TEST, data_root, passphrases=FixedPin())
        try:
            set_profiles(ctx)
            ctx.set_setting(SETTING_PKCS11_MODULE, MODULE)
            ctx.set_setting(SETTING_PKCS11_TOKEN, label)
            store = Pkcs11KeyStore(ctx.env, MODULE, label, ctx.db, ctx.clock, FixedPin())
            info = store.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "token key")
            now = datetime.now(UTC)
            root_key, root = make_root(ctx.env, now)
            record_credential(ctx, issue(root_key, root, info.public_key_der, ctx.env, now),
                              "file-signing", info.key_id, source="test")
            adt_service.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
            folder = tmp_path / "out"
            folder.mkdir()
            f = folder / "adt.csv"
            adt_service.write_template(ctx, f)
            yield ctx, f, info.key_id, tmp_path / "tokens"
        finally:
            ctx.close()


def _reload_pkcs11() -> None:
    import pkcs11

    pkcs11.lib(MODULE).reinitialize()


def test_token_removed_mid_operation(token_setup: tuple[AppContext, Path, str, Path]) -> None:
    ctx, f, key_id, tokdir = token_setup
    saved = tokdir.parent / "tokens.removed"
    shutil.move(tokdir, saved)  # the token is pulled out
    tokdir.mkdir()
    _reload_pkcs11()
    err = _sign_fails(ctx, f, key_id, SmkiError)
    assert "fault-token" in err.message or "token" in err.message.lower(), err.message
    shutil.rmtree(tokdir)
    shutil.move(saved, tokdir)  # and put back
    _reload_pkcs11()
    res = adt_service.sign_file(ctx, f, key_id, smsr="SMSR-1")
    assert res.signature.exists()


def test_token_replaced_by_another(token_setup: tuple[AppContext, Path, str, Path]) -> None:
    ctx, f, key_id, tokdir = token_setup
    shutil.rmtree(tokdir)
    tokdir.mkdir()
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "fault-token",
                    "--pin", "1234", "--so-pin", "5678"], check=True, capture_output=True)
    _reload_pkcs11()
    err = _sign_fails(ctx, f, key_id, SmkiError)
    assert key_id[:8].lower() in err.message.lower() or "not on" in err.message.lower() \
        or "not found" in err.message.lower(), err.message
