"""A fast Device Certificate check against the profile and against the CSR it answers.

Cheaper than a full lint (no chain): meant to run on 50,000 certificates of a batch result.
Findings are (code, text) pairs; an empty list means the certificate is acceptable. The rules
(reference section 4): v3, empty subject, EC P-256 key equal to the CSR's, keyUsage critical with
the CSR's one bit, subjectAltName critical with the CSR's hardwareModuleName (hwType + EUI),
notAfter 99991231235959Z, certificatePolicies critical with one policy of the environment's
device policy set, subjectKeyIdentifier and authorityKeyIdentifier present, issuer one of the
environment's Device CA names when the profile lists any, and, when the caller gives the
environment's trusted Device CA certificates, the signature of one of them (one ECDSA verify):
a look-alike CA with the same name but another key issues nothing we file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID

from smki_desktop.crypto.device_csr import (
    HMN_OID,
    KEY_AGREEMENT,
    SIGNING,
    _usage_of,
    hw_type_reason,
    key_id_of_public_key,
    oid_text,
    parse_hardware_module_name,
)

DEVICE_NOT_AFTER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
Finding = tuple[str, str]
WARNING_CODES = frozenset({"issuer"})
"""Findings that are unusual but not a break of the profile (as issue 3's lint: an issuer name
not in the profile's list, e.g. the simulator's own Device CA, is a warning)."""


@dataclass(frozen=True, slots=True)
class DeviceCertFacts:
    key_id: str
    eui: bytes
    usage: str
    hw_type: str
    serial_hex: str
    issuer: str


def _name_key(name: x509.Name) -> tuple[tuple[str, str], ...]:
    """Compare names by attribute type and case-folded value (RFC 5280 style, not bytes)."""
    return tuple((a.oid.dotted_string, " ".join(str(a.value).split()).casefold())
                 for a in name)


@lru_cache(maxsize=64)
def _parse_ca_name(text: str) -> tuple[tuple[str, str], ...]:
    try:
        return _name_key(x509.Name.from_rfc4514_string(text))
    except ValueError:
        return ()


_ISSUERS: dict[bytes, tuple[str, tuple[tuple[str, str], ...]]] = {}


def _issuer(cert: x509.Certificate) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(RFC 4514 text, comparison key) of the issuer; cached, since a batch has one issuer."""
    raw = cert.issuer.public_bytes()
    hit = _ISSUERS.get(raw)
    if hit is None:
        if len(_ISSUERS) > 64:
            _ISSUERS.clear()
        hit = (cert.issuer.rfc4514_string(), _name_key(cert.issuer))
        _ISSUERS[raw] = hit
    return hit


_oid_text = lru_cache(maxsize=64)(oid_text)


def read_facts(cert: x509.Certificate) -> DeviceCertFacts:
    """Key id, EUI, usage and hwType of a device certificate (empty fields where unreadable)."""
    pub = cert.public_key()
    key_id = key_id_of_public_key(pub) if isinstance(pub, ec.EllipticCurvePublicKey) else ""
    eui, hw, usage = b"", "", ""
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        names = list(san.value)  # type: ignore[call-overload]
        if len(names) == 1 and isinstance(names[0], x509.OtherName) \
                and names[0].type_id.dotted_string == HMN_OID:
            hw_der, eui = parse_hardware_module_name(names[0].value)
            hw = _oid_text(hw_der)
    except (x509.ExtensionNotFound, ValueError):
        pass
    try:
        ku = cert.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
        usage = _usage_of(ku.value)  # type: ignore[arg-type]
    except (x509.ExtensionNotFound, ValueError):
        pass
    return DeviceCertFacts(key_id, eui, usage, hw, format(cert.serial_number, "x"),
                           _issuer(cert)[0])


