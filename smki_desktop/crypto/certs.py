"""Certificates: parsing PEM/DER/bare Base64, names (RFC 5280 comparison, readable text),
and chain verification to a set of trust anchors at a given time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from smki_desktop.core.errors import InputError
from smki_desktop.crypto.der import detect_kind, to_der

UID_OID = "2.5.4.45"

_SHORT = {
    "common_name": "CN",
    "organizational_unit_name": "OU",
    "organization_name": "O",
    "country_name": "C",
    "locality_name": "L",
    "state_or_province_name": "ST",
    "serial_number": "serialNumber",
    "unique_identifier": "uniqueIdentifier",
}
_LONG = {v.lower(): k for k, v in _SHORT.items()}


def load_certificate(data: bytes, what: str = "certificate") -> x509.Certificate:
    """A certificate from PEM, DER or bare Base64; InputError naming `what` otherwise."""
    der = to_der(data, what)
    if detect_kind(der) != "certificate":
        raise InputError(f"{what}: not an X.509 certificate.")
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise InputError(f"{what}: the certificate cannot be read ({exc}).") from None


def load_certificates(data: bytes, what: str = "file") -> list[x509.Certificate]:
    """Every certificate in a PEM bundle (or the one DER/Base64 certificate)."""
    if b"-----BEGIN" in data:
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise InputError(f"{what}: no readable PEM certificate ({exc}).") from None
        return certs
    return [load_certificate(data, what)]


def asn1_name(name: x509.Name | ax509.Name | bytes) -> ax509.Name:
    if isinstance(name, ax509.Name):
        return name
    if isinstance(name, x509.Name):
        return ax509.Name.load(name.public_bytes())
    return ax509.Name.load(name)


_STRING_TAGS = {12: "utf-8", 19: "ascii", 22: "ascii", 20: "latin-1", 26: "ascii",
                30: "utf-16-be", 28: "utf-32-be"}


def _rdn_key(name_der: bytes) -> list[list[tuple[str, bytes | str]]]:
    """Each RDN as a sorted list of (type OID, prepared value): string values case-folded with
    white space collapsed (RFC 5280 7.1, simplified LDAP StringPrep); other values as DER."""
    from asn1crypto import core

    from smki_desktop.crypto.der import children, tlv

    out = []
    for _c, _m, _t, _h, rdn in children(tlv(name_der)[4]):
        items: list[tuple[str, bytes | str]] = []
        for _c2, _m2, _t2, _h2, atv in children(rdn):
            parts = children(atv)
            oid = core.ObjectIdentifier.load(parts[0][3] + parts[0][4]).dotted
            cls, _m3, tag, header, body = parts[1]
            value: bytes | str
            if cls == 0 and tag in _STRING_TAGS:
                value = " ".join(body.decode(_STRING_TAGS[tag], "replace").split()).casefold()
            else:
                value = header + body
            items.append((oid, value))
        out.append(sorted(items, key=repr))
    return out


def names_equal(a: x509.Name | ax509.Name | bytes, b: x509.Name | ax509.Name | bytes) -> bool:
    """RFC 5280 section 7.1 comparison (string types, case and white space folded)."""
    try:
        da, db = asn1_name(a).dump(), asn1_name(b).dump()
        return da == db or _rdn_key(da) == _rdn_key(db)
    except (ValueError, TypeError, IndexError):
        return False


def parse_name_text(text: str) -> ax509.Name:
    """`OU=07,CN=Z1` (attributes in DER order, one per RDN) as a Name."""
    rdns = []
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        if "=" not in part:
            raise InputError(f"Name {text!r}: {part!r} is not TYPE=value.")
        key, value = part.split("=", 1)
        attr = _LONG.get(key.strip().lower())
        if attr is None:
            raise InputError(f"Name {text!r}: attribute {key!r} is not known.")
        atv = ax509.NameTypeAndValue({"type": attr, "value": ax509.DirectoryString(
            name="utf8_string", value=value.strip())})
        rdns.append(ax509.RelativeDistinguishedName([atv]))
    return ax509.Name(name="", value=ax509.RDNSequence(rdns))


def name_text(name: x509.Name | ax509.Name | bytes) -> str:
    """Readable `CN=…,OU=02,uniqueIdentifier=90-B3-…` in DER order; '' for an empty name."""
    from smki_desktop.crypto.der import children, tlv

    n = asn1_name(name)
    parts = []
    for _cls, _m, _t, _h, rdn in children(tlv(n.dump())[4]):
        for _c2, _m2, _t2, _h2, atv in children(rdn):
            items = children(atv)
            if len(items) != 2:
                continue
            from asn1crypto import core

            oid = core.ObjectIdentifier.load(items[0][3] + items[0][4]).dotted
            label = _SHORT.get(ax509.NameType.map(oid), oid)
            cls, _m3, tag, _h3, body = items[1]
            if oid == UID_OID and tag == 3 and len(body) == 9 and body[0] == 0:
                value = "-".join(f"{b:02X}" for b in body[1:])
            elif tag in (12, 19, 22, 20, 26, 30) and cls == 0:
                value = body.decode("utf-16-be" if tag == 30 else "utf-8", "replace")
            else:
                value = "#" + (items[1][3] + body).hex()
            parts.append(f"{label}={value}")
    return ",".join(parts)


def verify_signature(issuer_key: object, signature: bytes, data: bytes,
                     hash_alg: hashes.HashAlgorithm) -> bool:
    try:
        if isinstance(issuer_key, ec.EllipticCurvePublicKey):
            issuer_key.verify(signature, data, ec.ECDSA(hash_alg))
        elif isinstance(issuer_key, rsa.RSAPublicKey):
            issuer_key.verify(signature, data, padding.PKCS1v15(), hash_alg)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def is_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Name match by RFC 5280 rules and a valid signature by the issuer's key."""
    if not names_equal(cert.issuer, issuer.subject):
        return False
    alg = cert.signature_hash_algorithm
    if alg is None:
        return False
    return verify_signature(issuer.public_key(), cert.signature, cert.tbs_certificate_bytes, alg)


