"""The certificate acceptance check as a pipeline of named checks (parse -> profile -> match ->
chain -> verdict): a certificate that fails at one stage is named by that stage's finding, the
other stages pass, and the import result carries the same findings as the read-only check.

Real parts: the Test context (SQLite on disk, the keyring), an Organisation CSR made by the
CSR service, and a little CA (made here with `cryptography`) added as a trust anchor."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyUsage
from smki_desktop.crypto.lint import ski_method2
from smki_desktop.services import certificates as certs
from smki_desktop.services import csr as csr_service
from smki_desktop.services.context import AppContext
from smki_desktop.services.keys import generate_key
from smki_desktop.services.trust import add_trust_anchor

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
POLICY = "1.2.826.0.1.8641679.1.2.1.4"


def _root() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "00"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "ZA")])
    root = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, root


def _issue(ctx: AppContext, *, policies: bool = True, role: str | None = None,
           days: int = 3650, trusted: bool = True, csr: bool = True) -> bytes:
    """A KA certificate for our own Organisation CSR, signed by a root that is (or is not) a
    trust anchor; the keyword arguments spoil one thing each."""
    root_key, root = _root()
    if trusted:
        add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.PEM))
    if csr:
        info = generate_key(ctx, KeyUsage.KEY_AGREEMENT, "own key").key
        made = csr_service.create_org_csr(ctx, info.key_id, "02", "90-B3-D5-1F-30-01-00-00")
        req = x509.load_der_x509_csr(made.der)
        subject, public, spki = req.subject, req.public_key(), info.public_key_der
    else:  # a key of nobody here
        other = ec.generate_private_key(ec.SECP256R1())
        public = other.public_key()
        spki = public.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)
        subject = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "02"),
            x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, "90-b3-d5-1f-30-01-00-09")])
    if role is not None:
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role)
                             if a.oid == NameOID.ORGANIZATIONAL_UNIT_NAME else a
                             for a in subject])
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(root.subject)
         .public_key(public).serial_number(0x4F << 120 | 7)
         .not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=days))
         .add_extension(x509.KeyUsage(False, False, False, False, True, False, False, False,
                                      False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier(ski_method2(spki)), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier(b"\x41" * 8, None, None), critical=False))
    if policies:
        b = b.add_extension(x509.CertificatePolicies([x509.PolicyInformation(
            x509.ObjectIdentifier(POLICY), None)]), critical=True)
    return b.sign(root_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _refusals(findings: list[certs.Finding]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings:
        if f.level == certs.REFUSAL and not f.summary:
            out.setdefault(f.check, []).append(f.message)
    return out


def _verdict(findings: list[certs.Finding]) -> certs.Finding:
    (v,) = [f for f in findings if f.check == certs.VERDICT]
    return v


def test_a_good_certificate_passes_every_stage(ctx: AppContext) -> None:
    pem = _issue(ctx)
    findings = certs.check_certificate(ctx, pem, at=AT)
    assert list(certs.findings_by_check(findings)) == list(certs.CHECKS)
    assert _refusals(findings) == {}
    assert _verdict(findings).message == certs.ACCEPTED
    result = certs.import_certificate(ctx, pem, at=AT)
    assert result.status == certs.ACCEPTED and result.findings == findings


def test_unreadable_input_is_a_parse_refusal(ctx: AppContext) -> None:
    findings = certs.check_certificate(ctx, b"-----BEGIN CERTIFICATE-----\nnot base64!\n")
    assert [(f.check, f.level) for f in findings] == [(certs.PARSE, certs.REFUSAL)]
    with pytest.raises(InputError) as err:
        certs.import_certificate(ctx, b"-----BEGIN CERTIFICATE-----\nnot base64!\n")
    assert str(err.value) == findings[0].message
    csr = csr_service.create_org_csr(ctx, generate_key(ctx, KeyUsage.SIGNING, "k").key.key_id,
                                     "02", "90-B3-D5-1F-30-01-00-01").der
    (only,) = certs.check_certificate(ctx, csr)
    assert only.check == certs.PARSE and "not an X.509 certificate" in only.message


def test_profile_failure_is_named_by_the_profile_check(ctx: AppContext) -> None:
    pem = _issue(ctx, policies=False)
    findings = certs.check_certificate(ctx, pem, at=AT)
    refused = _refusals(findings)
    assert list(refused) == [certs.PROFILE], refused
    assert all(m.startswith("profile: ") for m in refused[certs.PROFILE])
    result = certs.import_certificate(ctx, pem, at=AT)
    assert result.status == certs.TO_BE_REJECTED
    assert result.reasons == refused[certs.PROFILE]
    assert _verdict(result.findings).level == certs.REFUSAL


def test_subject_mismatch_is_named_by_the_match_check(ctx: AppContext) -> None:
    pem = _issue(ctx, role="03")
    refused = _refusals(certs.check_certificate(ctx, pem, at=AT))
    assert list(refused) == [certs.MATCH], refused
    assert any("role (OU)" in m for m in refused[certs.MATCH])
    result = certs.import_certificate(ctx, pem, at=AT)
    assert result.status == certs.TO_BE_REJECTED and result.reasons == refused[certs.MATCH]


def test_expiry_and_broken_chain_are_named_by_the_chain_check(ctx: AppContext) -> None:
    # first, while no anchor has the issuer's name: no anchor is a warning in Test
    untrusted = _issue(ctx, trusted=False)
    findings = certs.check_certificate(ctx, untrusted, at=AT)
    assert _refusals(findings) == {}
    assert next(f.message for f in findings if f.check == certs.CHAIN and
                f.level == certs.WARNING).endswith("- accepted in Test only")
    pem = _issue(ctx, days=30)  # expired at AT
    refused = _refusals(certs.check_certificate(ctx, pem, at=AT))
    assert list(refused) == [certs.CHAIN], refused
    assert refused[certs.CHAIN][0].startswith("validity: not valid at 2026-06-01")
    # now an anchor has that name: another root's signature under it is a refusal
    forged = _issue(ctx, trusted=False)
    refused = _refusals(certs.check_certificate(ctx, forged, at=AT))
    assert list(refused) == [certs.CHAIN], refused
    assert refused[certs.CHAIN][0].startswith(
        "chain: signature does not verify under trust anchor OU=00,CN=ZA (SHA-256 ")


def test_a_certificate_of_no_key_here_is_named_by_the_verdict(ctx: AppContext) -> None:
    pem = _issue(ctx, csr=False)
    findings = certs.check_certificate(ctx, pem, at=AT)
    verdict = _verdict(findings)
    assert verdict.message == certs.UNMATCHED and verdict.level == certs.WARNING
    assert [f.message for f in findings if f.check == certs.MATCH] == [
        "match: no CSR or key here has this public key"]
    result = certs.import_certificate(ctx, pem, at=AT)
    assert result.status == certs.UNMATCHED and result.warnings == [
        f.message for f in findings if f.level == certs.WARNING and not f.summary]


def test_cert_import_json_lists_each_check_s_findings(ctx: AppContext, cli_run,  # type: ignore[no-untyped-def]
                                                       tmp_path) -> None:
    """`smki cert import --json` carries the findings one by one ({check, ok, message}, with
    their level) beside every key it had before."""
    cert = tmp_path / "no-policies.pem"
    cert.write_bytes(_issue(ctx, policies=False))
    expected = certs.check_certificate(ctx, cert.read_bytes(), at=AT)
    ctx.close()
    res = cli_run("cert", "import", str(cert), "--at", AT.isoformat(), "--json")
    assert res.code == 1, res.err
    doc = json.loads(res.out)
    assert {"cert_id", "status", "duplicate", "accepted", "message", "csr_id", "device_csr",
            "device_status", "reasons", "warnings", "fields"} <= set(doc)
    assert doc["status"] == certs.TO_BE_REJECTED
    got = doc["findings"]
    assert [(f["check"], f["ok"], f["message"]) for f in got] == [
        (f.check, f.level != certs.REFUSAL, f.message) for f in expected]
    assert [f["check"] for f in got if not f["ok"] and not f["summary"]] == \
        [certs.PROFILE] * len(doc["reasons"])
    assert {f["check"] for f in got} == set(certs.CHECKS)
    assert all(f["ok"] for f in got if f["check"] in (certs.PARSE, certs.MATCH, certs.CHAIN))
