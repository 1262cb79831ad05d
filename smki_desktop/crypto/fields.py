"""The profile fields of an SMKI CSR or certificate (Organisation or Device): role, EUI, usage,
device EUI, hwType, key id, policies, serial, issuer, validity, read from the DER with
`asn1crypto` and a small TLV walker, tolerant of wrong encodings (fields that break the profile
come back as None; `crypto.lint` says why).

Apart from the lint so that naming a certificate (`crypto.describe`, e.g. in `smki adt verify`)
does not load the lint rules (issue 15: ~5 ms of that command).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from asn1crypto import core
from asn1crypto import csr as acsr
from asn1crypto import x509 as ax509

from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64
from smki_desktop.core.keys import KeyUsage, key_id_for_spki
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.certs import name_text
from smki_desktop.crypto.der import Kind, Tlv, children, detect_kind, tlv, to_der

Family = Literal["organisation", "device"]

# what asn1crypto / the TLV walker raise on damaged DER (reported as InputError, exit 2)
_DAMAGE = (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError)

OID_CN = "2.5.4.3"
OID_OU = "2.5.4.11"
OID_UID = "2.5.4.45"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_P256 = "1.2.840.10045.3.1.7"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
OID_EXT_REQUEST = "1.2.840.113549.1.9.14"
OID_KU = "2.5.29.15"
OID_SKI = "2.5.29.14"
OID_SAN = "2.5.29.17"
OID_POLICIES = "2.5.29.32"
OID_AKI = "2.5.29.35"
OID_HW_MODULE_NAME = "1.3.6.1.5.5.7.8.4"
DEVICE_NOT_AFTER = b"99991231235959Z"




# ---------------------------------------------------------------------------------------------
# small DER helpers


def _oid(t: Tlv) -> str:
    return str(core.ObjectIdentifier.load(t[3] + t[4]).dotted)


def _is(t: Tlv, cls: int, constructed: int, tag: int) -> bool:
    return t[0] == cls and t[1] == constructed and t[2] == tag


@dataclass(frozen=True)
class NameAttr:
    rdn_index: int
    oid: str
    tag: int
    cls: int
    body: bytes
    multi: bool  # its RDN holds more than one attribute


def _name_attrs(name_der: bytes) -> list[NameAttr]:
    out: list[NameAttr] = []
    for i, rdn in enumerate(children(tlv(name_der)[4])):
        atvs = children(rdn[4])
        for atv in atvs:
            items = children(atv[4])
            if len(items) != 2:
                raise ValueError("name attribute is not a type and a value")
            out.append(NameAttr(i, _oid(items[0]), items[1][2], items[1][0], items[1][4],
                                len(atvs) > 1))
    return out


@dataclass(frozen=True)
class RawExtension:
    oid: str
    critical: bool
    value: bytes  # the extnValue OCTET STRING contents (DER of the extension body)


def _extensions_from_seq(seq_contents: bytes) -> list[RawExtension]:
    out = []
    for ext in children(seq_contents):
        items = children(ext[4])
        oid = _oid(items[0])
        critical = False
        value_t = items[-1]
        if len(items) == 3:
            critical = items[1][4] != b"\x00"
        out.append(RawExtension(oid, critical, value_t[4]))
    return out


# ---------------------------------------------------------------------------------------------
# the parsed view shared by extraction and lint


@dataclass
class _Parsed:
    kind: Kind
    der: bytes
    subject_der: bytes
    spki_der: bytes
    extensions: list[RawExtension]
    sig_alg_der: bytes  # outer AlgorithmIdentifier DER
    signed_der: bytes  # CertificationRequestInfo / TBSCertificate DER
    signature: bytes
    csr_info: acsr.CertificationRequestInfo | None = None
    cert: ax509.Certificate | None = None
    csr_attr_problem: str | None = None


def _parse(der: bytes) -> _Parsed:
    kind = detect_kind(der)
    if kind is None:
        raise InputError("not a PKCS#10 CSR or an X.509 certificate")
    try:
        if kind == "csr":
            req = acsr.CertificationRequest.load(der, strict=True)
            info = req["certification_request_info"]
            attrs_t = children(tlv(info.dump())[4])[3]
            exts: list[RawExtension] = []
            problem = None
            attrs = children(attrs_t[4])
            if len(attrs) != 1:
                problem = f"{len(attrs)} attributes"
            for attr in attrs:
                items = children(attr[4])
                oid = _oid(items[0])
                values = children(items[1][4])
                if oid != OID_EXT_REQUEST:
                    problem = f"attribute {oid} is not extensionRequest"
                    continue
                if len(values) != 1:
                    problem = f"extensionRequest has {len(values)} values"
                for v in values:
                    exts.extend(_extensions_from_seq(v[4]))
            return _Parsed(
                kind, der, info["subject"].dump(), info["subject_pk_info"].dump(), exts,
                req["signature_algorithm"].dump(), info.dump(), bytes(req["signature"]),
                csr_info=info, csr_attr_problem=problem,
            )
        cert = ax509.Certificate.load(der, strict=True)
        tbs = cert["tbs_certificate"]
        tbs_items = children(tlv(tbs.dump())[4])
        exts = []
        for item in tbs_items:
            if _is(item, 2, 1, 3):  # [3] EXPLICIT Extensions
                exts = _extensions_from_seq(children(item[4])[0][4])
        return _Parsed(
            kind, der, tbs["subject"].dump(), tbs["subject_public_key_info"].dump(), exts,
            cert["signature_algorithm"].dump(), tbs.dump(), bytes(cert["signature_value"]),
            cert=cert,
        )
    except _DAMAGE as exc:
        raise InputError(f"a damaged {kind} ({exc})") from None


def _family(p: _Parsed) -> Family:
    attrs = _name_attrs(p.subject_der)
    if not attrs:
        return "device"
    has_org = any(a.oid in (OID_OU, OID_UID) for a in attrs)
    if not has_org and any(e.oid == OID_SAN for e in p.extensions):
        return "device"
    return "organisation"


def _usage_bits(value: bytes) -> set[str]:
    return set(ax509.KeyUsage.load(value).native)


@dataclass(frozen=True)
class HardwareModuleName:
    hw_type: str
    hw_serial: bytes


def decode_device_san(value: bytes) -> list[HardwareModuleName] | None:
    """The hardwareModuleName entries of a SAN extension value; None if the SAN holds anything
    else or is malformed (the profile wants exactly one otherName hardwareModuleName)."""
    try:
        names = children(tlv(value)[4])
        out = []
        for gn in names:
            if not _is(gn, 2, 1, 0):  # [0] otherName
                return None
            items = children(gn[4])
            if len(items) != 2 or _oid(items[0]) != OID_HW_MODULE_NAME \
                    or not _is(items[1], 2, 1, 0):
                return None
            hmn = children(items[1][4])
            if len(hmn) != 1 or not _is(hmn[0], 0, 1, 16):
                return None
            parts = children(hmn[0][4])
            if len(parts) != 2 or not _is(parts[0], 0, 0, 6) or not _is(parts[1], 0, 0, 4):
                return None
            out.append(HardwareModuleName(_oid(parts[0]), parts[1][4]))
        return out
    except (ValueError, TypeError, IndexError):
        return None


# ---------------------------------------------------------------------------------------------
# field extraction


@dataclass(frozen=True)
class ProfileFields:
    """The SMKI profile fields of a CSR or certificate, decoded (None where absent/invalid)."""

    kind: Kind
    family: Family
    role: RemotePartyRole | None
    ou: str | None
    eui: Eui64 | None
    cn: str | None
    usage: KeyUsage | None
    device_eui: Eui64 | None
    hw_type: str | None
    public_key_der: bytes
    key_id: str
    policy_oids: tuple[str, ...] = ()
    serial: int | None = None
    issuer: str | None = None
    issuer_der: bytes | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    subject: str = ""
    ski: bytes | None = None
    aki: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "family": self.family,
            "role": self.role.name_text if self.role else None,
            "ou": self.ou,
            "eui": str(self.eui) if self.eui else None,
            "cn": self.cn,
            "usage": self.usage.value if self.usage else None,
            "device_eui": str(self.device_eui) if self.device_eui else None,
            "hw_type": self.hw_type,
            "key_id": self.key_id,
            "policy_oids": list(self.policy_oids),
            "serial": f"{self.serial:X}" if self.serial is not None else None,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "not_after": self.not_after.isoformat() if self.not_after else None,
            "subject": self.subject,
            "ski": self.ski.hex().upper() if self.ski else None,
            "aki": self.aki.hex().upper() if self.aki else None,
        }


def _fields(p: _Parsed) -> ProfileFields:
    family = _family(p)
    role = ou = cn = None
    eui = device_eui = None
    hw_type = None
    usage = None
    for a in _name_attrs(p.subject_der):
        if a.oid == OID_OU and ou is None:
            ou = a.body.decode("utf-8", "replace")
            try:
                role = RemotePartyRole.from_ou(ou)
            except InputError:
                role = None
        elif a.oid == OID_CN and cn is None:
            cn = a.body.decode("utf-16-be" if a.tag == 30 else "utf-8", "replace")
        elif a.oid == OID_UID and eui is None and a.tag == 3 and len(a.body) == 9 \
                and a.body[0] == 0:
            eui = Eui64(a.body[1:])
    policies: list[str] = []
    ski = aki = None
    for e in p.extensions:
        try:
            if e.oid == OID_KU:
                bits = _usage_bits(e.value)
                if bits == {"digital_signature"}:
                    usage = KeyUsage.SIGNING
                elif bits == {"key_agreement"}:
                    usage = KeyUsage.KEY_AGREEMENT
            elif e.oid == OID_SAN:
                hmns = decode_device_san(e.value)
                if hmns and len(hmns) == 1:
                    hw_type = hmns[0].hw_type
                    if len(hmns[0].hw_serial) == 8:
                        device_eui = Eui64(hmns[0].hw_serial)
            elif e.oid == OID_POLICIES:
                policies = [str(pi["policy_identifier"].dotted)
                            for pi in ax509.CertificatePolicies.load(e.value)]
            elif e.oid == OID_SKI:
                ski = bytes(core.OctetString.load(e.value).native)
            elif e.oid == OID_AKI:
                aki = ax509.AuthorityKeyIdentifier.load(e.value)["key_identifier"].native
        except (ValueError, TypeError):
            continue
    serial = issuer = issuer_der = not_before = not_after = None
    if p.cert is not None:
        tbs = p.cert["tbs_certificate"]
        serial = int(tbs["serial_number"].native)
        issuer_der = tbs["issuer"].dump()
        issuer = name_text(issuer_der)
        not_before = tbs["validity"]["not_before"].native
        not_after = tbs["validity"]["not_after"].native
    return ProfileFields(
        kind=p.kind, family=family, role=role, ou=ou, eui=eui, cn=cn, usage=usage,
        device_eui=device_eui, hw_type=hw_type, public_key_der=p.spki_der,
        key_id=key_id_for_spki(p.spki_der), policy_oids=tuple(policies), serial=serial,
        issuer=issuer, issuer_der=issuer_der, not_before=not_before, not_after=not_after,
        subject=_safe_name_text(p.subject_der), ski=ski, aki=aki,
    )


def _safe_name_text(der: bytes) -> str:
    try:
        return name_text(der)
    except (ValueError, TypeError):
        return "(unreadable name)"


def extract_fields(data: bytes, what: str = "file") -> ProfileFields:
    """Role, EUI, usage, device EUI, hwType, key id, policy... of a CSR or certificate given as
    PEM, DER or bare Base64. Tolerant: fields that break the profile come back as None."""
    der = to_der(data, what)
    try:
        return _fields(_parse(der))
    except InputError as exc:
        raise InputError(f"{what}: {exc.message}") from None
    except _DAMAGE as exc:
        raise InputError(f"{what}: a damaged CSR or certificate ({exc})") from None
