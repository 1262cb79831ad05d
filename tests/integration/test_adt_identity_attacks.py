"""Regression tests: ADT/Action signing, SRO confirmation and `adt verify`/`adt deliver` follow
the identity rules of every officer action (role, standing and credential naming from the signed
register, revocation, vouched anchors, the chain at the current time)."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.adt.manifest import Manifest
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal, SmkiError
from smki_desktop.core.party import OfficerProfile, OfficerRole
from smki_desktop.crypto.cms import sign_detached
from smki_desktop.crypto.demo_pki import issue, make_root
from smki_desktop.crypto.memory_signer import MemorySigner
from smki_desktop.services import adt as adt_service
from smki_desktop.services.party import set_officer
from tests.integration.adt_support import officer_signing_key, set_profiles
from tests.integration.test_officer_cli import EVIDENCE, make_active_sro, nominate
from tests.support.raw_store import raw_sql

pytestmark = pytest.mark.uses_store

def _sql(ctx, sql: str, params: tuple) -> None:  # type: ignore[no-untyped-def,type-arg]
    """What someone who can write the store does, outside the app."""
    raw_sql(ctx.paths.root, sql, params, ctx.env.value)


def _tmpl(ctx, tmp_path, name="adt.csv"):
    out = tmp_path / name
    adt_service.write_template(ctx, out)
    return out


def _live_team(live_ctx, cli_run, tmp_path):
    set_profiles(live_ctx)
    sro = make_active_sro(cli_run, tmp_path, "Lara Live", env="live")
    sro_key = officer_signing_key(live_ctx, None, sro)
    res = nominate(cli_run, tmp_path, "aro", "Ada Aro", env="live",
                   nominator__officer_id=sro, nominator__name="Lara Live")
    aro = res.json()["officer"]["officer_id"]
    assert cli_run("officer", "verify", aro, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE, env="live").code == 0
    r = cli_run("officer", "activate", aro, "--as", sro, "--key", sro_key, env="live")
    assert r.code == 0, r.err
    aro_key = officer_signing_key(live_ctx, None, aro)
    return sro, sro_key, aro, aro_key


def test_A_sro_only_officer_signs_adt_in_live(live_ctx, cli_run, tmp_path):
    """An SRO (no ARO nomination) sets the local profile's role to 'aro' and signs."""
    set_profiles(live_ctx)
    sro = make_active_sro(cli_run, tmp_path, "Lara Live", env="live")
    sro_key = officer_signing_key(live_ctx, None, sro)
    set_officer(live_ctx, OfficerProfile("Lara Live", OfficerRole.ARO, "lara@example.com"))
    f = _tmpl(live_ctx, tmp_path)
    with pytest.raises(Refusal, match="is done by an ARO; SRO-0001"):
        adt_service.sign_file(live_ctx, f, sro_key, as_ref=sro)
    with pytest.raises(Refusal, match="is done by an ARO"):
        adt_service.sign_file(live_ctx, f, sro_key)
    assert not Path(str(f) + ".p7s").exists()


def test_B_nominated_verified_not_active_aro_signs_in_live(live_ctx, cli_run, tmp_path):
    set_profiles(live_ctx)
    sro = make_active_sro(cli_run, tmp_path, "Lara Live", env="live")
    res = nominate(cli_run, tmp_path, "aro", "Ada Aro", env="live",
                   nominator__officer_id=sro, nominator__name="Lara Live")
    aro = res.json()["officer"]["officer_id"]
    assert cli_run("officer", "verify", aro, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE, env="live").code == 0
    key = officer_signing_key(live_ctx, None, aro)
    st = cli_run("--json", "officer", "show", aro, env="live").json()
    f = _tmpl(live_ctx, tmp_path)
    assert st["status"] == "verified"
    with pytest.raises(Refusal, match="active officer; ARO-0001 .* is verified"):
        adt_service.sign_file(live_ctx, f, key, as_ref=aro)


def test_C_suspended_aro_clears_flag_and_signs_in_live(live_ctx, cli_run, tmp_path):
    sro, sro_key, aro, aro_key = _live_team(live_ctx, cli_run, tmp_path)
    f = _tmpl(live_ctx, tmp_path)
    r = cli_run("officer", "suspend", aro, "--reason", "gross misconduct", "--as", sro,
                "--key", sro_key, env="live")
    assert r.code == 0, r.err
    with pytest.raises(SmkiError) as e:
        adt_service.sign_file(live_ctx, f, aro_key)
    assert "officer-suspended" in str(e.value)
    _sql(live_ctx, "UPDATE keys SET flags='' WHERE key_id=?", (aro_key,))  # the ARO edits it
    for as_ref in (aro, None):
        with pytest.raises(Refusal, match="active officer; ARO-0001 .* is suspended"):
            adt_service.sign_file(live_ctx, f, aro_key, as_ref=as_ref)
    assert not Path(str(f) + ".p7s").exists()


