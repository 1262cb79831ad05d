"""ADT signing end to end with the real OS keyring: every signature is verified by OpenSSL;
one-byte changes, CRLF/LF conversion and the other environment's signature fail."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import (
    EnvironmentMismatch,
    InputError,
    NotFound,
    Refusal,
    SmkiError,
)
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.crypto.cms import SignatureInvalid
from smki_desktop.services import adt as adt_service
from tests.integration.adt_support import (
    active_aro,
    assert_openssl_fails,
    assert_openssl_ok,
    make_aro,
    make_sro,
    set_profiles,
)


def _template(ctx, tmp_path: Path, name: str = "adt.csv") -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path / name
    adt_service.write_template(ctx, out)
    return out


@pytest.mark.parametrize("key_type", [KeyType.EC_P256, KeyType.RSA_2048], ids=["ec", "rsa"])
def test_sign_verify_with_openssl_and_tamper(ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                             key_type: KeyType) -> None:
    aro = make_aro(ctx, tmp_path, key_type)
    f = _template(ctx, tmp_path)
    res = adt_service.sign_file(ctx, f, aro.key.key_id[:12], smsr="SMSR-000123")
    assert res.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
    assert res.verified.trusted and res.verified.chain[-1] == aro.root
    # openssl verifies the file signature and the manifest signature against the anchor
    assert_openssl_ok(f, res.signature, aro.root_pem)
    assert_openssl_ok(res.manifest, res.manifest_signature, aro.root_pem)
    manifest = json.loads(res.manifest.read_text())
    assert manifest["environment"] == "test"
    assert manifest["smsr_reference"] == "SMSR-000123"
    assert manifest["file"]["sha256"] == res.sha256
    assert manifest["signature"]["sha256"] == hashlib.sha256(res.signature.read_bytes()
                                                             ).hexdigest()
    # our verifier agrees
    v = adt_service.verify_file(ctx, f)
    assert v.sha256 == res.sha256 and v.manifest is not None and v.verified.trusted
    # the audit record carries the hashes
    assert res.audit.action == "adt.sign"
    assert res.audit.artifacts["file"] == res.sha256

    original = f.read_bytes()
    # one byte changed
    changed = bytearray(original)
    changed[len(changed) // 2] ^= 0x01
    f1 = tmp_path / "one-byte.csv"
    f1.write_bytes(bytes(changed))
    assert_openssl_fails(f1, res.signature, aro.root_pem)
    with pytest.raises(SignatureInvalid):
        adt_service.verify_file(ctx, f1, res.signature, manifest_path=res.manifest)
    # CRLF -> LF
    assert b"\r\n" in original
    f2 = tmp_path / "lf.csv"
    f2.write_bytes(original.replace(b"\r\n", b"\n"))
    assert_openssl_fails(f2, res.signature, aro.root_pem)
    with pytest.raises(SignatureInvalid):
        adt_service.verify_file(ctx, f2, res.signature)


def test_lf_file_signed_as_is(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No line-ending conversion: an LF file is signed over its LF bytes; CRLF then fails."""
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "lf-adt.csv"
    f.write_bytes(adt_service.template_bytes(ctx).replace(b"\r\n", b"\n"))
    res = adt_service.sign_file(ctx, f, aro.key.key_id)
    assert_openssl_ok(f, res.signature, aro.root_pem)
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(f.read_bytes().replace(b"\n", b"\r\n"))
    assert_openssl_fails(crlf, res.signature, aro.root_pem)


