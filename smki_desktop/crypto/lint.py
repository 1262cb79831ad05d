"""Profile lint of SMKI CSRs and certificates (Organisation or Device, detected). Their profile
fields (role, EUI, usage, device EUI, hwType) are read by `crypto.fields`, which other parts use
without the lint.

Everything is read from the DER with `asn1crypto` and a small TLV walker, so wrongly encoded
files (a UTF8String uniqueIdentifier, NULL signature parameters, a device SAN OpenSSL calls
`<unsupported>`) are reported instead of failing to parse.

Public functions:
- `lint_bytes(data, profile, what) -> LintReport`  (InputError if not a CSR or certificate)
- `lint_der(der, profile) -> LintReport`
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asn1crypto import core
from asn1crypto import x509 as ax509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.errors import InputError
from smki_desktop.core.lint_rules import Finding, finding, has_errors
from smki_desktop.core.plain_text import bad_char
from smki_desktop.core.profiles import SmkiProfile
from smki_desktop.core.wording import with_article
from smki_desktop.crypto.certs import names_equal, parse_name_text, verify_signature
from smki_desktop.crypto.der import Kind, children, tlv, to_der
from smki_desktop.crypto.fields import (
    _DAMAGE,
    DEVICE_NOT_AFTER,
    OID_AKI,
    OID_CN,
    OID_EC_PUBLIC_KEY,
    OID_ECDSA_SHA256,
    OID_KU,
    OID_OU,
    OID_P256,
    OID_POLICIES,
    OID_SAN,
    OID_SKI,
    OID_UID,
    Family,
    ProfileFields,
    RawExtension,
    _fields,
    _name_attrs,
    _oid,
    _parse,
    _Parsed,
    _usage_bits,
    decode_device_san,
)

_HASH_FOR_SIG: dict[str, type[hashes.HashAlgorithm]] = {
    "1.2.840.10045.4.3.2": hashes.SHA256,
    "1.2.840.10045.4.3.3": hashes.SHA384,
    "1.2.840.10045.4.3.4": hashes.SHA512,
    "1.2.840.10045.4.1": hashes.SHA1,
}

_ALLOWED_EXT: dict[tuple[Kind, Family], set[str]] = {
    ("csr", "organisation"): {OID_KU},
    ("csr", "device"): {OID_KU, OID_SAN},
    ("certificate", "organisation"): {OID_KU, OID_SKI, OID_POLICIES, OID_AKI},
    ("certificate", "device"): {OID_KU, OID_SKI, OID_SAN, OID_POLICIES, OID_AKI},
}

# ---------------------------------------------------------------------------------------------
# lint


@dataclass
class LintReport:
    what: str
    kind: Kind
    family: Family
    fields: ProfileFields
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)

    @property
    def rule_ids(self) -> list[str]:
        return [f.rule_id for f in self.findings]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.what,
            "kind": self.kind,
            "family": self.family,
            "ok": self.ok,
            "fields": self.fields.to_json(),
            "findings": [f.to_json() for f in self.findings],
        }


def lint_bytes(data: bytes, profile: SmkiProfile, what: str = "file") -> LintReport:
    """Lint a CSR or certificate in any encoding; InputError if it is neither."""
    der = to_der(data, what)
    return lint_der(der, profile, what)


def lint_der(der: bytes, profile: SmkiProfile, what: str = "file") -> LintReport:
    try:
        p = _parse(der)
        fields = _fields(p)
    except InputError as exc:
        raise InputError(f"{what}: {exc.message}") from None
    except _DAMAGE as exc:
        raise InputError(f"{what}: a damaged CSR or certificate ({exc})") from None
    out: list[Finding] = []
    try:
        _lint(p, fields, profile, out)
    except _DAMAGE as exc:  # damaged inner structure
        raise InputError(f"{what}: a damaged {p.kind} ({exc})") from None
    return LintReport(what, p.kind, fields.family, fields, out)


def _lint(p: _Parsed, f: ProfileFields, profile: SmkiProfile, out: list[Finding]) -> None:
    def add(rule: str, msg: str) -> None:
        out.append(finding(rule, msg))

    if f.family == "organisation":
        _lint_org_subject(p, f, profile, add)
    elif _name_attrs(p.subject_der):
        add("subject.device-not-empty", f"device subject is {f.subject!r}, not empty")
    pub_ok = _lint_key(p, add)
    _lint_sig_alg(p, add)
    if p.kind == "csr":
        _lint_csr(p, pub_ok, add)
    else:
        _lint_cert(p, f, profile, add)
    _lint_extensions(p, f, profile, add)


def _lint_org_subject(p: _Parsed, f: ProfileFields, profile: SmkiProfile, add: Any) -> None:
    attrs = _name_attrs(p.subject_der)
    types = [a.oid for a in attrs]
    has_ou, has_uid = OID_OU in types, OID_UID in types
    if not has_ou:
        add("subject.ou-missing", "the subject has no OU (Remote Party Role)")
    if not has_uid:
        add("subject.uid-missing", "the subject has no uniqueIdentifier (2.5.4.45, the EUI-64)")
    multi = any(a.multi for a in attrs)
    if has_ou and has_uid and (
        multi or types not in ([OID_OU, OID_UID], [OID_CN, OID_OU, OID_UID])
    ):
        add("subject.order", f"subject {f.subject!r}: expected [CN,] OU, uniqueIdentifier in "
            "that order, one attribute per RDN")
    for a in attrs:
        if a.oid == OID_OU:
            if a.tag != 12 or a.cls != 0:
                add("subject.string-type", f"OU is encoded with tag {a.tag}, not UTF8String")
            text = a.body.decode("utf-8", "replace")
            if len(text) != 2 or any(c not in "0123456789ABCDEF" for c in text):
                add("subject.ou-format", f"OU {text!r} is not two upper-case hexadecimal digits")
            elif f.role is None:
                add("subject.ou-unknown-role", f"OU {text!r} is not a Remote Party Role code")
        elif a.oid == OID_CN:
            if a.tag != 12 or a.cls != 0:
                add("subject.string-type", f"CN is encoded with tag {a.tag}, not UTF8String")
            if f.role is not None and not profile.cn_allowed(f.role):
                add("subject.cn-not-allowed", f"the {profile.environment.label} profile allows "
                    f"no CN for role {f.role.name_text} ({f.role.ou})")
            elif len(a.body) > profile.cn_max_length:
                add("subject.cn-not-allowed", f"CN is {len(a.body)} octets, more than "
                    f"{profile.cn_max_length}")
            bad = bad_char(a.body.decode("utf-8", "replace"))
            if bad is not None:
                add("subject.cn-not-plain", f"CN holds the control or format character {bad} "
                    "(a line break, an escape, a bidirectional override...): not one line of "
                    "plain text")
        elif a.oid == OID_UID:
            if a.tag != 3 or a.cls != 0:
                kind = {12: "UTF8String", 19: "PrintableString", 4: "OCTET STRING"}.get(
                    a.tag, f"tag {a.tag}")
                add("subject.uid-encoding", f"uniqueIdentifier is encoded as {kind}, not a "
                    "BIT STRING")
            elif len(a.body) != 9 or a.body[0] != 0:
                bits = max(0, (len(a.body) - 1) * 8 - (a.body[0] if a.body else 0))
                add("subject.uid-length", f"uniqueIdentifier BIT STRING has {bits} bits, not 64")


def _lint_key(p: _Parsed, add: Any) -> bool:
    spki = ax509.PublicKeyInfo.load(p.spki_der)
    alg = spki["algorithm"]
    alg_oid = alg["algorithm"].dotted
    params = alg["parameters"]
    curve = params.chosen.dotted if alg_oid == OID_EC_PUBLIC_KEY and \
        isinstance(params.chosen, core.ObjectIdentifier) else None
    if alg_oid != OID_EC_PUBLIC_KEY or curve != OID_P256:
        what = alg["algorithm"].native if alg_oid != OID_EC_PUBLIC_KEY else f"EC curve {curve}"
        add("key.not-p256", f"public key is {what}, not EC P-256")
        return False
    point = bytes(spki["public_key"])
    try:
        if len(point) != 65 or point[0] != 4:
            raise ValueError("not uncompressed")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        add("key.point-form", f"EC point ({len(point)} octets, first {point[:1].hex()}) is not "
            "an uncompressed P-256 point")
        return False
    return True


def _alg_problems(alg_der: bytes) -> tuple[str, bool]:
    items = children(tlv(alg_der)[4])
    return _oid(items[0]), len(items) > 1


def _lint_sig_alg(p: _Parsed, add: Any) -> None:
    oid, has_params = _alg_problems(p.sig_alg_der)
    if oid != OID_ECDSA_SHA256:
        add("sig.algorithm", f"signature algorithm {oid} is not ecdsa-with-SHA256")
    if has_params:
        add("sig.null-parameters", "signature AlgorithmIdentifier carries parameters (NULL); "
            "ecdsa-with-SHA256 has none")


def _lint_csr(p: _Parsed, pub_ok: bool, add: Any) -> None:
    assert p.csr_info is not None
    version = p.csr_info["version"].native
    if version != "v1":
        add("csr.version", f"PKCS#10 version is {version!r}, not v1 (0)")
    if p.csr_attr_problem:
        add("csr.attributes", f"attributes: {p.csr_attr_problem}; expected one extensionRequest")
    oid, _ = _alg_problems(p.sig_alg_der)
    hash_cls = _HASH_FOR_SIG.get(oid)
    if hash_cls is None:
        return
    hash_alg: hashes.HashAlgorithm = hash_cls()
    try:
        key = serialization.load_der_public_key(p.spki_der)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # already reported as key.not-p256
        return
    if isinstance(key, ec.EllipticCurvePublicKey) and not verify_signature(
            key, p.signature, p.signed_der, hash_alg):
        add("csr.signature-invalid", "the CSR's signature does not verify with its own key")


def _time_problem(t: core.Asn1Value) -> str | None:
    dt = t.chosen.native
    year = dt.year
    name = t.name
    if year < 2050 and name != "utc_time":
        return f"{dt:%Y-%m-%d} is GeneralizedTime; RFC 5280 wants UTCTime before 2050"
    if year >= 2050 and name != "general_time":
        return f"{dt:%Y-%m-%d} is UTCTime; RFC 5280 wants GeneralizedTime from 2050"
    return None


def _lint_cert(p: _Parsed, f: ProfileFields, profile: SmkiProfile, add: Any) -> None:
    assert p.cert is not None
    tbs = p.cert["tbs_certificate"]
    if tbs["version"].native != "v3":
        add("cert.version", f"version is {tbs['version'].native}, not v3")
    serial_t = tbs["serial_number"]
    if int(serial_t.native) <= 0:
        add("cert.serial-not-positive", f"serial {serial_t.native} is not positive")
    elif len(serial_t.contents) != 16:
        add("cert.serial-length", f"serial is {len(serial_t.contents)} octets, not 16")
    if tbs["signature"].dump() != p.sig_alg_der:
        add("cert.signature-mismatch", "TBSCertificate.signature differs from "
            "Certificate.signatureAlgorithm")
    ca_names = profile.ca_names(f.family)
    if ca_names and not any(names_equal(tbs["issuer"], parse_name_text(n)) for n in ca_names):
        add("cert.issuer-unknown", f"issuer {f.issuer!r} is not {with_article(f.family)} CA "
            f"of the {profile.environment.label} profile ({', '.join(ca_names)})")
    validity = tbs["validity"]
    for which in ("not_before", "not_after"):
        t = validity[which]
        if f.family == "device" and which == "not_after":
            if t.name != "general_time" or t.chosen.contents != DEVICE_NOT_AFTER:
                add("validity.device-not-after", f"notAfter is {t.chosen.contents.decode()!r} "
                    f"({t.name}), not GeneralizedTime 99991231235959Z")
            continue
        problem = _time_problem(t)
        if problem:
            add("validity.encoding", f"{which}: {problem}")


def _lint_extensions(p: _Parsed, f: ProfileFields, profile: SmkiProfile, add: Any) -> None:
    by_oid: dict[str, RawExtension] = {}
    allowed = _ALLOWED_EXT[(p.kind, f.family)]
    for e in p.extensions:
        if e.oid in by_oid:
            add("ext.duplicate", f"extension {e.oid} appears more than once")
            continue
        by_oid[e.oid] = e
        if e.oid not in allowed:
            add("ext.unexpected", f"extension {e.oid} is not allowed in "
                f"{with_article(f.family)} {p.kind}")
    ku = by_oid.get(OID_KU)
    if ku is None:
        add("ku.missing", "keyUsage is missing")
    else:
        if not ku.critical:
            add("ku.not-critical", "keyUsage is not critical")
        bits = _usage_bits(ku.value)
        if bits not in ({"digital_signature"}, {"key_agreement"}):
            add("ku.bits", f"keyUsage has {sorted(bits) or 'no bits'}; expected exactly one of "
                "digitalSignature or keyAgreement")
    if f.family == "device":
        _lint_san(by_oid.get(OID_SAN), profile, add)
    if p.kind != "certificate":
        return
    ski = by_oid.get(OID_SKI)
    if ski is None:
        add("ski.missing", "subjectKeyIdentifier is missing")
    else:
        if ski.critical:
            add("ski.critical", "subjectKeyIdentifier is critical")
        expected = ski_method2(p.spki_der)
        if f.ski != expected:
            add("ski.method", f"subjectKeyIdentifier {f.ski.hex() if f.ski else '?'} is not "
                f"{expected.hex()} (8 octets by RFC 5280 method 2)")
    aki = by_oid.get(OID_AKI)
    if aki is None:
        add("aki.missing", "authorityKeyIdentifier is missing (GBCS needs it on every non-root "
            "certificate)")
    else:
        if aki.critical:
            add("aki.critical", "authorityKeyIdentifier is critical")
        parsed = ax509.AuthorityKeyIdentifier.load(aki.value)
        if parsed["authority_cert_issuer"].native is not None or \
                parsed["authority_cert_serial_number"].native is not None or \
                parsed["key_identifier"].native is None:
            add("aki.issuer-serial", "authorityKeyIdentifier must hold only a keyIdentifier")
    pol = by_oid.get(OID_POLICIES)
    if pol is None:
        add("policy.missing", "certificatePolicies is missing")
        return
    if not pol.critical:
        add("policy.not-critical", "certificatePolicies is not critical")
    if len(f.policy_oids) != 1:
        add("policy.count", f"certificatePolicies holds {len(f.policy_oids)} policies, not one")
    accepted = profile.policy_oids(f.family)
    if not accepted:
        add("profile.unconfigured", f"the {profile.environment.label} profile has no accepted "
            f"{f.family} policy OIDs configured: policy not checked")
    else:
        for oid in f.policy_oids:
            if oid not in accepted:
                add("policy.unknown", f"policy {oid} is not accepted for {f.family} "
                    f"certificates in {profile.environment.label} ({', '.join(sorted(accepted))})")


def _lint_san(san: RawExtension | None, profile: SmkiProfile, add: Any) -> None:
    if san is None:
        add("san.missing", "device subjectAltName (hardwareModuleName) is missing")
        return
    if not san.critical:
        add("san.not-critical", "device subjectAltName is not critical")
    hmns = decode_device_san(san.value)
    if not hmns or len(hmns) != 1:
        add("san.form", "subjectAltName is not exactly one otherName hardwareModuleName")
        return
    hmn = hmns[0]
    if len(hmn.hw_serial) != 8:
        add("san.hwserial-length", f"hwSerialNum is {len(hmn.hw_serial)} octets, not 8")
    if not profile.hw_type_oids:
        add("profile.unconfigured", f"the {profile.environment.label} profile has no hwType "
            "OIDs configured: hwType not checked")
    elif hmn.hw_type not in profile.hw_type_oids:
        add("san.hwtype-unknown", f"hwType {hmn.hw_type} is not accepted in "
            f"{profile.environment.label} ({', '.join(sorted(profile.hw_type_oids))})")


def ski_method2(spki_der: bytes) -> bytes:
    """RFC 5280 4.2.1.2 method 2: 0100 + the low 60 bits of SHA-1 of the subjectPublicKey."""
    point = bytes(ax509.PublicKeyInfo.load(spki_der)["public_key"])
    h = hashlib.sha1(point).digest()[-8:]
    return bytes([0x40 | (h[0] & 0x0F)]) + h[1:]


def is_valid_at(fields: ProfileFields, at: datetime | None = None) -> bool:
    when = at or datetime.now(UTC)
    if fields.not_before is None or fields.not_after is None:
        return True
    return fields.not_before <= when <= fields.not_after
