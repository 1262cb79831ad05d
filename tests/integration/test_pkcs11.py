"""SoftHSM2 token: non-exportable P-256 key, CSR signed on the token, OpenSSL verifies it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.core.eui import Eui64
from smki_desktop.core.keys import KeyLocation, KeyType, KeyUsage
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.csr import build_org_csr
from smki_desktop.crypto.der import encode
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.crypto.lint import lint_der
from smki_desktop.keystores.pkcs11_store import Pkcs11KeyStore, spki_from_ec_point
from smki_desktop.profile_data import load_profile
from tests.support.softhsm import MODULE, PIN, FixedPin, softhsm_token

EUI = Eui64.parse("90-B3-D5-1F-30-01-00-00")



@pytest.fixture
def token(tmp_path: Path) -> Iterator[str]:
    """A fresh SoftHSM2 token in a per-test folder."""
    with softhsm_token(tmp_path, "smki-test") as label:
        yield label


@pytest.mark.parametrize("usage", [KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT])
def test_token_key_csr_verifies_and_key_is_not_exportable(
        ctx, token: str, tmp_path: Path, usage: KeyUsage) -> None:  # type: ignore[no-untyped-def]
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    pins = FixedPin(PIN)
    store = Pkcs11KeyStore(ctx.env, MODULE, token, ctx.db, ctx.clock, pins)
    info = store.generate(KeyType.EC_P256, usage, "token key")
    assert info.location is KeyLocation.PKCS11 and "non-exportable" in info.flags
    assert store.list_keys() == [info]
    with store.signer(info.key_id) as s:
        der = build_org_csr(s, RemotePartyRole.SUPPLIER, EUI)
    assert pins.asked and all("PIN" in p for p in pins.asked)
    assert lint_der(der, load_profile(ctx.env)).findings == []
    path = tmp_path / "token.csr"
    path.write_bytes(encode(der, "pem"))
    res = subprocess.run(["openssl", "req", "-in", str(path), "-noout", "-verify"],
                         capture_output=True, text=True)
    assert res.returncode == 0 and "verify OK" in (res.stdout + res.stderr)

    # the CSR's key is the token's CKA_EC_POINT; CKA_VALUE cannot be read
    lib = pkcs11.lib(MODULE)
    with lib.get_token(token_label=token).open(user_pin=PIN) as sess:
        cka_id = Pkcs11KeyStore.cka_id(info)
        pub = next(sess.get_objects({Attribute.CLASS: ObjectClass.PUBLIC_KEY,
                                     Attribute.ID: cka_id}))
        assert extract_fields(der).public_key_der == spki_from_ec_point(pub[Attribute.EC_POINT])
        priv = next(sess.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                                      Attribute.ID: cka_id}))
        assert priv[Attribute.SENSITIVE] is True
        assert priv[Attribute.EXTRACTABLE] is False
        assert priv[Attribute.DERIVE] is (usage is KeyUsage.KEY_AGREEMENT)
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            priv[Attribute.VALUE]


def test_wrong_pin_is_refused(ctx, token: str) -> None:  # type: ignore[no-untyped-def]
    store = Pkcs11KeyStore(ctx.env, MODULE, token, ctx.db, ctx.clock, FixedPin("0000"))
    with pytest.raises(Refusal, match="Wrong PIN"):
        store.generate(KeyType.EC_P256, KeyUsage.SIGNING, "x")


def test_cli_token_key_to_csr(cli_run, token: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The CLI path: choose the token, generate on it (PIN from stdin), make the CSR."""
    import json

    assert cli_run("token", "use", "--module", MODULE, "--token", token).code == 0
    gen = cli_run("token", "keygen", "--usage", "key-agreement", "--label", "ka on token",
                  "--json", stdin=PIN + "\n")
    assert gen.code == 0, gen.err
    key_id = json.loads(gen.out)["key_id"]
    out = tmp_path / "t.csr"
    made = cli_run("csr", "org", "--key", key_id[:10], "--role", "02", "--eui",
                   "90B3D51F30010000", "--out", str(out), stdin=PIN + "\n")
    assert made.code == 0, made.err
    verify = subprocess.run(["openssl", "req", "-in", str(out), "-noout", "-verify"],
                            capture_output=True, text=True)
    assert verify.returncode == 0
    assert extract_fields(out.read_bytes()).key_id == key_id
    wrong = cli_run("token", "keygen", "--usage", "signing", "--label", "x", stdin="9999\n")
    assert wrong.code == 1 and "Wrong PIN" in wrong.err
