"""Organisation CSR builder: exact profile bytes, every output form, refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import csr as acsr
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.eui import Eui64
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage, key_id_for_spki
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.csr import OrgCsrRequest, build_org_csr
from smki_desktop.crypto.der import encode, to_der
from smki_desktop.crypto.lint import lint_der
from smki_desktop.crypto.memory_signer import MemorySigner
from smki_desktop.profile_data import load_profile

TEST = load_profile(Environment.TEST)
EUI = Eui64.parse("90-B3-D5-1F-30-01-00-00")


def signer(usage: KeyUsage, private=None) -> MemorySigner:  # type: ignore[no-untyped-def]
    key = private or ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    kt = KeyType.EC_P256 if isinstance(key, ec.EllipticCurvePrivateKey) else KeyType.RSA_2048
    info = KeyInfo(key_id_for_spki(spki), "t", kt, usage, Environment.TEST,
                   datetime.now(UTC), KeyLocation.OS_KEYRING, spki)
    return MemorySigner(key, info=info)


@pytest.mark.parametrize("usage", [KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT])
@pytest.mark.parametrize("cn", [None, "ACME ENERGY"])
def test_csr_is_exactly_the_profile(usage: KeyUsage, cn: str | None) -> None:
    s = signer(usage)
    der = build_org_csr(s, RemotePartyRole.SUPPLIER, EUI, cn)
    report = lint_der(der, TEST)
    assert report.findings == []
    assert report.fields.usage is usage and report.fields.eui == EUI
    assert report.fields.key_id == s.key.key_id and report.fields.cn == cn
    csr = x509.load_der_x509_csr(der)
    assert csr.is_signature_valid
    # uniqueIdentifier: BIT STRING, 0 unused bits, 8 octets
    assert b"\x06\x03\x55\x04\x2d\x03\x09\x00" + EUI.octets in der
    info = acsr.CertificationRequest.load(der)["certification_request_info"]
    assert len(info["attributes"]) == 1
    # signature algorithm without parameters: 30 0a 06 08 <ecdsa-with-SHA256>
    assert bytes.fromhex("300a06082a8648ce3d040302") in der


def test_ku_bits_encoding_matches_dcc_certificates() -> None:
    der = build_org_csr(signer(KeyUsage.KEY_AGREEMENT), RemotePartyRole.SUPPLIER, EUI)
    assert bytes.fromhex("0603551d0f0101ff040403020308") in der
    der = build_org_csr(signer(KeyUsage.SIGNING), RemotePartyRole.SUPPLIER, EUI)
    assert bytes.fromhex("0603551d0f0101ff040403020780") in der


@pytest.mark.parametrize("fmt", ["pem", "base64", "base64-64", "base64-76", "der"])
@pytest.mark.parametrize("crlf", [False, True])
def test_output_forms(fmt: str, crlf: bool) -> None:
    der = build_org_csr(signer(KeyUsage.SIGNING), RemotePartyRole.NETWORK_OPERATOR, EUI)
    out = encode(der, fmt, crlf=crlf)
    assert to_der(out) == der
    if fmt == "der":
        return
    text = out.decode("ascii")
    lines = text.split("\r\n" if crlf else "\n")[:-1]
    assert text.endswith("\r\n" if crlf else "\n")
    assert ("\r\n" in text) == crlf
    if fmt == "pem":
        assert lines[0] == "-----BEGIN CERTIFICATE REQUEST-----"
        assert lines[-1] == "-----END CERTIFICATE REQUEST-----"
        assert all(len(ln) <= 64 for ln in lines[1:-1])
    elif fmt == "base64":
        assert len(lines) == 1
    else:
        width = int(fmt.split("-")[1])
        assert all(len(ln) == width for ln in lines[:-1]) and len(lines[-1]) <= width


def test_refuses_wrong_keys() -> None:
    with pytest.raises(InputError, match="EC P-256"):
        build_org_csr(signer(KeyUsage.FILE_SIGNING, rsa.generate_private_key(65537, 2048)),
                      RemotePartyRole.SUPPLIER, EUI)
    with pytest.raises(InputError, match="not signing or key-agreement"):
        build_org_csr(signer(KeyUsage.FILE_SIGNING), RemotePartyRole.SUPPLIER, EUI)


def test_request_checked_against_party_type() -> None:
    OrgCsrRequest(RemotePartyRole.SUPPLIER, EUI, KeyUsage.SIGNING, "X").check(
        TEST, "import-supplier")
    # a rule of the profile, not bad input: a Refusal (exit 1), in proper English
    with pytest.raises(Refusal, match="Role: an import-supplier may request"):
        OrgCsrRequest(RemotePartyRole.NETWORK_OPERATOR, EUI, KeyUsage.SIGNING).check(
            TEST, "import-supplier")
    with pytest.raises(Refusal, match="Usage: role xmlSign allows signing for a gas-supplier, "
                                      "not key-agreement"):
        OrgCsrRequest(RemotePartyRole.XML_SIGN, EUI, KeyUsage.KEY_AGREEMENT).check(
            TEST, "gas-supplier")
    with pytest.raises(InputError, match="CN: longer"):
        OrgCsrRequest(RemotePartyRole.SUPPLIER, EUI, KeyUsage.SIGNING, "x" * 65).check(TEST)


@pytest.mark.parametrize("cn,char", [("a\nb", "U+000A"), ("\u202eevil", "U+202E"),
                                     ("ev\u200bil", "U+200B"), ("bell\x07", "U+0007"),
                                     ("\udcff\udcfe", "not UTF-8")])
def test_cn_must_be_one_line_of_plain_text(cn: str, char: str) -> None:
    """A line break, escape or bidirectional override in the CN is refused, naming the CN and
    the character, before any key signs a CSR bound for the DCC."""
    with pytest.raises(InputError, match=rf"^CN: holds .*{re.escape(char)}"):
        OrgCsrRequest(RemotePartyRole.SUPPLIER, EUI, KeyUsage.SIGNING, cn).check(TEST)


def test_a_csr_made_elsewhere_with_such_a_cn_is_flagged() -> None:
    from smki_desktop.crypto.lint import lint_bytes

    path = Path(__file__).parents[1] / "fixtures" / "lint" / "subject.cn-not-plain.csr.pem"
    report = lint_bytes(path.read_bytes(), TEST, path.name)
    assert report.rule_ids == ["subject.cn-not-plain"]
    assert "U+202E" in report.findings[0].message and not report.ok


@pytest.mark.parametrize("usage", [KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT])
@pytest.mark.parametrize("cn", [None, "ACME", "É" * 40])
def test_direct_der_equals_asn1crypto_assembly(usage: KeyUsage, cn: str | None) -> None:
    """The fast writer and the generic asn1crypto assembly give the same info bytes."""
    from smki_desktop.crypto.csr import (
        assemble_csr,
        key_usage_extension,
        org_csr_info_der,
        org_subject,
    )

    s = signer(usage)
    fast = org_csr_info_der(RemotePartyRole.SUPPLIER, EUI, usage, s.key.public_key_der, cn)
    generic = assemble_csr(org_subject(RemotePartyRole.SUPPLIER, EUI, cn), s.key.public_key_der,
                           [key_usage_extension(usage)], s)
    assert acsr.CertificationRequest.load(generic)["certification_request_info"].dump() == fast


@pytest.mark.parametrize("word,expected", [
    ("import-supplier", "an"), ("export-supplier", "an"), ("organisation", "an"),
    ("electricity-distributor", "an"), ("other-user", "an"), ("gas-supplier", "a"),
    ("device", "a"), ("user", "a"), ("unique key", "a"), ("hour", "an"), ("SRO", "an"),
    ("HSM", "an"), ("UTRN", "a"), ("ARO", "an"), ("DCC", "a"), ("X.509 file", "an"),
    ("07", "a"), ("8-byte EUI", "an"), ("", "a")])
def test_article_by_sound(word: str, expected: str) -> None:
    from smki_desktop.core.wording import article, with_article

    assert article(word) == expected
    assert with_article("organisation") + " CA" == "an organisation CA"