def test_D_revoked_credential_signs_and_verifies_in_live(live_ctx, cli_run, tmp_path):
    from smki_desktop.services.credential_store import _issuer_key, find_credential
    from smki_desktop.store.repos.credential_status import RevokedCredentialsRepo
    _sro, _sro_key, aro, aro_key = _live_team(live_ctx, cli_run, tmp_path)
    cert = find_credential(live_ctx, "file-signing", aro_key).certificate
    RevokedCredentialsRepo(live_ctx.db, "live").add(
        _issuer_key(cert.issuer), [(f"{cert.serial_number:X}", "2026-01-01T00:00:00+00:00")],
        "0" * 64)
    f = _tmpl(live_ctx, tmp_path)
    with pytest.raises(Refusal, match="credential that is not revoked"):
        adt_service.sign_file(live_ctx, f, aro_key, as_ref=aro)
    assert not Path(str(f) + ".p7s").exists()


def test_D2_file_signed_before_its_credential_is_revoked_no_longer_verifies(
        live_ctx, cli_run, tmp_path):  # type: ignore[no-untyped-def]
    from smki_desktop.services.credential_store import _issuer_key, find_credential
    from smki_desktop.store.repos.credential_status import RevokedCredentialsRepo
    _sro, _sro_key, _aro, aro_key = _live_team(live_ctx, cli_run, tmp_path)
    f = _tmpl(live_ctx, tmp_path)
    adt_service.sign_file(live_ctx, f, aro_key)
    assert adt_service.verify_file(live_ctx, f).as_dict()["valid"]
    cert = find_credential(live_ctx, "file-signing", aro_key).certificate
    RevokedCredentialsRepo(live_ctx.db, "live").add(
        _issuer_key(cert.issuer), [(f"{cert.serial_number:X}", "2026-01-01T00:00:00+00:00")],
        "0" * 64)
    with pytest.raises(Refusal, match="not revoked"):
        adt_service.verify_file(live_ctx, f)


def test_D3_file_of_an_aro_suspended_since_verifies_with_a_warning(
        live_ctx, cli_run, tmp_path):  # type: ignore[no-untyped-def]
    """Signed here while active (the audit record proves it): still valid, the standing named;
    the same file copied elsewhere without that record would be refused."""
    sro, sro_key, aro, aro_key = _live_team(live_ctx, cli_run, tmp_path)
    f = _tmpl(live_ctx, tmp_path)
    adt_service.sign_file(live_ctx, f, aro_key)
    assert cli_run("officer", "suspend", aro, "--reason", "leave", "--as", sro, "--key",
                   sro_key, env="live").code == 0
    v = adt_service.verify_file(live_ctx, f)
    assert any("suspended" in w and "signed while" in w for w in v.warnings), v.warnings


def test_E_aro_confirms_as_sro_in_live_via_link_row(live_ctx, cli_run, tmp_path):
    sro, _sro_key, _aro, aro_key = _live_team(live_ctx, cli_run, tmp_path)
    f = _tmpl(live_ctx, tmp_path)
    set_officer(live_ctx, OfficerProfile("Ada Aro", OfficerRole.SRO, "ada@example.com"))
    with pytest.raises(SmkiError) as e:
        adt_service.confirm(live_ctx, f, aro_key)
    assert "SRO" in str(e.value)
    # the ARO moves the link of their own key to the SRO's entry
    _sql(live_ctx, "UPDATE officer_credentials SET officer_id=? WHERE key_id=?", (sro, aro_key))
    with pytest.raises(Refusal, match="credential names ARO-0001, not SRO-0001"):
        adt_service.confirm(live_ctx, f, aro_key)
    with pytest.raises(Refusal):
        adt_service.confirm(live_ctx, f, aro_key, as_ref=sro)
    assert not list(tmp_path.glob("*.confirmation-*"))


def test_E2_the_sro_confirms_in_live(live_ctx, cli_run, tmp_path):  # type: ignore[no-untyped-def]
    _sro, sro_key, _aro, _aro_key = _live_team(live_ctx, cli_run, tmp_path)
    f = _tmpl(live_ctx, tmp_path)
    set_officer(live_ctx, OfficerProfile("Lara Live", OfficerRole.SRO, "lara@example.com"))
    res = adt_service.confirm(live_ctx, f, sro_key)
    assert res.signature.is_file() and not res.warnings


ROWS = ("User ID,User Role,Service Request Type,Period,User Warning Threshold,"
        "User Quarantine Threshold\r\n")


