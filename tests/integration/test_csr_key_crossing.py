"""An Organisation CSR is never made with a key the other environment of the same data folder
made or holds (security review, f_cross.sh: a Test key restored into Live got a Live CSR),
in both directions, as ceremonies already refuse (crossing.refuse_key_the_other_environment_made).
On SQLite and on a PostgreSQL team store."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.errors import EnvironmentMismatch
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.services.csr import create_org_csr
from smki_desktop.services.keys import KeyRecord, generate_key
from smki_desktop.services.party import set_party

BOTH = pytest.mark.both_backends
EUI = "90-B3-D5-1F-30-01-00-02"


def _party(ctx) -> None:  # type: ignore[no-untyped-def]
    set_party(ctx, PartyProfile("Acme Energy Ltd", "ACME", PartyType.IMPORT_SUPPLIER,
                                (EuiRange.parse("90-B3-D5-1F-30-01-00-00.."
                                                "90-B3-D5-1F-30-01-FF-FF"),)))


def _copy_key(src, dst, label: str) -> str:  # type: ignore[no-untyped-def]
    """`src`'s new key put under `dst` as a restore does (its private key, recorded there)."""
    info = generate_key(src, KeyUsage.SIGNING, label).key
    der = src.keystore.export_private_key(info.key_id)
    pem = serialization.load_der_private_key(der, None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    dst.keystore.import_private_key(pem, KeyUsage.SIGNING, label, recorded=KeyRecord(dst))
    return info.key_id


@BOTH
@pytest.mark.parametrize("made_in", ["test", "live"])
def test_a_key_the_other_environment_made_gets_no_csr(ctx, live_ctx, made_in: str) -> None:  # type: ignore[no-untyped-def]
    _party(live_ctx)
    src, dst = (ctx, live_ctx) if made_in == "test" else (live_ctx, ctx)
    key_id = _copy_key(src, dst, "copied key")
    with pytest.raises(EnvironmentMismatch) as caught:
        create_org_csr(dst, key_id[:16], "supplier", EUI)
    said = caught.value.message
    assert key_id[:16] in said and src.env.label in said and dst.env.label in said, said
    # a key both environments hold is the other's for each: the one that made it refuses too
    with pytest.raises(EnvironmentMismatch):
        create_org_csr(src, key_id, "supplier", EUI)


@BOTH
def test_a_key_of_this_environment_alone_still_gets_its_csr(ctx, live_ctx) -> None:  # type: ignore[no-untyped-def]
    _party(live_ctx)
    generate_key(ctx, KeyUsage.SIGNING, "test only")
    info = generate_key(live_ctx, KeyUsage.SIGNING, "live only").key
    assert create_org_csr(live_ctx, info.key_id, "supplier", EUI).der


@BOTH
def test_cli_live_csr_org_refuses_a_test_key(ctx, live_ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _party(live_ctx)
    key_id = _copy_key(ctx, live_ctx, "TEST training key")
    out = tmp_path / "live.csr"
    r = cli_run("csr", "org", "--key", key_id[:16], "--role", "supplier", "--eui", EUI,
                "--out", str(out), env="live")
    assert r.code == 1 and "Test environment" in r.err and "Traceback" not in r.err, r.err
    assert not out.exists()
