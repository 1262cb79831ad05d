"""crypto.certs.verify_chain: a certificate whose issuer name is a trust anchor's but whose
signature does not verify under it is reported as such (a bad signature, naming the anchor),
not as an issuer missing from the anchors; a missing issuer stays "not in the trust anchors".

Real parts: little CAs and certificates made here with `cryptography`."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from smki_desktop.crypto.certs import verify_chain

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _name(ou: str, cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _root(name: x509.Name) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def _leaf(issuer: x509.Name, signer: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(_name("02", "leaf")).issuer_name(issuer)
            .public_key(ec.generate_private_key(ec.SECP256R1()).public_key()).serial_number(7)
            .not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=365))
            .sign(signer, hashes.SHA256()))


def test_signed_by_the_anchor_verifies() -> None:
    root, key = _root(_name("00", "ZA"))
    got = verify_chain(_leaf(root.subject, key), [root], at=AT)
    assert got.ok and not got.bad_signature and got.path[-1] == root


def test_anchor_name_with_another_keys_signature_is_a_bad_signature() -> None:
    root, _key = _root(_name("00", "ZA"))
    forged = _leaf(root.subject, ec.generate_private_key(ec.SECP256R1()))
    got = verify_chain(forged, [root], at=AT)
    fp = root.fingerprint(hashes.SHA256()).hex()[:16]
    assert not got.ok and got.bad_signature_under == [root]
    assert got.problems == [f"signature does not verify under trust anchor OU=00,CN=ZA "
                            f"(SHA-256 {fp}…)"]


def test_issuer_missing_from_the_anchors_is_not_a_bad_signature() -> None:
    root, _key = _root(_name("00", "ZA"))
    other_root, other_key = _root(_name("07", "Z1"))
    got = verify_chain(_leaf(other_root.subject, other_key), [root], at=AT)
    assert not got.ok and not got.bad_signature
    assert got.problems == ["issuer OU=07,CN=Z1 is not in the trust anchors of this environment "
                            "(no verifiable chain)"]


def test_one_of_two_anchors_of_the_same_name_verifies() -> None:
    """A re-keyed CA: two anchors of one name, the certificate signed by the second key."""
    old, _old_key = _root(_name("00", "ZA"))
    new, new_key = _root(_name("00", "ZA"))
    got = verify_chain(_leaf(new.subject, new_key), [old, new], at=AT)
    assert got.ok and not got.bad_signature and got.path[-1] == new
