"""An officer's credential on a PKCS#11 token (SoftHSM2): the simulator issues the file-signing
credential for a token key (the CSR signed on the token, the register id in the subject), link-key
proves possession through the token, and the officer signs a register change and an approval-style
object with it; OpenSSL verifies the signature against the simulator's chain."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyLocation, KeyType, KeyUsage
from smki_desktop.core.officers import OfficerRole
from smki_desktop.services import credentials, identity, simulator_control
from smki_desktop.services import officers as officer_service
from smki_desktop.services.context import open_context
from tests.integration.adt_support import set_profiles
from tests.integration.portal_helpers import enrolled
from tests.integration.test_officer_cli import make_active_sro
from tests.support.softhsm import MODULE, FixedPin, softhsm_token


@pytest.fixture
def token(tmp_path: Path) -> Iterator[str]:
    with softhsm_token(tmp_path, "officer-token") as label:
        yield label


def test_token_key_gets_a_named_credential_links_and_signs(data_root: Path, token: str,
                                                           cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.keystores.pkcs11_store import Pkcs11KeyStore
    from smki_desktop.services.csr import SETTING_PKCS11_MODULE, SETTING_PKCS11_TOKEN

    pins = FixedPin()
    ctx = open_context(Environment.TEST, data_root, passphrases=pins)
    try:
        info_sim = enrolled(ctx)
        set_profiles(ctx)
        ctx.set_setting(SETTING_PKCS11_MODULE, MODULE)
        ctx.set_setting(SETTING_PKCS11_TOKEN, token)
        store = Pkcs11KeyStore(ctx.env, MODULE, token, ctx.db, ctx.clock, pins)
        key = store.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "SRO token key")
        assert key.location is KeyLocation.PKCS11
        sro = make_active_sro(cli_run, tmp_path, "Alice Example")
        res = credentials.request_credential(ctx, "file-signing", key.key_id, officer=sro)
        assert res.credential is not None
        assert credentials.register_id_of(res.credential.certificate) == sro
        asked = len(pins.asked)
        officer_service.link_key(ctx, sro, key.key_id)  # possession proved on the token
        assert len(pins.asked) > asked
        actor = identity.resolve_actor(ctx, sro, key.key_id, roles=(OfficerRole.SRO,),
                                       what="a test")
        data = b'{"type":"smki-desktop/test","x":1}'
        sig = identity.sign(ctx, actor, data, ctx.clock.now())
        assert identity.verify(ctx, data, sig, what="a test").officer.officer_id == sro
        content, sig_path = tmp_path / "data.json", tmp_path / "data.p7s"
        content.write_bytes(data)
        sig_path.write_bytes(sig)
        r = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                            str(sig_path), "-content", str(content), "-CAfile",
                            str(info_sim.state_dir / "ca-chain.pem"), "-out", "/dev/null",
                            "-purpose", "any"], capture_output=True, text=True)
        assert r.returncode == 0 and "Verification successful" in r.stderr, r.stderr
    finally:
        simulator_control.stop(ctx)
        ctx.close()