def profile_findings(
    cert: x509.Certificate,
    facts: DeviceCertFacts,
    *,
    policy_oids: Iterable[str],
    ca_names: Iterable[str] = (),
    hw_types: Iterable[str] = (),
) -> list[Finding]:
    """The Device Certificate profile on its own (no CSR needed)."""
    out: list[Finding] = []
    if cert.version is not x509.Version.v3:
        out.append(("version", "not an X.509 v3 certificate"))
    if len(cert.subject) != 0:
        out.append(("subject", "a device certificate's subject must be empty"))
    pub = cert.public_key()
    if not isinstance(pub, ec.EllipticCurvePublicKey) or not isinstance(pub.curve, ec.SECP256R1):
        out.append(("key", "the key is not EC P-256"))
    try:
        exts = cert.extensions
    except ValueError as exc:
        return [*out, ("extensions", f"unreadable extensions ({exc})")]
    ku = _get(exts, ExtensionOID.KEY_USAGE)
    if ku is None or not ku.critical:
        out.append(("key-usage", "keyUsage missing or not critical"))
    elif facts.usage not in (SIGNING, KEY_AGREEMENT):
        out.append(("key-usage", "keyUsage must have exactly one bit"))
    san = _get(exts, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san is None or not san.critical:
        out.append(("san", "subjectAltName missing or not critical"))
    elif len(facts.eui) != 8:
        out.append(("san", "subjectAltName does not hold one hardwareModuleName with an "
                           "8-octet device ID"))
    hw_allowed = set(hw_types)
    if hw_allowed and "*" not in hw_allowed and facts.hw_type not in hw_allowed:
        out.append(("hw-type", hw_type_reason(facts.hw_type, hw_allowed)))
    if cert.not_valid_after_utc != DEVICE_NOT_AFTER:
        out.append(("validity", f"notAfter is {cert.not_valid_after_utc:%Y-%m-%d %H:%M:%S}Z, "
                                "not 9999-12-31 23:59:59Z"))
    out += _policy_findings(_get(exts, ExtensionOID.CERTIFICATE_POLICIES), set(policy_oids))
    if _get(exts, ExtensionOID.SUBJECT_KEY_IDENTIFIER) is None:
        out.append(("ski", "subjectKeyIdentifier missing"))
    if _get(exts, ExtensionOID.AUTHORITY_KEY_IDENTIFIER) is None:
        out.append(("aki", "authorityKeyIdentifier missing"))
    names = [k for k in (_parse_ca_name(n) for n in ca_names) if k]
    if names:
        text, key = _issuer(cert)
        if key not in names:
            out.append(("issuer", f"issuer {text} is not a Device CA of this environment"))
    return out


def _policy_findings(pol: x509.Extension[x509.ExtensionType] | None,
                     allowed: set[str]) -> list[Finding]:
    """certificatePolicies: critical, exactly one policy, one of this environment's."""
    if pol is None or not pol.critical:
        return [("policy", "certificatePolicies missing or not critical")]
    oids = [p.policy_identifier.dotted_string for p in pol.value]  # type: ignore[attr-defined]
    if len(oids) != 1:
        return [("policy", f"{len(oids)} policies; exactly one is required")]
    if allowed and oids[0] not in allowed:
        return [("policy", f"policy {oids[0]} is not a device policy of this environment")]
    if not allowed:
        return [("policy", "no device policy OID is configured for this environment")]
    return []


def csr_findings(facts: DeviceCertFacts, *, csr_key_id: str, csr_eui: bytes,
                 csr_usage: str) -> list[Finding]:
    """What must agree between a certificate and the CSR it answers (SEC L11.5-L11.7)."""
    out: list[Finding] = []
    if facts.key_id != csr_key_id:
        out.append(("key-mismatch", "the certificate's public key is not the CSR's"))
    if facts.usage and facts.usage != csr_usage:
        out.append(("key-usage", f"keyUsage is {facts.usage}; the CSR asked for {csr_usage}"))
    if facts.eui and facts.eui != csr_eui:
        out.append(("san", "the device EUI in subjectAltName is not the CSR's"))
    return out


def check_device_certificate(
    cert: x509.Certificate,
    *,
    csr_key_id: str,
    csr_eui: bytes,
    csr_usage: str,
    policy_oids: Iterable[str],
    ca_names: Iterable[str] = (),
    hw_types: Iterable[str] = (),
) -> list[Finding]:
    """Profile findings and disagreements with the CSR, for one certificate."""
    facts = read_facts(cert)
    return [*csr_findings(facts, csr_key_id=csr_key_id, csr_eui=csr_eui, csr_usage=csr_usage),
            *profile_findings(cert, facts, policy_oids=policy_oids, ca_names=ca_names,
                              hw_types=hw_types)]


_TRUSTED: dict[tuple[bytes, ...], dict[tuple[tuple[str, str], ...], list[x509.Certificate]]] = {}


def _trusted_by_name(ca_ders: tuple[bytes, ...]
                     ) -> dict[tuple[tuple[str, str], ...], list[x509.Certificate]]:
    """The trusted Device CA certificates by subject (comparison key); parsed once per
    process for the same set."""
    hit = _TRUSTED.get(ca_ders)
    if hit is None:
        hit = {}
        for der in ca_ders:
            try:
                ca = x509.load_der_x509_certificate(der)
            except ValueError:
                continue
            hit.setdefault(_name_key(ca.subject), []).append(ca)
        if len(_TRUSTED) > 8:
            _TRUSTED.clear()
        _TRUSTED[ca_ders] = hit
    return hit


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    pub = ca.public_key()
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            algo = cert.signature_hash_algorithm
            if algo is None:
                return False
            pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algo))
        else:
            cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def signature_findings(cert: x509.Certificate, trusted_cas: tuple[bytes, ...]) -> list[Finding]:
    """Whether one of the environment's trusted Device CA certificates (DER) signed `cert`:
    the name of the issuer proves nothing, anyone can make a CA of that name."""
    text, key = _issuer(cert)
    cands = _trusted_by_name(trusted_cas).get(key, [])
    if not cands:
        return [("signature", f"issuer {text} is not a Device CA this environment trusts (no "
                              "certificate of it among its trust anchors): its signature "
                              "cannot be checked")]
    if any(_signed_by(cert, ca) for ca in cands):
        return []
    return [("signature", f"not signed by the Device CA {text} this environment trusts: a CA "
                          "of the same name but another key issued it (a forgery)")]


