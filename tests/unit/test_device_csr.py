"""Device CSR profile check and generator: every rule has a crafted CSR that breaks it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from smki_desktop.crypto import device_csr as dc

EUI = bytes.fromhex("00DB123456789001")
HW = (dc.TEST_HW_TYPE,)


class _HMN(core.Sequence):
    _fields = [  # noqa: RUF012 (asn1crypto's declaration style)
        ("hwType", core.ObjectIdentifier), ("hwSerialNum", core.OctetString)]


def hmn(serial: bytes = EUI, hw_type: str = dc.TEST_HW_TYPE) -> bytes:
    return _HMN({"hwType": hw_type, "hwSerialNum": serial}).dump()


def ku(ds: bool = True, ka: bool = False, ke: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(ds, False, ke, False, ka, False, False, False, False)


def builder(*, subject: x509.Name | None = None, key_usage: x509.KeyUsage | None = None,
            ku_critical: bool = True, san: x509.GeneralName | None = None,
            san_critical: bool = True,
            extra: bool = False) -> x509.CertificateSigningRequestBuilder:
    b = x509.CertificateSigningRequestBuilder().subject_name(subject or x509.Name([]))
    b = b.add_extension(key_usage or ku(), critical=ku_critical)
    b = b.add_extension(x509.SubjectAlternativeName(
        [san or x509.OtherName(x509.ObjectIdentifier(dc.HMN_OID), hmn())]), critical=san_critical)
    if extra:
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
    return b


def der_of(b: x509.CertificateSigningRequestBuilder, key: object = None,
           alg: hashes.HashAlgorithm | None = None) -> bytes:
    k = key or ec.generate_private_key(ec.SECP256R1())
    return b.sign(k, alg or hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


def test_generated_csr_is_valid_and_equals_the_builders_tbs() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    for usage, ku_value in ((dc.SIGNING, ku()), (dc.KEY_AGREEMENT, ku(ds=False, ka=True))):
        mine = dc.build_device_csr(key, EUI, usage)
        ref = builder(key_usage=ku_value).sign(key, hashes.SHA256())
        assert x509.load_der_x509_csr(mine).tbs_certrequest_bytes == ref.tbs_certrequest_bytes
        code, reason, eui, got_usage, key_id, hw = dc.check_device_csr(mine, HW)
        assert (code, reason, eui, got_usage, hw) == ("", "", EUI, usage, dc.TEST_HW_TYPE)
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        import hashlib
        assert key_id == hashlib.sha256(spki).hexdigest()


def test_openssl_verifies_a_generated_csr(tmp_path: Path) -> None:
    _, _, der, _ = dc.generate_one(EUI, dc.SIGNING)
    f = tmp_path / "d.der"
    f.write_bytes(der)
    out = subprocess.run(["openssl", "req", "-inform", "DER", "-in", str(f), "-noout",
                          "-verify"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "verify OK" in (out.stdout + out.stderr)


def test_fixture_profile_values_accept_a_builder_csr() -> None:
    assert dc.check_device_csr(der_of(builder()), HW)[0] == ""


def _wrong_signature() -> bytes:
    der = bytearray(dc.generate_one(EUI, dc.SIGNING)[2])
    der[-5] ^= 0x01  # inside the ECDSA s value
    return bytes(der)


def _compressed_point() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.CompressedPoint)
    _, middle = dc._template(dc.SIGNING, dc.TEST_HW_TYPE)
    spki = dc._tlv(0x30, bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")
                   + dc._tlv(0x03, b"\x00" + point))
    inner = b"\x02\x01\x00\x30\x00" + spki + middle + EUI
    tbs = dc._tlv(0x30, inner)
    sig = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return dc._tlv(0x30, tbs + dc._ALG_ID + dc._tlv(0x03, b"\x00" + sig))


CASES = {
    "parse": lambda: b"\x30\x03\x02\x01\x00",
    "subject": lambda: der_of(builder(subject=x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "meter")]))),
    "key-p384": lambda: der_of(builder(), ec.generate_private_key(ec.SECP384R1())),
    "key-rsa": lambda: der_of(builder(), rsa.generate_private_key(65537, 2048)),
    "key-compressed": _compressed_point,
    "sig-alg": lambda: der_of(builder(), alg=hashes.SHA384()),
    "ku-not-critical": lambda: der_of(builder(ku_critical=False)),
    "ku-two-bits": lambda: der_of(builder(key_usage=ku(ds=True, ka=True))),
    "ku-extra-bit": lambda: der_of(builder(key_usage=ku(ke=True))),
    "san-not-critical": lambda: der_of(builder(san_critical=False)),
    "san-dns": lambda: der_of(builder(san=x509.DNSName("meter.example"))),
    "hw-type": lambda: der_of(builder(san=x509.OtherName(
        x509.ObjectIdentifier(dc.HMN_OID), hmn(hw_type="1.2.3.4")))),
    "eui-7": lambda: der_of(builder(san=x509.OtherName(
        x509.ObjectIdentifier(dc.HMN_OID), hmn(serial=EUI[:7])))),
    "extra-extension": lambda: der_of(builder(extra=True)),
    "signature": _wrong_signature,
}
EXPECTED = {
    "parse": "parse", "subject": "subject", "key-p384": "key", "key-rsa": "key",
    "key-compressed": "key", "sig-alg": "sig-alg", "ku-not-critical": "key-usage",
    "ku-two-bits": "key-usage", "ku-extra-bit": "key-usage", "san-not-critical": "san",
    "san-dns": "san", "hw-type": "hw-type", "eui-7": "eui", "extra-extension": "extensions",
    "signature": "signature",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_rule_rejects_its_crafted_csr(case: str) -> None:
    code, reason, *_ = dc.check_device_csr(CASES[case](), HW)
    assert code == EXPECTED[case], (code, reason)
    assert reason


def test_rejected_csr_still_names_its_device_where_it_can() -> None:
    code, _, eui, usage, key_id, _ = dc.check_device_csr(_wrong_signature(), HW)
    assert code == "signature" and eui == EUI and usage == dc.SIGNING and len(key_id) == 64


def test_empty_hw_type_set_rejects_every_hw_type_and_wildcard_accepts() -> None:
    der = dc.generate_one(EUI, dc.SIGNING)[2]
    code, reason = dc.check_device_csr(der, ())[:2]
    assert code == "hw-type"
    # not "is not the expected none configured": what is missing, and where to add it
    assert "profile lists no hwType OIDs" in reason and "Settings → Profiles" in reason
    assert dc.check_device_csr(der, ("*",))[0] == ""
    code, reason = dc.check_device_csr(der, ("1.2.3.4", "1.2.3.5"))[:2]
    assert code == "hw-type" and reason.endswith("is not one this environment accepts "
                                                 "(1.2.3.4, 1.2.3.5)")


def test_check_many_in_processes_keeps_order_and_matches_serial() -> None:
    plan = [((0x00DB123456000000 + i).to_bytes(8, "big"), dc.USAGES[i % 2]) for i in range(60)]
    gen = dc.generate_many(plan, keep_keys=False, processes=1)
    ders = [g[2] for g in gen]
    ders[7] = _wrong_signature()
    serial = dc.check_many(ders, HW, processes=1)
    parallel = dc.check_many(ders, HW, processes=2, chunk=10)
    assert serial == parallel
    assert [i for i, t in enumerate(parallel) if t[0]] == [7]
    assert [t[2] for t in parallel[:7]] == [e for e, _ in plan[:7]]


def test_generated_keys_match_their_csrs() -> None:
    _, _, der, pkcs8 = dc.generate_one(EUI, dc.KEY_AGREEMENT)
    key = serialization.load_der_private_key(pkcs8, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert dc.key_id_of_public_key(key.public_key()) == dc.check_device_csr(der, HW)[4]


def test_cancel_stops_between_chunks() -> None:
    class Sink:
        def __init__(self) -> None:
            self.calls = 0

        def progress(self, done: int, total: int, text: str = "") -> None:
            self.calls += 1

        @property
        def cancelled(self) -> bool:
            return self.calls >= 2

    plan = [(EUI, dc.SIGNING)] * 30
    with pytest.raises(dc.Cancelled):
        dc.generate_many(plan, keep_keys=False, processes=1, chunk=10, progress=Sink())


def test_canonical_fast_path_and_full_check_agree() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    canonical = dc.build_device_csr(key, EUI, dc.SIGNING)
    # a valid CSR in another (non-canonical) order: subjectAltName before keyUsage
    b = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    b = b.add_extension(x509.SubjectAlternativeName(
        [x509.OtherName(x509.ObjectIdentifier(dc.HMN_OID), hmn())]), critical=True)
    b = b.add_extension(ku(), critical=True)
    reordered = b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    assert dc._fast_check(canonical, HW, True) is not None
    assert dc._fast_check(reordered, HW, True) is None  # goes the full way
    assert dc.check_device_csr(canonical, HW)[1:] == dc.check_device_csr(reordered, HW)[1:]
    assert dc.check_device_csr(reordered, HW)[0] == ""
    # the full check on the canonical bytes gives the same answer as the fast path
    assert dc.check_device_csr(canonical, ("*",))[:5] == dc.check_device_csr(canonical, HW)[:5]