def valid_at(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


@dataclass
class ChainResult:
    ok: bool
    path: list[x509.Certificate] = field(default_factory=list)  # leaf .. anchor
    problems: list[str] = field(default_factory=list)
    # A trust anchor's name is the issuer's, but the signature does not verify under its key
    # (and no other anchor or intermediate carries the chain on): a forgery or a wrong anchor,
    # not a missing one. The anchors named so are in `bad_signature_under`.
    bad_signature_under: list[x509.Certificate] = field(default_factory=list)

    @property
    def bad_signature(self) -> bool:
        return bool(self.bad_signature_under)


def signature_mismatch_note(anchor: x509.Certificate) -> str:
    """The problem of a certificate whose issuer name is `anchor`'s but whose signature does
    not verify under its key, naming the anchor by subject and SHA-256 fingerprint."""
    return (f"signature does not verify under trust anchor {name_text(anchor.subject) or '-'} "
            f"(SHA-256 {anchor.fingerprint(hashes.SHA256()).hex()[:16]}…)")


def verify_chain(cert: x509.Certificate, anchors: list[x509.Certificate], *,
                 intermediates: list[x509.Certificate] | None = None,
                 at: datetime | None = None, max_depth: int = 5) -> ChainResult:
    """Find a path from `cert` to one of `anchors` (through `intermediates`), each link
    signed by the next, every certificate valid at `at` (now by default). When the issuer's
    name is an anchor's but the signature does not verify under it, the result says so
    (`bad_signature_under`): that is not an anchor missing from the set."""
    when = at or datetime.now(UTC)
    pool = list(intermediates or [])
    path = [cert]
    current = cert
    for _ in range(max_depth):
        for anchor in anchors:
            same = current.fingerprint(hashes.SHA256()) == anchor.fingerprint(hashes.SHA256())
            if same or is_issued_by(current, anchor):
                if not same:
                    path.append(anchor)
                bad = [c for c in path if not valid_at(c, when)]
                problems = [
                    f"{name_text(c.subject) or 'certificate'} (serial {c.serial_number:X}) is not "
                    f"valid at {when:%Y-%m-%d %H:%M:%SZ}: valid {c.not_valid_before_utc:%Y-%m-%d}"
                    f" to {c.not_valid_after_utc:%Y-%m-%d}" for c in bad
                ]
                return ChainResult(not problems, path, problems)
        nxt = next((c for c in pool if is_issued_by(current, c)), None)
        if nxt is None:
            named = [a for a in anchors if names_equal(current.issuer, a.subject)]
            if named:
                return ChainResult(False, path, [signature_mismatch_note(a) for a in named],
                                   bad_signature_under=named)
            return ChainResult(False, path, [
                f"issuer {name_text(current.issuer)!s} is not in the trust anchors of this "
                "environment (no verifiable chain)"
            ])
        pool.remove(nxt)
        path.append(nxt)
        current = nxt
    return ChainResult(False, path, ["chain longer than allowed"])
