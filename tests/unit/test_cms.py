"""crypto/cms.py: detached CMS sign and the independent verify path (no openssl here; the
integration tests run openssl on every signature)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from asn1crypto import cms as asn1_cms

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyType
from smki_desktop.crypto.cms import (
    SignatureInvalid,
    SignerUntrusted,
    hash_content,
    sign_detached,
    verify_detached,
)
from smki_desktop.crypto.demo_pki import make_demo_pki
from smki_desktop.crypto.memory_signer import MemorySigner

AT = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
DATA = b"User ID,User Role\r\n90-B3-D5-1F-30-01-00-00,02\n"


@pytest.fixture(scope="module", params=[KeyType.EC_P256, KeyType.RSA_2048], ids=["ec", "rsa"])
def pki(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return make_demo_pki(Environment.TEST, AT, request.param)


def test_round_trip_bytes_and_stream_give_same_digest(pki) -> None:  # type: ignore[no-untyped-def]
    sig_bytes = sign_detached(DATA, pki.signer, pki.certificate, AT)
    sig_stream = sign_detached(io.BytesIO(DATA), pki.signer, pki.certificate, AT)
    for sig in (sig_bytes, sig_stream):
        v = verify_detached(DATA, sig, trust_anchors=[pki.root])
        assert v.trusted
        assert v.signing_time == AT
        assert v.digest == hash_content(DATA)
        assert v.signer_certificate == pki.certificate
        assert v.chain == (pki.certificate, pki.root)


def test_structure_has_the_three_signed_attributes(pki) -> None:  # type: ignore[no-untyped-def]
    sig = sign_detached(DATA, pki.signer, pki.certificate, AT)
    info = asn1_cms.ContentInfo.load(sig)
    sd = info["content"]
    assert info["content_type"].native == "signed_data"
    assert sd["encap_content_info"]["content"].native is None  # detached
    si = sd["signer_infos"][0]
    types = sorted(a["type"].native for a in si["signed_attrs"])
    assert types == ["content_type", "message_digest", "signing_time"]
    assert si["digest_algorithm"]["algorithm"].native == "sha256"
    expected = "sha256_ecdsa" if pki.signer.key.key_type is KeyType.EC_P256 else "sha256_rsa"
    assert si["signature_algorithm"]["algorithm"].native == expected
    assert len(sd["certificates"]) == 1


def test_one_byte_change_fails(pki) -> None:  # type: ignore[no-untyped-def]
    sig = sign_detached(DATA, pki.signer, pki.certificate, AT)
    changed = bytearray(DATA)
    changed[5] ^= 0x01
    with pytest.raises(SignatureInvalid, match="digest does not match"):
        verify_detached(bytes(changed), sig)


def test_crlf_to_lf_conversion_fails(pki) -> None:  # type: ignore[no-untyped-def]
    sig = sign_detached(DATA, pki.signer, pki.certificate, AT)
    with pytest.raises(SignatureInvalid):
        verify_detached(DATA.replace(b"\r\n", b"\n"), sig)


def test_tampered_signature_bytes_fail(pki) -> None:  # type: ignore[no-untyped-def]
    sig = bytearray(sign_detached(DATA, pki.signer, pki.certificate, AT))
    sig[-5] ^= 0xFF  # inside the signature value
    with pytest.raises(SignatureInvalid):
        verify_detached(DATA, bytes(sig))


def test_garbage_is_a_clear_error() -> None:
    with pytest.raises(SignatureInvalid, match="not a DER CMS"):
        verify_detached(DATA, b"\x30\x03\x02\x01")
    with pytest.raises(SignatureInvalid):
        verify_detached(DATA, b"hello")


def test_other_environment_anchor_rejects(pki) -> None:  # type: ignore[no-untyped-def]
    live = make_demo_pki(Environment.LIVE, AT)
    sig = sign_detached(DATA, pki.signer, pki.certificate, AT)
    with pytest.raises(SignerUntrusted, match="does not chain"):
        verify_detached(DATA, sig, trust_anchors=[live.root])


def test_expired_signer_certificate_is_untrusted(pki) -> None:  # type: ignore[no-untyped-def]
    sig = sign_detached(DATA, pki.signer, pki.certificate, AT)
    with pytest.raises(SignerUntrusted, match="not valid at"):
        verify_detached(DATA, sig, trust_anchors=[pki.root], at=AT + timedelta(days=4000))


def test_certificate_of_another_key_is_refused(pki) -> None:  # type: ignore[no-untyped-def]
    other = MemorySigner.generate()
    with pytest.raises(InputError, match="does not hold the public key"):
        sign_detached(DATA, other, pki.certificate, AT)


def test_subject_key_identifier_signer(pki) -> None:  # type: ignore[no-untyped-def]
    sig = sign_detached(DATA, pki.signer, None, AT)
    si = asn1_cms.ContentInfo.load(sig)["content"]["signer_infos"][0]
    assert si["sid"].name == "subject_key_identifier"
    with pytest.raises(SignatureInvalid, match="neither in the CMS"):
        verify_detached(DATA, sig)
    v = verify_detached(DATA, sig, extra_certs=[pki.certificate], trust_anchors=[pki.root])
    assert v.trusted and v.signer_certificate == pki.certificate


def test_signature_of_other_content_swapped_in(pki) -> None:  # type: ignore[no-untyped-def]
    """A valid signature for file A offered with file B."""
    sig_b = sign_detached(b"other file\n", pki.signer, pki.certificate, AT)
    with pytest.raises(SignatureInvalid):
        verify_detached(DATA, sig_b)


def test_naive_signing_time_is_refused(pki) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="timezone"):
        sign_detached(DATA, pki.signer, pki.certificate, datetime(2026, 1, 1))


def test_generalized_time_after_2049(pki) -> None:  # type: ignore[no-untyped-def]
    late = datetime(2051, 3, 4, 5, 6, 7, tzinfo=UTC)
    sig = sign_detached(DATA, pki.signer, pki.certificate, late)
    assert verify_detached(DATA, sig).signing_time == late


def test_large_stream_is_hashed_in_chunks(pki) -> None:  # type: ignore[no-untyped-def]
    blob = (b"0123456789abcdef" * 65536) * 3 + b"tail"  # 3 MiB + 4: crosses chunk borders
    sig = sign_detached(io.BytesIO(blob), pki.signer, pki.certificate, AT)
    assert verify_detached(io.BytesIO(blob), sig).digest == hash_content(blob)


def test_certificate_whose_key_usage_forbids_signing(pki) -> None:  # type: ignore[no-untyped-def]
    """The root's key signs with the root certificate (keyUsage keyCertSign, cRLSign only)."""
    root_signer = MemorySigner(pki.root_key)
    with pytest.raises(InputError, match="does not allow signing"):
        sign_detached(DATA, root_signer, pki.root, AT)
    # a CMS made that way anyway (signer named by key identifier) is refused by the verifier
    sig = sign_detached(DATA, root_signer, None, AT)
    with pytest.raises(SignatureInvalid, match="does not allow signing"):
        verify_detached(DATA, sig, extra_certs=[pki.root])