CertCheck = tuple[str, tuple[str, bytes, str, str, str, str] | None, list[Finding]]
"""(error text, facts as a tuple, profile findings) for one certificate DER."""


def check_cert_chunk(ders: list[bytes], policy_oids: tuple[str, ...],
                     ca_names: tuple[str, ...], hw_types: tuple[str, ...],
                     trusted_cas: tuple[bytes, ...] | None = None) -> list[CertCheck]:
    """Worker-process entry: facts and profile findings of each certificate. With
    `trusted_cas` (the environment's trusted Device CA certificates, DER; possibly none), each
    certificate's signature is checked against them too (`signature_findings`); None leaves
    the signature to the caller (a certificate import checks the whole chain)."""
    out: list[CertCheck] = []
    for der in ders:
        try:
            cert = x509.load_der_x509_certificate(der)
            facts = read_facts(cert)
            found = profile_findings(cert, facts, policy_oids=policy_oids, ca_names=ca_names,
                                     hw_types=hw_types)
            if trusted_cas is not None:
                found += signature_findings(cert, trusted_cas)
        except ValueError as exc:
            out.append((f"not a certificate ({exc})", None, []))
            continue
        out.append(("", (facts.key_id, facts.eui, facts.usage, facts.hw_type, facts.serial_hex,
                         facts.issuer), found))
    return out


def _get(exts: x509.Extensions, oid: x509.ObjectIdentifier) -> x509.Extension[x509.ExtensionType] \
        | None:
    try:
        return exts.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None
