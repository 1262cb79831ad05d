"""Shared set-up for the ADT tests: a Party and officer profile, a file-signing key in the real
OS keyring with a credential issued by a throwaway CA that is this environment's trust anchor,
and OpenSSL as the independent verifier."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.keys import KeyInfo, KeyType, KeyUsage
from smki_desktop.core.party import OfficerProfile, OfficerRole, PartyProfile, PartyType
from smki_desktop.crypto.demo_pki import issue, make_root
from smki_desktop.services import adt as adt_service
from smki_desktop.services.credentials import record_credential
from smki_desktop.services.party import set_officer, set_party

OWN_RANGE = "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"


@dataclass
class Aro:
    key: KeyInfo
    certificate: x509.Certificate
    root: x509.Certificate
    root_key: ec.EllipticCurvePrivateKey
    root_pem: Path


def set_profiles(ctx, role: OfficerRole = OfficerRole.ARO) -> None:  # type: ignore[no-untyped-def]
    if ctx.party() is None:
        set_party(ctx, PartyProfile("Example Energy", "EXEN", PartyType.IMPORT_SUPPLIER,
                                    (EuiRange.parse(OWN_RANGE),)))
    name = "Ada Aro" if role is OfficerRole.ARO else "Sam Sro"
    set_officer(ctx, OfficerProfile(name, role, f"{name.split()[0].lower()}@example.com"))


def make_aro(ctx, folder: Path, key_type: KeyType = KeyType.EC_P256,  # type: ignore[no-untyped-def]
             anchor: bool = True, root: tuple[ec.EllipticCurvePrivateKey, x509.Certificate]
             | None = None, register_id: str = "") -> Aro:
    """A file-signing key with a credential from a throwaway CA (a trust anchor unless told
    not); with `register_id`, the credential names that register entry (serialNumber)."""
    set_profiles(ctx)
    now = datetime.now(UTC)
    root_key, root_cert = root or make_root(ctx.env, now)
    info = ctx.keystore.generate(key_type, KeyUsage.FILE_SIGNING, "ARO file signing")
    cert = issue(root_key, root_cert, info.public_key_der, ctx.env, now, cn="Ada Aro",
                 register_id=register_id)
    record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    if anchor:
        adt_service.add_trust_anchor(ctx, root_cert.public_bytes(serialization.Encoding.PEM))
    folder.mkdir(parents=True, exist_ok=True)
    root_pem = folder / f"root-{ctx.env.value}-{info.key_id[:8]}.pem"
    root_pem.write_bytes(root_cert.public_bytes(serialization.Encoding.PEM))
    return Aro(info, cert, root_cert, root_key, root_pem)


def make_sro(ctx, folder: Path, aro: Aro, set_profile: bool = True,  # type: ignore[no-untyped-def]
             register_id: str = "") -> Aro:
    """The SRO's own file-signing key and credential (issued by the ARO's CA, so the same
    anchor), with the local officer profile set to the SRO (Sam Sro) unless told not to; with
    `register_id`, the credential names that register entry (serialNumber)."""
    if set_profile:
        set_profiles(ctx, OfficerRole.SRO)
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "SRO file signing")
    cert = issue(aro.root_key, aro.root, info.public_key_der, ctx.env, datetime.now(UTC),
                 cn="Sam Sro", register_id=register_id)
    record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    folder.mkdir(parents=True, exist_ok=True)
    return Aro(info, cert, aro.root, aro.root_key, aro.root_pem)


def officer_signing_key(ctx, cli_run, officer_id: str) -> str:  # type: ignore[no-untyped-def]
    """A file-signing key for a register entry, with a credential from a throwaway CA (made a
    trust anchor) that names the register id, linked to the entry: what an officer signs
    register changes and approvals with, without the simulator."""
    now = datetime.now(UTC)
    root_key, root_cert = make_root(ctx.env, now, cn=f"IKI test CA {officer_id}")
    adt_service.add_trust_anchor(ctx, root_cert.public_bytes(serialization.Encoding.PEM))
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, f"{officer_id} signing")
    cert = issue(root_key, root_cert, info.public_key_der, ctx.env, now, cn=officer_id,
                 register_id=officer_id)
    record_credential(ctx, cert, "file-signing", info.key_id, source="test")
    if cli_run is None:
        from smki_desktop.services.officers import link_key

        link_key(ctx, officer_id, info.key_id)
    else:
        r = cli_run("officer", "link-key", officer_id, info.key_id)
        assert r.code == 0, r.err
    return info.key_id


def signing_sro(ctx, cli_run, tmp_path: Path, name: str = "Sid Signer"  # type: ignore[no-untyped-def]
                ) -> tuple[str, str]:
    """Another active SRO with a linked signing key: (register id, key id)."""
    from tests.integration.test_officer_cli import make_active_sro

    sid = make_active_sro(cli_run, tmp_path, name)
    return sid, officer_signing_key(ctx, cli_run, sid)


def active_aro(cli_run, tmp_path: Path, sro_id: str, name: str = "Ada Aro",  # type: ignore[no-untyped-def]
               sro_name: str = "Sam Sro", *, ctx=None, sro_key: str | None = None) -> str:
    """An ARO register entry, nominated by `sro_id`, verified, and activated by that SRO's
    signature (with `sro_key`, else a signing key made for the SRO through `ctx`)."""
    from tests.integration.test_officer_cli import EVIDENCE, nominate

    if sro_key is None:
        assert ctx is not None, "give ctx (to make the SRO's signing key) or sro_key"
        sro_key = officer_signing_key(ctx, cli_run, sro_id)
    # the nomination is the SRO's act: they sign its record
    res = nominate(cli_run, tmp_path, "aro", name, nominator__officer_id=sro_id,
                   nominator__name=sro_name, sro_key=sro_key)
    assert res.code == 0, res.err
    oid = res.json()["officer"]["officer_id"]
    assert cli_run("officer", "verify", oid, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE).code == 0
    r = cli_run("officer", "activate", oid, "--as", sro_id, "--key", sro_key)
    assert r.code == 0, r.err
    return str(oid)



def simulator_active_aro(ctx, cli_run, tmp_path: Path, name: str = "Ann Officer",  # type: ignore[no-untyped-def]
                         organisation: str | None = None) -> tuple[str, str]:
    """An ARO entry in active standing (nominated, verified, activated by an active SRO's
    signature) whose file-signing credential the simulator issues, linked to the entry, and
    the local officer profile linked to it: (register id, key id). What an ARO signs offline
    bundles with."""
    from smki_desktop.services.party import set_officer
    from tests.integration.test_officer_cli import make_active_sro

    sro = make_active_sro(cli_run, tmp_path, "Sam Sro")
    aro = active_aro(cli_run, tmp_path, sro, name, "Sam Sro", ctx=ctx)
    org = ("--organisation", organisation) if organisation else ()
    r = cli_run("credential", "request", "--purpose", "file-signing", "--officer", aro, *org,
                "--json")
    assert r.code == 0, r.err
    key_id = str(r.json()["key_id"])
    r = cli_run("officer", "link-key", aro, key_id)
    assert r.code == 0, r.err
    set_officer(ctx, OfficerProfile(name, OfficerRole.ARO, "ann@example.com", register_id=aro))
    return aro, key_id


def offline_aro(ctx, cli_run, tmp_path: Path, name: str = "Ann Officer") -> str:  # type: ignore[no-untyped-def]
    """An ARO entry in active standing with a linked file-signing key (a throwaway CA's
    credential naming the entry, made a trust anchor) and the local profile linked to it,
    without the simulator: who signs offline bundles in a test. The register id."""
    from smki_desktop.services.party import set_officer
    from tests.integration.test_officer_cli import make_active_sro

    sro = make_active_sro(cli_run, tmp_path, "Sam Sro")
    aro = active_aro(cli_run, tmp_path, sro, name, "Sam Sro", ctx=ctx)
    officer_signing_key(ctx, cli_run, aro)
    set_officer(ctx, OfficerProfile(name, OfficerRole.ARO, "ann@example.com", register_id=aro))
    return aro


def signed_answers(ctx, folder: Path, request_bundle: Path, answers: list) -> Path:  # type: ignore[no-untyped-def,type-arg]
    """An answers bundle as a relay writes it: signed by this register's active ARO (the
    profile's), bound to `request_bundle`."""
    import hashlib

    from smki_desktop.portal.offline import write_answer_bundle
    from smki_desktop.services.portal_offline_checks import acting_aro
    from smki_desktop.services.token import signer_for

    actor = acting_aro(ctx, None, None, "test")
    raw = (request_bundle / "manifest.json").read_bytes()
    with signer_for(ctx, actor.key) as s:
        return write_answer_bundle(folder, ctx.env, answers, datetime.now(UTC),
                                   request_sha256=hashlib.sha256(raw).hexdigest(),
                                   refs=[a.ref for a in answers], signer=s,
                                   certificate=actor.credential.certificate,
                                   extra_certs=actor.chain[1:])