def test_openssl_verifies_our_signatures(pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The independent check: OpenSSL verifies what sign_detached makes (issuer+serial and
    key-identifier signers), and refuses it over changed content."""
    import subprocess

    pki = make_demo_pki(Environment.TEST, None, pki.signer.key.key_type)  # valid now

    content = tmp_path / "f.csv"
    content.write_bytes(DATA)
    root = tmp_path / "root.pem"
    root.write_bytes(pki.root_pem())
    cert = tmp_path / "cert.pem"
    cert.write_bytes(pki.cert_pem())
    now = datetime.now(UTC)
    for n, (c, extra) in enumerate([(pki.certificate, []), (None, ["-certfile", str(cert)])]):
        sig = tmp_path / f"s{n}.p7s"
        sig.write_bytes(sign_detached(DATA, pki.signer, c, now))
        args = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(sig),
                "-content", str(content), "-CAfile", str(root), "-out", "/dev/null", *extra]
        ok = subprocess.run(args, capture_output=True, text=True)
        assert ok.returncode == 0 and "Verification successful" in ok.stderr, ok.stderr
        changed = tmp_path / "changed.csv"
        changed.write_bytes(DATA.replace(b"\r\n", b"\n"))
        args[args.index(str(content))] = str(changed)
        bad = subprocess.run(args, capture_output=True, text=True)
        assert bad.returncode != 0


def test_a_signature_without_signed_attributes_is_refused(pki) -> None:  # type: ignore[no-untyped-def]
    """Attack review A1: a key's signature over a set of signed attributes is moved into a
    SignerInfo without any, over a "file" holding exactly that set's bytes. It verified (the
    signature covered the file's digest directly); it must not."""
    sig = sign_detached(DATA, pki.signer, pki.certificate, AT)
    sd = asn1_cms.ContentInfo.load(sig)["content"]
    si = sd["signer_infos"][0]
    forged_file = b"\x31" + si["signed_attrs"].dump()[1:]  # what the key really signed
    bare = asn1_cms.SignerInfo({
        "version": si["version"].native, "sid": si["sid"],
        "digest_algorithm": si["digest_algorithm"],
        "signature_algorithm": si["signature_algorithm"], "signature": si["signature"].native})
    forged = asn1_cms.ContentInfo({"content_type": "signed_data", "content": asn1_cms.SignedData({
        "version": sd["version"].native, "digest_algorithms": sd["digest_algorithms"],
        "encap_content_info": {"content_type": "data"}, "certificates": sd["certificates"],
        "signer_infos": [bare]})}).dump()
    with pytest.raises(SignatureInvalid, match="no signed attributes"):
        verify_detached(forged_file, forged, trust_anchors=[pki.root])
    with pytest.raises(SignatureInvalid, match="no signed attributes"):
        verify_detached(forged_file, forged)