def test_other_environment_signature_fails(ctx, live_ctx, cli_run, tmp_path: Path  # type: ignore[no-untyped-def]
                                           ) -> None:
    test_aro = make_aro(ctx, tmp_path / "t")
    # the Live credential names the Live ARO's register entry (linked below)
    live_aro = make_aro(live_ctx, tmp_path / "l", register_id="ARO-0001")
    f = _template(ctx, tmp_path)
    res = adt_service.sign_file(ctx, f, test_aro.key.key_id)
    assert_openssl_ok(f, res.signature, test_aro.root_pem)
    # OpenSSL with the Live anchor rejects the Test signature
    assert_openssl_fails(f, res.signature, live_aro.root_pem)
    # Live verification names both environments (the signed manifest says Test)
    with pytest.raises(EnvironmentMismatch, match=r"Test environment.*Live environment"):
        adt_service.verify_file(live_ctx, f)
    # ... and without the manifest the chain to the Live anchors fails, naming both
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / f.name).write_bytes(f.read_bytes())
    (lone / res.signature.name).write_bytes(res.signature.read_bytes())
    with pytest.raises(EnvironmentMismatch, match=r"Live.*Test|Test.*Live"):
        adt_service.verify_file(live_ctx, lone / f.name)
    # a Live file signed with the Live credential verifies in Live, and fails in Test
    lf = tmp_path / "live.csv"
    lf.write_bytes(f.read_bytes())
    # Live signs only with a credential linked to the register: refused, then linked
    with pytest.raises(Refusal, match="in Live a file is signed only with a file-signing "
                                      "credential linked"):
        adt_service.sign_file(live_ctx, lf, live_aro.key.key_id)
    # in Test the same (unlinked) case is training: signed, with a warning
    assert any("Training (Test)" in w for w in res.warnings)
    from tests.integration.adt_support import link_live_aro

    assert link_live_aro(live_ctx, cli_run, tmp_path, live_aro.key.key_id) == "ARO-0001"
    lres = adt_service.sign_file(live_ctx, lf, live_aro.key.key_id)
    assert_openssl_ok(lf, lres.signature, live_aro.root_pem)
    assert adt_service.verify_file(live_ctx, lf).manifest.environment is Environment.LIVE
    assert_openssl_fails(lf, lres.signature, test_aro.root_pem)
    with pytest.raises(EnvironmentMismatch, match=r"Live environment.*Test environment"):
        adt_service.verify_file(ctx, lf)


def test_live_refuses_test_key_and_test_credential(ctx, live_ctx, tmp_path: Path  # type: ignore[no-untyped-def]
                                                   ) -> None:
    test_aro = make_aro(ctx, tmp_path / "t")
    set_profiles(live_ctx)
    f = _template(ctx, tmp_path)
    # a Test key offered to Live: Live's store does not hold it, and says whose it is
    with pytest.raises(EnvironmentMismatch, match=r"Test environment.*Live environment") as e:
        adt_service.sign_file(live_ctx, f, test_aro.key.key_id)
    assert not isinstance(e.value, NotFound)
    # a Live key whose certificate chains to the Test root, with Live anchors set up
    live_aro = make_aro(live_ctx, tmp_path / "l")
    from smki_desktop.crypto.demo_pki import issue
    from smki_desktop.services.credentials import record_credential

    info = live_ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "odd")
    from datetime import UTC, datetime

    bad_cert = issue(test_aro.root_key, test_aro.root, info.public_key_der, Environment.LIVE,
                     datetime.now(UTC))
    record_credential(live_ctx, bad_cert, "file-signing", info.key_id, source="test")
    with pytest.raises(EnvironmentMismatch, match="Live trust anchor"):
        adt_service.sign_file(live_ctx, f, info.key_id)
    assert not (tmp_path / "adt.csv.p7s").exists()
    assert live_aro.key.environment is Environment.LIVE


def test_live_without_anchor_refuses(live_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(live_ctx, tmp_path, anchor=False)
    f = tmp_path / "adt.csv"
    f.write_bytes(adt_service.template_bytes(live_ctx))
    with pytest.raises(Refusal, match="no file-signing trust anchor"):
        adt_service.sign_file(live_ctx, f, aro.key.key_id)


def test_organisation_key_is_refused(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_aro(ctx, tmp_path)
    f = _template(ctx, tmp_path)
    org = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "org DS")
    with pytest.raises(Refusal, match="never with an Organisation Certificate's key"):
        adt_service.sign_file(ctx, f, org.key_id)
    # a file-signing-usage key that (oddly) has an Organisation CSR is refused too
    odd = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "odd")
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO csr_requests(environment,key_id,family,usage,der,created) "
                  "VALUES(?,?,?,?,?,?)", ("test", odd.key_id, "organisation", "signing",
                                          b"x", "2026-01-01"))
    with pytest.raises(Refusal, match="Organisation CSR"):
        adt_service.sign_file(ctx, f, odd.key_id)