def _signed_set(ctx, f: Path, key, cert, chain, at: datetime):
    """What someone holding `key`/`cert` produces outside the app: F.p7s + manifest + sig."""
    s = MemorySigner(key, environment=ctx.env)
    data = f.read_bytes()
    sig = sign_detached(data, s, cert, at, chain)
    m = Manifest(kind="adt-file", environment=ctx.env, file_name=f.name, file_size=len(data),
                 file_sha256=hashlib.sha256(data).hexdigest(), signature_name=f.name + ".p7s",
                 signature_sha256=hashlib.sha256(sig).hexdigest(), signed_at=at,
                 signer_key_id=s.key.key_id,
                 signer_certificate_sha256=hashlib.sha256(
                     cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
                 signer_subject=cert.subject.rfc4514_string(),
                 signer_issuer=cert.issuer.rfc4514_string(),
                 signer_serial=f"{cert.serial_number:X}", profile="smki-desktop-adt/2",
                 smsr_reference="SR-1", party_id="EXEN", officer="Ada Aro (ARO)")
    mb = m.to_bytes()
    (f.parent / (f.name + ".p7s")).write_bytes(sig)
    (f.parent / (f.name + ".manifest.json")).write_bytes(mb)
    (f.parent / (f.name + ".manifest.json.p7s")).write_bytes(sign_detached(mb, s, cert, at,
                                                                            chain))


def _live_anchor(live_ctx, cli_run, tmp_path):
    """Live with a legitimately added (audited) anchor and an active SRO under it."""
    set_profiles(live_ctx)
    sro = make_active_sro(cli_run, tmp_path, "Lara Live", env="live")
    officer_signing_key(live_ctx, None, sro)
    return sro


def test_G1_verify_and_deliver_accept_a_stranger_under_the_anchor(live_ctx, cli_run, tmp_path):
    """A certificate under the anchor naming no officer, linked to nobody, never seen here."""
    now = datetime.now(UTC).replace(microsecond=0)
    root_key, root = make_root(Environment.LIVE, now, cn="Live IKI CA")
    adt_service.add_trust_anchor(live_ctx, root.public_bytes(serialization.Encoding.PEM))
    set_profiles(live_ctx)
    k = ec.generate_private_key(ec.SECP256R1())
    pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    cert = issue(root_key, root, pub, Environment.LIVE, now, cn="Mallory Nobody")
    f = tmp_path / "adt.csv"
    adt_service.write_template(live_ctx, f)
    _signed_set(live_ctx, f, k, cert, [root], now)
    with pytest.raises(Refusal, match="names none"):
        adt_service.verify_file(live_ctx, f, require_manifest=True)
    with pytest.raises(Refusal, match="names none"):
        adt_service.deliver(live_ctx, f)


def test_G2_expired_credential_backdated_verifies(live_ctx, cli_run, tmp_path):
    now = datetime.now(UTC).replace(microsecond=0)
    past = now - timedelta(days=400)
    root_key, root = make_root(Environment.LIVE, past, cn="Live IKI CA")
    adt_service.add_trust_anchor(live_ctx, root.public_bytes(serialization.Encoding.PEM))
    set_profiles(live_ctx)
    k = ec.generate_private_key(ec.SECP256R1())
    pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    cert = issue(root_key, root, pub, Environment.LIVE, past, cn="Ex Aro", days=30)
    f = tmp_path / "adt.csv"
    adt_service.write_template(live_ctx, f)   # the file written today
    _signed_set(live_ctx, f, k, cert, [root], past + timedelta(days=1))
    with pytest.raises(Refusal, match="credential valid now"):
        adt_service.verify_file(live_ctx, f, require_manifest=True)


def test_G3_unvouched_anchor_row_verifies(live_ctx, cli_run, tmp_path):
    _live_anchor(live_ctx, cli_run, tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    root_key, root = make_root(Environment.LIVE, now, cn="Evil CA")
    der = root.public_bytes(serialization.Encoding.DER)
    _sql(live_ctx, "INSERT INTO trust_anchors VALUES (?,?,?,?,?,?)",
         (root.fingerprint(hashes.SHA256()).hex(), "live", "CN=Evil", "user", der,
          now.isoformat()))
    k = ec.generate_private_key(ec.SECP256R1())
    pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    cert = issue(root_key, root, pub, Environment.LIVE, now, cn="Lara Live",
                 register_id="SRO-0001")
    f = tmp_path / "adt.csv"
    adt_service.write_template(live_ctx, f)
    _signed_set(live_ctx, f, k, cert, [root], now)
    with pytest.raises(Refusal, match="not added through SMKI Desktop"):
        adt_service.verify_file(live_ctx, f, require_manifest=True)


