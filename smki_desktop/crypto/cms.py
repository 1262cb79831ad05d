"""Detached CMS (PKCS#7) SignedData over the exact bytes of a file: sign and verify.

Signing hashes the content in chunks (so files of any size and keys on tokens work), builds the
signed attributes (contentType, signingTime, messageDigest) with `asn1crypto`, has the `Signer`
sign their DER and assembles a DER SignedData with the signer certificate included. The result
verifies with `openssl cms -verify -binary -inform DER -content FILE -in SIG`.

Verification is an independent code path: it parses with `asn1crypto`, re-hashes the content,
checks messageDigest and contentType, checks the signature with `cryptography` primitives and,
when trust anchors are given, the certificate chain (signatures and validity at the check time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from asn1crypto import algos, cms, keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.keys import KeyType
from smki_desktop.core.ports import Signer

CHUNK = 1 << 20  # 1 MiB: hashing speed is flat above this, memory stays small



@dataclass(frozen=True)
class Digest:
    """Content hashed before (in the same streamed pass that validated it): its digest, so that
    signing and the at-once verification do not read a large file again."""

    value: bytes
    algorithm: str = "sha256"


Content = bytes | bytearray | memoryview | BinaryIO | Digest


class SignatureInvalid(Refusal):
    """The signature does not verify over this content (changed file, wrong key, bad CMS)."""


class SignerUntrusted(SignatureInvalid):
    """The signature is intact but its signer does not chain to the given trust anchors."""


class NotSignedData(SignatureInvalid):
    """The signature bytes are not a DER CMS SignedData at all (a damaged or other file)."""


class ContentChanged(SignatureInvalid):
    """The content's digest is not the signed messageDigest: the content was changed after
    signing, or the signature is for other content."""


@dataclass(frozen=True)
class VerifiedSignature:
    """What a successful verification established."""

    signer_certificate: x509.Certificate | None
    signing_time: datetime | None
    digest: bytes  # of the content, with `digest_algorithm`
    digest_algorithm: str = "sha256"
    signature_algorithm: str = ""
    chain: tuple[x509.Certificate, ...] = field(default=())  # signer .. anchor when checked
    trusted: bool = False  # the chain to a trust anchor was checked
    certificates: tuple[x509.Certificate, ...] = field(default=())  # all carried in the CMS

    @property
    def digest_hex(self) -> str:
        return self.digest.hex()


# ----------------------------------------------------------------------------------------------
# hashing


def hash_content(content: Content, algorithm: str = "sha256") -> bytes:
    """Digest bytes or a binary stream (read in 1 MiB chunks from its current position); a
    `Digest` is its own value (it must be of `algorithm`)."""
    if isinstance(content, Digest):
        if content.algorithm != algorithm:
            raise SignatureInvalid(f"Signature: its digest algorithm is {algorithm}; the content "
                                   f"was hashed with {content.algorithm}.")
        return content.value
    h = hashlib.new(algorithm)
    if isinstance(content, bytes | bytearray | memoryview):
        h.update(content)
        return h.digest()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    readinto = getattr(content, "readinto", None)
    if readinto is not None:
        while True:
            n = readinto(view)
            if not n:
                break
            h.update(view[:n])
    else:
        while True:
            chunk = content.read(CHUNK)
            if not chunk:
                break
            h.update(chunk)
    return h.digest()


def hash_file(path: str, algorithm: str = "sha256") -> bytes:
    with open(path, "rb", buffering=0) as f:
        return hash_content(f, algorithm)


# ----------------------------------------------------------------------------------------------
# signing


def _cert_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _spki_der(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_identifier(spki_der: bytes) -> bytes:
    """RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING."""
    info = keys.PublicKeyInfo.load(spki_der)
    return hashlib.sha1(info["public_key"].contents[1:]).digest()


def _signing_time(at: datetime) -> cms.Time:
    if at.tzinfo is None:
        raise InputError("Signing time: a timezone-aware (UTC) datetime is required.")
    at = at.astimezone(UTC).replace(microsecond=0)
    if 1950 <= at.year < 2050:
        return cms.Time(name="utc_time", value=at)
    return cms.Time(name="generalized_time", value=at)


def signed_attributes(digest: bytes, signing_time: datetime) -> cms.CMSAttributes:
    """contentType = data, signingTime, messageDigest (DER SET OF, sorted by asn1crypto)."""
    return cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "signing_time", "values": [_signing_time(signing_time)]}),
            cms.CMSAttribute({"type": "message_digest", "values": [digest]}),
        ]
    )


def sign_detached(
    content: Content,
    signer: Signer,
    certificate: x509.Certificate | None,
    signing_time: datetime,
    extra_certs: Iterable[x509.Certificate] = (),
) -> bytes:
    """A DER CMS SignedData (detached, SHA-256) over the exact bytes of `content`.

    `certificate` must hold the signer's public key; it is included and named by issuer and
    serial number. Without it the signer is named by subjectKeyIdentifier (RFC 5280 method 1
    over the Signer's key) and only `extra_certs` are included.
    """
    key = signer.key
    if certificate is not None and _spki_der(certificate) != key.public_key_der:
        raise InputError(
            f"Certificate: it does not hold the public key of key {key.short_id} "
            f"(certificate serial {certificate.serial_number:x})."
        )
    if certificate is not None and signing_usage_problem(certificate):
        raise InputError(f"Certificate: {signing_usage_problem(certificate)}.")
    digest = hash_content(content)
    attrs = signed_attributes(digest, signing_time)
    signature = signer.sign(attrs.dump())

    if key.key_type is KeyType.EC_P256:
        sig_alg = cms.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})
    elif key.key_type is KeyType.RSA_2048:
        sig_alg = cms.SignedDigestAlgorithm({"algorithm": "sha256_rsa", "parameters": None})
    else:  # pragma: no cover - KeyType has two members
        raise InputError(f"Key {key.short_id}: type {key.key_type.value} cannot sign CMS.")

    certs: list[x509.Certificate] = []
    if certificate is not None:
        certs.append(certificate)
    for extra in extra_certs:
        if all(_cert_der(extra) != _cert_der(c) for c in certs):
            certs.append(extra)

    if certificate is not None:
        asn1_cert = asn1_x509.Certificate.load(_cert_der(certificate))
        sid = cms.SignerIdentifier(
            name="issuer_and_serial_number",
            value=cms.IssuerAndSerialNumber(
                {"issuer": asn1_cert.issuer, "serial_number": asn1_cert.serial_number}
            ),
        )
        version = "v1"
    else:
        sid = cms.SignerIdentifier(
            name="subject_key_identifier", value=key_identifier(key.public_key_der)
        )
        version = "v3"

    signer_info = cms.SignerInfo(
        {
            "version": version,
            "sid": sid,
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signed_attrs": attrs,
            "signature_algorithm": sig_alg,
            "signature": signature,
        }
    )
    fields: dict[str, object] = {
        "version": version,
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "data"},
        "signer_infos": [signer_info],
    }
    if certs:
        fields["certificates"] = [
            cms.CertificateChoices(
                name="certificate", value=asn1_x509.Certificate.load(_cert_der(c))
            )
            for c in certs
        ]
    signed_data = cms.SignedData(fields)
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return der


# ----------------------------------------------------------------------------------------------
# verification (independent of the signing code above: nothing is shared but hashing)

_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _load_signed_data(signature_der: bytes) -> cms.SignedData:
    try:
        info = cms.ContentInfo.load(bytes(signature_der), strict=True)
        if info["content_type"].native != "signed_data":
            raise NotSignedData(
                f"Signature: the CMS holds {info['content_type'].native}, not SignedData."
            )
        sd = info["content"]
        sd.native  # noqa: B018 - force a full parse so malformed input fails here
        return sd  # type: ignore[no-any-return,unused-ignore]
    except SignatureInvalid:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise NotSignedData(
            f"Signature: not a DER CMS SignedData ({exc.__class__.__name__}: {exc})."
        ) from None


def _carried_certs(sd: cms.SignedData) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    certs = sd["certificates"]
    if certs.native is None:
        return out
    for choice in certs:
        if choice.name != "certificate":
            continue
        try:
            out.append(x509.load_der_x509_certificate(choice.chosen.dump()))
        except ValueError as exc:
            raise SignatureInvalid(f"Signature: a certificate in the CMS is malformed ({exc}).") \
                from None
    return out


def _matches_sid(cert: x509.Certificate, sid: cms.SignerIdentifier) -> bool:
    if sid.name == "issuer_and_serial_number":
        want = sid.chosen
        asn1_cert = asn1_x509.Certificate.load(_cert_der(cert))
        return bool(
            asn1_cert.issuer == want["issuer"]
            and asn1_cert.serial_number == want["serial_number"].native
        )
    if sid.name == "subject_key_identifier":
        want_ski = sid.chosen.native
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            if ext.value.digest == want_ski:
                return True
        except x509.ExtensionNotFound:
            pass
        return bool(key_identifier(_spki_der(cert)) == want_ski)
    return False


def _verify_primitive(
    public_key: object, signature: bytes, data: bytes, sig_alg: str, digest_alg: str,
) -> None:
    """Raise InvalidSignature (or SignatureInvalid for an unsupported algorithm)."""
    if digest_alg not in _DIGESTS:
        raise SignatureInvalid(f"Signature: digest algorithm {digest_alg} is not supported.")
    algo: hashes.HashAlgorithm = _DIGESTS[digest_alg]()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not (sig_alg == "ecdsa" or sig_alg.endswith("_ecdsa")):
            raise SignatureInvalid(f"Signature: algorithm {sig_alg} does not fit an EC key.")
        public_key.verify(signature, data, ec.ECDSA(algo))
    elif isinstance(public_key, rsa.RSAPublicKey):
        if sig_alg not in ("rsassa_pkcs1v15",) and not sig_alg.endswith("_rsa"):
            raise SignatureInvalid(f"Signature: algorithm {sig_alg} does not fit an RSA key.")
        public_key.verify(signature, data, padding.PKCS1v15(), algo)
    else:
        raise SignatureInvalid("Signature: the signer's key is neither EC nor RSA.")


def signing_usage_problem(cert: x509.Certificate) -> str:
    """Why this certificate's keyUsage forbids signing content, or '' (no keyUsage: allowed)."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ""
    if ku.digital_signature or ku.content_commitment:
        return ""
    return (f"certificate {cert.subject.rfc4514_string()} does not allow signing (its keyUsage "
            "has neither digitalSignature nor nonRepudiation)")


def _check_validity(cert: x509.Certificate, at: datetime, what: str) -> None:
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        raise SignerUntrusted(
            f"{what} {cert.subject.rfc4514_string()} is not valid at {at:%Y-%m-%d %H:%M:%SZ} "
            f"(valid {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})."
        )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return True  # v1 roots; the anchor list is the trust decision
    return bool(bc.ca)


def build_chain(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    at: datetime,
) -> tuple[x509.Certificate, ...]:
    """Leaf .. anchor, each link's signature and validity checked; SignerUntrusted otherwise."""
    anchor_ders = {_cert_der(a) for a in anchors}
    chain = [leaf]
    _check_validity(leaf, at, "Signer certificate")
    current = leaf
    for _ in range(8):
        if _cert_der(current) in anchor_ders:
            return tuple(chain)
        for anchor in anchors:
            if _issued_by(current, anchor) and _is_ca(anchor):
                _check_validity(anchor, at, "Trust anchor")
                chain.append(anchor)
                return tuple(chain)
        nxt = next(
            (c for c in pool if c not in chain and _issued_by(current, c) and _is_ca(c)), None
        )
        if nxt is None:
            break
        _check_validity(nxt, at, "CA certificate")
        chain.append(nxt)
        current = nxt
    names = "; ".join(a.subject.rfc4514_string() for a in anchors) or "none"
    raise SignerUntrusted(
        f"Signer certificate {leaf.subject.rfc4514_string()} (issuer "
        f"{leaf.issuer.rfc4514_string()}) does not chain to a trust anchor of this environment "
        f"(anchors: {names})."
    )


def _signed_attributes(attrs: cms.CMSAttributes, digest: bytes
                       ) -> tuple[bytes, datetime | None]:
    """The bytes the signature covers (the signed attributes as a DER SET OF) and the signing
    time when one is signed, after checking contentType (id-data, once) and messageDigest (the
    content's, once). Refuses a SignerInfo without signed attributes: the signature would then
    be over the content's digest itself, and every signature a key ever made over a set of
    signed attributes would "sign" a file holding exactly that set's bytes. We sign with them,
    and so does openssl."""
    if attrs.native is None or len(attrs) == 0:
        raise SignatureInvalid(
            "Signature: it carries no signed attributes (contentType, messageDigest); a "
            "signature over the content's digest alone is not accepted.")
    found: dict[str, list[object]] = {}
    for attr in attrs:
        found.setdefault(attr["type"].native, []).append(attr)
    for needed in ("content_type", "message_digest"):
        if len(found.get(needed, [])) != 1:
            raise SignatureInvalid(f"Signature: signed attribute {needed} missing or repeated.")
    ct = found["content_type"][0]["values"][0].native  # type: ignore[index]
    if ct != "data":
        raise SignatureInvalid(f"Signature: signed contentType is {ct}, not id-data.")
    md = found["message_digest"][0]["values"][0].native  # type: ignore[index]
    if md != digest:
        raise ContentChanged(
            "Signature: the file is not the one signed (its digest does not match the one "
            "the signature holds): it was changed after signing, even by one byte or a line "
            "ending, or this signature is for another file."
        )
    signing_time: datetime | None = None
    if "signing_time" in found:
        value = found["signing_time"][0]["values"][0].native  # type: ignore[index]
        if isinstance(value, datetime):
            signing_time = value.astimezone(UTC)
    # the signature covers the DER SET OF, not the [0] IMPLICIT tagging inside SignerInfo
    return b"\x31" + attrs.dump()[1:], signing_time


def verify_detached(
    content: Content,
    signature_der: bytes,
    *,
    trust_anchors: Sequence[x509.Certificate] = (),
    at: datetime | None = None,
    extra_certs: Sequence[x509.Certificate] = (),
) -> VerifiedSignature:
    """Verify a detached CMS SignedData over `content` (bytes or a binary stream).

    Raises `SignatureInvalid` when the content, signature or structure is wrong and
    `SignerUntrusted` when trust anchors are given and the signer does not chain to one (the
    check time is `at`, else the signing time, else now). `extra_certs` supplies certificates
    the CMS does not carry.
    """
    sd = _load_signed_data(signature_der)
    if sd["encap_content_info"]["content_type"].native != "data":
        raise SignatureInvalid("Signature: the signed content type is not id-data.")
    if sd["encap_content_info"]["content"].native is not None:
        raise SignatureInvalid("Signature: it embeds content; a detached signature is expected.")
    infos = list(sd["signer_infos"])
    if len(infos) != 1:
        raise SignatureInvalid(f"Signature: expected one signer, found {len(infos)}.")
    si = infos[0]
    digest_alg = si["digest_algorithm"]["algorithm"].native
    if digest_alg not in _DIGESTS:
        raise SignatureInvalid(f"Signature: digest algorithm {digest_alg} is not supported.")
    sig_alg = si["signature_algorithm"]["algorithm"].native
    digest = hash_content(content, digest_alg)

    carried = _carried_certs(sd)
    pool = carried + [c for c in extra_certs if c not in carried]
    signer_cert = next((c for c in pool if _matches_sid(c, si["sid"])), None)
    if signer_cert is None:
        raise SignatureInvalid(
            "Signature: the signer's certificate is neither in the CMS nor supplied."
        )

    signed_bytes, signing_time = _signed_attributes(si["signed_attrs"], digest)
    signature = si["signature"].native
    try:
        _verify_primitive(signer_cert.public_key(), signature, signed_bytes, sig_alg, digest_alg)
    except InvalidSignature:
        raise SignatureInvalid(
            "Signature: it does not verify with the signer certificate's key (the signature or "
            "its attributes were altered)."
        ) from None

    problem = signing_usage_problem(signer_cert)
    if problem:
        raise SignatureInvalid(f"Signature: the signer {problem}.")
    chain: tuple[x509.Certificate, ...] = ()
    trusted = False
    if trust_anchors:
        check_at = at or signing_time or datetime.now(UTC)
        chain = build_chain(signer_cert, pool, trust_anchors, check_at)
        trusted = True
    return VerifiedSignature(
        signer_certificate=signer_cert,
        signing_time=signing_time,
        digest=digest,
        digest_algorithm=digest_alg,
        signature_algorithm=sig_alg,
        chain=chain,
        trusted=trusted,
        certificates=tuple(carried),
    )