def test_invalid_file_and_key_without_credential_write_nothing(ctx, tmp_path: Path  # type: ignore[no-untyped-def]
                                                               ) -> None:
    aro = make_aro(ctx, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(adt_service.template_bytes(ctx).replace(b"250000", b"25O000"))
    with pytest.raises(InputError, match=r"line 2, column 6 .*non-numeric"):
        adt_service.sign_file(ctx, bad, aro.key.key_id)
    bare = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.FILE_SIGNING, "no credential")
    good = _template(ctx, tmp_path)
    with pytest.raises(Refusal, match="no valid file-signing credential"):
        adt_service.sign_file(ctx, good, bare.key_id)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".p7s", ".json")) == []


def test_existing_outputs_are_not_replaced(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    f = _template(ctx, tmp_path)
    first = adt_service.sign_file(ctx, f, aro.key.key_id)
    assert_openssl_ok(f, first.signature, aro.root_pem)
    before = first.signature.read_bytes()
    with pytest.raises(Refusal, match="already exists"):
        adt_service.sign_file(ctx, f, aro.key.key_id)
    assert first.signature.read_bytes() == before
    again = adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    assert_openssl_ok(f, again.signature, aro.root_pem)


def test_interrupted_set_is_refused_by_verify_and_replaced_by_the_next_signing(
        ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Threat model #18, fast half (the real kill -9 is in test_faults_process.py): the files a
    signing killed between its renames leaves (no manifest signature, the next one's `.part`
    beside it) are refused by verify as incomplete, and the next signing removes the `.part`
    and replaces them without --overwrite; a file not made by a signing is never replaced."""
    aro = make_aro(ctx, tmp_path)
    f = _template(ctx, tmp_path)
    first = adt_service.sign_file(ctx, f, aro.key.key_id, smsr="SMSR-000001")
    staged = first.manifest_signature.with_name(f".{first.manifest_signature.name}.abc123.part")
    staged.write_bytes(first.manifest_signature.read_bytes())
    first.manifest_signature.unlink()
    with pytest.raises(SignatureInvalid, match="incomplete"):
        adt_service.verify_file(ctx, f)
    # only the signature published: still refused as incomplete (it is an audited signature)
    kept_manifest = first.manifest.read_bytes()
    first.manifest.unlink()
    with pytest.raises(SignatureInvalid, match="incomplete"):
        adt_service.verify_file(ctx, f)
    first.manifest.write_bytes(kept_manifest)
    again = adt_service.sign_file(ctx, f, aro.key.key_id, smsr="SMSR-000002")
    assert not staged.exists()
    assert not list(tmp_path.glob(".*.part"))
    assert adt_service.verify_file(ctx, f).manifest.smsr_reference == "SMSR-000002"  # type: ignore[union-attr]
    assert_openssl_ok(again.manifest, again.manifest_signature, aro.root_pem)
    # a signature not recorded by any signing is someone else's file: refused, left as it is
    again.manifest_signature.unlink()
    again.signature.write_bytes(b"not ours")
    with pytest.raises(Refusal, match="already exists"):
        adt_service.sign_file(ctx, f, aro.key.key_id)
    assert again.signature.read_bytes() == b"not ours"


def test_sro_confirmation_and_delivery(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    f = _template(ctx, tmp_path)
    signed = adt_service.sign_file(ctx, f, aro.key.key_id, smsr="SMSR-9")
    assert_openssl_ok(f, signed.signature, aro.root_pem)
    # an ARO cannot confirm
    with pytest.raises(Refusal, match="not an SRO"):
        adt_service.confirm(ctx, f, aro.key.key_id)
    sro = make_sro(ctx, tmp_path, aro)  # the SRO's profile and own file-signing credential
    # an SRO cannot sign ADT files
    with pytest.raises(Refusal, match="not an ARO"):
        adt_service.sign_file(ctx, f, sro.key.key_id, overwrite=True)
    with pytest.raises(InputError, match="(?i)resubmitter"):
        adt_service.confirm(ctx, f, sro.key.key_id, decision="resubmit")
    # a contradictory input: a resubmitter named while the ADTs are to apply
    with pytest.raises(InputError, match=r"Resubmitter.*decision is apply"):
        adt_service.confirm(ctx, f, sro.key.key_id, decision="apply", resubmitter="Ada Aro")
    # a file that does not validate is not confirmed (nothing written)
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"this is not,an ADT file\r\n1,2\r\n")
    with pytest.raises(InputError, match=r"garbage\.csv \(not confirmed\)"):
        adt_service.confirm(ctx, garbage, sro.key.key_id)
    assert not list(tmp_path.glob("garbage.csv.confirmation-*"))
    conf = adt_service.confirm(ctx, f, sro.key.key_id, decision="apply", smsr="SMSR-9")
    assert_openssl_ok(conf.document, conf.signature, sro.root_pem)
    assert conf.verified.signer_certificate == sro.certificate
    # the register knows neither the profile nor the key: a warning, not a refusal
    assert any("Sam Sro (SRO) is not in the Test officer register" in w
               for w in conf.warnings), conf.warnings
    assert conf.audit.details["warnings"] == list(conf.warnings)
    doc = json.loads(conf.document.read_text())
    assert doc["adt_file"]["sha256"] == signed.sha256 and doc["decision"] == "apply"
    assert doc["user_ids"] == ["90-B3-D5-1F-30-01-00-00"] and doc["sro"]["name"] == "Sam Sro"
    conf2 = adt_service.confirm(ctx, f, sro.key.key_id, decision="resubmit",
                                resubmitter="Ada Aro", out_dir=tmp_path / "c2")
    assert_openssl_ok(conf2.document, conf2.signature, sro.root_pem)

    pkg = adt_service.deliver(ctx, f)
    with zipfile.ZipFile(pkg.package) as zf:
        names = sorted(zf.namelist())
        assert zf.read(f.name) == f.read_bytes()
    assert names == sorted([f.name, f.name + ".p7s", f.name + ".manifest.json",
                            f.name + ".manifest.json.p7s"])
    assert pkg.audit.action == "adt.deliver"
    assert pkg.audit.artifacts[f"member:{f.name}"] == signed.sha256
    assert pkg.audit.artifacts["package"] == hashlib.sha256(pkg.package.read_bytes()).hexdigest()
    # sending needs the portal layer's upload and a web-service credential (none here): the
    # refusal says so, and the package is still written and recorded
    with pytest.raises(SmkiError, match="package was written|no endpoint") as info:
        adt_service.deliver(ctx, f, out=tmp_path / "p2.zip", send=True)
    assert (tmp_path / "p2.zip").is_file(), info.value.message

    events = [e["event"] for e in adt_service.history(ctx, str(f))]
    assert events[0] == "signed" and "sro-apply" in events and "sro-resubmit" in events
    assert "delivered" in events
    # the audit chain still verifies after all of it
    actions = [r["action"] for r in ctx.db.conn().execute("SELECT action FROM audit_log")]
    for a in ("adt.template", "adt.sign", "adt.confirm", "adt.deliver"):
        assert a in actions


def test_delivery_refuses_tampered_file(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    f = _template(ctx, tmp_path)
    res = adt_service.sign_file(ctx, f, aro.key.key_id)
    assert_openssl_ok(f, res.signature, aro.root_pem)
    f.write_bytes(f.read_bytes() + b"\r\n")
    assert_openssl_fails(f, res.signature, aro.root_pem)
    with pytest.raises(SignatureInvalid):
        adt_service.deliver(ctx, f)
    assert not (tmp_path / "adt.csv.delivery.zip").exists()


def test_signature_elsewhere_verifies_and_delivers(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    f = _template(ctx, tmp_path)
    (tmp_path / "sigs").mkdir()
    res = adt_service.sign_file(ctx, f, aro.key.key_id, out=tmp_path / "sigs" / "adt.sig")
    assert res.signature == tmp_path / "sigs" / "adt.sig"
    assert_openssl_ok(f, res.signature, aro.root_pem)
    assert json.loads(res.manifest.read_text())["signature"]["name"] == "adt.sig"
    v = adt_service.verify_file(ctx, f, res.signature)
    assert v.manifest is not None and v.verified.trusted
    pkg = adt_service.deliver(ctx, f, signature=res.signature)
    with zipfile.ZipFile(pkg.package) as zf:
        assert sorted(zf.namelist()) == sorted(["adt.csv", "adt.sig", "adt.csv.manifest.json",
                                                "adt.csv.manifest.json.p7s"])


def test_sro_confirmation_follows_the_officer_register(ctx, cli_run, tmp_path: Path  # type: ignore[no-untyped-def]
                                                       ) -> None:
    from tests.integration.test_officer_cli import make_active_sro

    # the credentials name the register entries their keys are linked to below
    aro = make_aro(ctx, tmp_path, register_id="ARO-0001")
    f = _template(ctx, tmp_path)
    adt_service.sign_file(ctx, f, aro.key.key_id)
    from tests.integration.adt_support import signing_sro

    sro_id = make_active_sro(cli_run, tmp_path, "Sam Sro")
    other = signing_sro(ctx, cli_run, tmp_path)
    by_other = ("--as", other[0], "--key", other[1])
    aro_id = active_aro(cli_run, tmp_path, sro_id, ctx=ctx)
    assert (sro_id, aro_id) == ("SRO-0001", "ARO-0001")
    assert cli_run("officer", "link-key", aro_id, aro.key.key_id).code == 0
    sro = make_sro(ctx, tmp_path, aro, register_id=sro_id)
    # the SRO profile signing with a key the register says an ARO holds: refused, naming the rule
    # (resolve_actor: the key's holder, whose credential names them, is no SRO)
    with pytest.raises(Refusal, match=rf"Rule: confirming submitted ADTs is done by an SRO; "
                                      rf"{aro_id} \(Ada Aro\) is an ARO in the register"):
        adt_service.confirm(ctx, f, aro.key.key_id)
    assert not list(tmp_path.glob("adt.csv.confirmation-*"))
    # linked to the active SRO entry, with the SRO's own key: confirmed, no register warning
    assert cli_run("officer", "link-profile", sro_id).code == 0
    assert cli_run("officer", "link-key", sro_id, sro.key.key_id).code == 0
    conf = adt_service.confirm(ctx, f, sro.key.key_id)
    assert_openssl_ok(conf.document, conf.signature, sro.root_pem)
    assert not any("register" in w for w in conf.warnings), conf.warnings
    # the SRO suspended: their key is flagged and signs nothing, and the message says why
    assert cli_run("officer", "suspend", sro_id, "--reason", "secondment", *by_other).code == 0
    with pytest.raises(Refusal, match=rf"officer-suspended.*{sro_id} \(Sam Sro, SRO\), now "
                                      r"suspended: secondment"):
        adt_service.confirm(ctx, f, sro.key.key_id, out_dir=tmp_path / "c3")
    assert not (tmp_path / "c3").exists()
    # reinstated, but the profile now links to an entry that is not an active SRO
    assert cli_run("officer", "activate", sro_id, *by_other).code == 0
    assert cli_run("officer", "revoke", sro_id, "--reason", "leaver", *by_other).code == 0
    fresh = make_sro(ctx, tmp_path, aro, set_profile=False)  # a new key, held by nobody
    # the key is linked to no entry (refused first, the rule named), and the message still
    # says the profile's entry is revoked (linking the key would not help)
    with pytest.raises(Refusal, match=rf"signed only with a file-signing credential linked to "
                                      rf"an officer register entry; key {fresh.key.short_id} "
                                      rf"is linked to none\. The local officer profile links "
                                      rf"to {sro_id} \(Sam Sro\): SRO, revoked"):
        adt_service.confirm(ctx, f, fresh.key.key_id)


def test_suspended_or_revoked_officers_key_signs_nothing(ctx, cli_run, tmp_path: Path  # type: ignore[no-untyped-def]
                                                        ) -> None:
    from tests.integration.adt_support import officer_signing_key
    from tests.integration.test_officer_cli import make_active_sro

    aro = make_aro(ctx, tmp_path, register_id="ARO-0001")  # its credential names the entry
    sro_id = make_active_sro(cli_run, tmp_path, "Sam Sro")
    sro_key = officer_signing_key(ctx, cli_run, sro_id)
    by_sro = ("--as", sro_id, "--key", sro_key)
    aro_id = active_aro(cli_run, tmp_path, sro_id, sro_key=sro_key)
    assert aro_id == "ARO-0001"
    assert cli_run("officer", "link-key", aro_id, aro.key.key_id).code == 0
    f = _template(ctx, tmp_path)
    first = adt_service.sign_file(ctx, f, aro.key.key_id)
    before = first.signature.read_bytes()
    assert cli_run("officer", "suspend", aro_id, "--reason", "sick leave", *by_sro).code == 0
    with pytest.raises(Refusal, match=rf"flag officer-suspended.*{aro_id} \(Ada Aro, ARO\)"):
        adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    assert first.signature.read_bytes() == before
    # reinstated: signs again; revoked as a leaver: refused for good
    assert cli_run("officer", "activate", aro_id, *by_sro).code == 0
    adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    assert cli_run("officer", "revoke", aro_id, "--reason", "leaver", *by_sro).code == 0
    with pytest.raises(Refusal, match=rf"flag officer-revoked.*{aro_id} \(Ada Aro, ARO\), now "
                                      "revoked: leaver"):
        adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    with pytest.raises(Refusal, match="officer-revoked"):
        adt_service.signing_identity(ctx, aro.key.key_id)


def test_live_without_anchor_names_a_test_signature(ctx, live_ctx, tmp_path: Path  # type: ignore[no-untyped-def]
                                                    ) -> None:
    aro = make_aro(ctx, tmp_path)
    f = _template(ctx, tmp_path)
    res = adt_service.sign_file(ctx, f, aro.key.key_id)
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / f.name).write_bytes(f.read_bytes())
    (lone / res.signature.name).write_bytes(res.signature.read_bytes())
    assert adt_service.trust_anchors(live_ctx) == []
    with pytest.raises(EnvironmentMismatch,
                       match=r"Test environment's trust anchor: it is a Test signature, never "
                             r"accepted in the Live environment"):
        adt_service.verify_file(live_ctx, lone / f.name)
    # a signature the Test anchors do not vouch for either: the plain no-anchor refusal
    (lone / f.name).write_bytes(f.read_bytes() + b"\r\n")
    with pytest.raises(Refusal, match="The Live environment has no file-signing trust anchor"):
        adt_service.verify_file(live_ctx, lone / f.name)


def test_manifest_signed_at_equals_the_cms_signing_time(data_root: Path, tmp_path: Path  # type: ignore[no-untyped-def]
                                                        ) -> None:
    from datetime import UTC, datetime

    from smki_desktop.core.ports import FixedClock
    from smki_desktop.services.context import open_context

    clock = FixedClock(datetime.now(UTC).replace(microsecond=654321))
    c = open_context(Environment.TEST, data_root, clock=clock)
    try:
        aro = make_aro(c, tmp_path)
        f = _template(c, tmp_path)
        res = adt_service.sign_file(c, f, aro.key.key_id)
        manifest = json.loads(res.manifest.read_text())
        cms_time = res.verified.signing_time
        assert cms_time is not None and cms_time.microsecond == 0
        assert manifest["signed_at"] == cms_time.isoformat().replace("+00:00", "Z")
        assert res.manifest_data.signed_at == cms_time
        v = adt_service.verify_file(c, f)
        assert v.manifest is not None and v.manifest.signed_at == v.verified.signing_time
        row = c.db.conn().execute("SELECT signed_at FROM adt_files").fetchone()
        assert datetime.fromisoformat(row["signed_at"]) == cms_time
        sro = make_sro(c, tmp_path, aro)
        conf = adt_service.confirm(c, f, sro.key.key_id)
        assert conf.confirmation.confirmed_at == conf.verified.signing_time
    finally:
        c.close()