def openssl_verify(content: Path, sig: Path, ca: Path | None) -> subprocess.CompletedProcess[str]:
    trust = ["-CAfile", str(ca)] if ca else ["-noverify"]
    return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER",
                           "-content", str(content), "-in", str(sig), "-out", "/dev/null",
                           *trust], capture_output=True, text=True)


def assert_openssl_ok(content: Path, sig: Path, ca: Path | None) -> None:
    res = openssl_verify(content, sig, ca)
    assert res.returncode == 0, res.stderr
    assert "Verification successful" in res.stderr


def assert_openssl_fails(content: Path, sig: Path, ca: Path | None) -> None:
    res = openssl_verify(content, sig, ca)
    assert res.returncode != 0, res.stderr
    assert "Verification successful" not in res.stderr


def link_live_aro(live_ctx, cli_run, tmp_path: Path, key_id: str) -> str:  # type: ignore[no-untyped-def]
    """Live: an active ARO register entry (activated by a Live SRO's signature) holding
    `key_id`, since Live signs files only with a linked credential."""
    from tests.integration.test_officer_cli import EVIDENCE, make_active_sro, nominate

    sro = make_active_sro(cli_run, tmp_path, "Lara Live", env="live")
    sro_key = officer_signing_key(live_ctx, None, sro)
    res = nominate(cli_run, tmp_path, "aro", "Ada Aro", env="live",
                   nominator__officer_id=sro, nominator__name="Lara Live", sro_key=sro_key)
    assert res.code == 0, res.err
    aro = res.json()["officer"]["officer_id"]
    assert cli_run("officer", "verify", aro, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE, env="live").code == 0
    r = cli_run("officer", "activate", aro, "--as", sro, "--key", sro_key, env="live")
    assert r.code == 0, r.err
    r = cli_run("officer", "link-key", aro, key_id, env="live")
    assert r.code == 0, r.err
    return str(aro)


def simulator_aro_credential(cli_run, tmp_path: Path, name: str = "Ann Officer",  # type: ignore[no-untyped-def]
                             organisation: str | None = None) -> str:
    """A verified ARO entry (nominated by an active SRO) whose file-signing credential the
    simulator issues (`credential request --officer`), linked to the entry: the key id."""
    from tests.integration.test_officer_cli import EVIDENCE, make_active_sro, nominate

    sro = make_active_sro(cli_run, tmp_path, "Sam Sro")
    res = nominate(cli_run, tmp_path, "aro", name, nominator__officer_id=sro,
                   nominator__name="Sam Sro")
    assert res.code == 0, res.err
    aro = res.json()["officer"]["officer_id"]
    assert cli_run("officer", "verify", aro, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE).code == 0
    org = ("--organisation", organisation) if organisation else ()
    r = cli_run("credential", "request", "--purpose", "file-signing", "--officer", aro, *org,
                "--json")
    assert r.code == 0, r.err
    key_id = str(r.json()["key_id"])
    r = cli_run("officer", "link-key", aro, key_id)
    assert r.code == 0, r.err
    return key_id
