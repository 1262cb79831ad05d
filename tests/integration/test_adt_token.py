"""A file-signing key on a SoftHSM2 token: the ADT file is signed through the token (ECDSA over
the SHA-256 of the signed attributes, on the token) and OpenSSL verifies the signature."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyLocation, KeyType, KeyUsage
from smki_desktop.crypto.demo_pki import issue, make_root
from smki_desktop.services import adt as adt_service
from smki_desktop.services.context import open_context
from smki_desktop.services.credentials import record_credential
from tests.integration.adt_support import assert_openssl_fails, assert_openssl_ok, set_profiles
from tests.support.softhsm import MODULE, FixedPin, softhsm_token


@pytest.fixture
def token(tmp_path: Path) -> Iterator[str]:
    """A fresh SoftHSM2 token in a per-test folder."""
    with softhsm_token(tmp_path, "adt-token") as label:
        yield label


def test_token_key_signs_adt_file_and_openssl_verifies(data_root: Path, token: str,
                                                       tmp_path: Path) -> None:
    from smki_desktop.keystores.pkcs11_store import Pkcs11KeyStore
    from smki_desktop.services.csr import SETTING_PKCS11_MODULE, SETTING_PKCS11_TOKEN

    pins = FixedPin()
    ctx = open_context(Environment.TEST, data_root, passphrases=pins)
    try:
        set_profiles(ctx)
        ctx.set_setting(SETTING_PKCS11_MODULE, MODULE)
        ctx.set_setting(SETTING_PKCS11_TOKEN, token)
        store = Pkcs11KeyStore(ctx.env, MODULE, token, ctx.db, ctx.clock, pins)
        info = store.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "ARO token key")
        assert info.location is KeyLocation.PKCS11
        now = datetime.now(UTC)
        root_key, root = make_root(ctx.env, now)
        cert = issue(root_key, root, info.public_key_der, ctx.env, now)
        record_credential(ctx, cert, "file-signing", info.key_id, source="test")
        adt_service.add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
        root_pem = tmp_path / "root.pem"
        root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))

        f = tmp_path / "adt.csv"
        adt_service.write_template(ctx, f)
        asked_before = len(pins.asked)
        res = adt_service.sign_file(ctx, f, info.key_id, smsr="SMSR-TOKEN-1")
        # one token log-in for the file and its manifest
        assert len(pins.asked) - asked_before == 1
        assert res.verified.trusted
        assert_openssl_ok(f, res.signature, root_pem)
        assert_openssl_ok(res.manifest, res.manifest_signature, root_pem)
        tampered = tmp_path / "tampered.csv"
        tampered.write_bytes(f.read_bytes().replace(b"DAY", b"DAX", 1))
        assert_openssl_fails(tampered, res.signature, root_pem)
    finally:
        ctx.close()
