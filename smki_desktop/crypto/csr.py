"""PKCS#10 Organisation CSRs exactly to the SMKI profile, assembled with `asn1crypto` and
signed through a `Signer`, so the same code serves in-memory keys, the OS keystore and
PKCS#11 tokens (whose keys `cryptography`'s builder cannot use).

Subject: [CN (UTF8String)], OU = role as two upper-case hex digits (UTF8String),
2.5.4.45 uniqueIdentifier = the EUI-64 as a 64-bit BIT STRING; one extensionRequest holding
keyUsage critical with exactly one of digitalSignature / keyAgreement; ecdsa-with-SHA256 with
absent parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core
from asn1crypto import csr as acsr
from asn1crypto import keys as akeys
from asn1crypto import x509 as ax509

from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.eui import Eui64
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.core.plain_text import check_plain
from smki_desktop.core.ports import Signer
from smki_desktop.core.profiles import SmkiProfile
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.core.wording import with_article

KU_BITS = {KeyUsage.SIGNING: "digital_signature", KeyUsage.KEY_AGREEMENT: "key_agreement"}


def _utf8(text: str) -> ax509.DirectoryString:
    return ax509.DirectoryString(name="utf8_string", value=text)


def org_subject(role: RemotePartyRole, eui: Eui64, cn: str | None = None) -> ax509.Name:
    """The Organisation subject, in profile order, one attribute per RDN."""
    atvs = []
    if cn:
        atvs.append(ax509.NameTypeAndValue({"type": "common_name", "value": _utf8(cn)}))
    atvs.append(ax509.NameTypeAndValue({"type": "organizational_unit_name",
                                        "value": _utf8(role.ou)}))
    atvs.append(ax509.NameTypeAndValue({"type": "unique_identifier",
                                        "value": core.OctetBitString(eui.octets)}))
    return ax509.Name(name="", value=ax509.RDNSequence(
        [ax509.RelativeDistinguishedName([a]) for a in atvs]))


def key_usage_extension(usage: KeyUsage, critical: bool = True) -> ax509.Extension:
    if usage not in KU_BITS:
        raise InputError(f"Usage: {usage.value} is not an SMKI usage (signing or key-agreement).")
    return ax509.Extension({
        "extn_id": "key_usage", "critical": critical,
        "extn_value": ax509.KeyUsage({KU_BITS[usage]}),
    })


def assemble_csr(subject: ax509.Name, spki_der: bytes, extensions: list[ax509.Extension],
                 signer: Signer) -> bytes:
    """A signed PKCS#10 (DER): v1, one extensionRequest, ecdsa-with-SHA256 (no parameters).
    `signer.sign(data)` must return a DER ECDSA signature over SHA-256 of `data`."""
    info = acsr.CertificationRequestInfo({
        "version": "v1",
        "subject": subject,
        "subject_pk_info": akeys.PublicKeyInfo.load(spki_der),
        "attributes": acsr.CRIAttributes([
            {"type": "extension_request", "values": [ax509.Extensions(extensions)]},
        ]),
    })
    tbs = info.dump()
    signature = signer.sign(tbs)
    req = acsr.CertificationRequest({
        "certification_request_info": info,
        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
        "signature": signature,
    })
    return bytes(req.dump())


@dataclass(frozen=True)
class OrgCsrRequest:
    """What an ARO asks for; checked against the profile before any key is touched."""

    role: RemotePartyRole
    eui: Eui64
    usage: KeyUsage
    cn: str | None = None

    def check(self, profile: SmkiProfile, party_type: str | None = None) -> None:
        if self.usage not in KU_BITS:
            raise InputError(f"Usage: {self.usage.value} is not signing or key-agreement.")
        if self.cn is not None:
            cn = check_plain(self.cn, "CN")  # a line break or bidi override bound for the DCC
            if not cn:
                raise InputError("CN: empty; leave it out instead.")
            if not profile.cn_allowed(self.role):
                raise Refusal(f"CN: the {profile.environment.label} profile allows no CN "
                              f"for role {self.role.name_text} ({self.role.ou}).")
            if len(cn.encode("utf-8")) > profile.cn_max_length:
                raise InputError(f"CN: longer than {profile.cn_max_length} octets.")
        if party_type:
            allowed = profile.allowed_roles(party_type)
            if self.role not in allowed:
                names = ", ".join(f"{r.name_text} ({r.ou})" for r in allowed)
                raise Refusal(f"Role: {with_article(party_type)} may request {names}; not "
                              f"{self.role.name_text} ({self.role.ou}).")
            usages = profile.allowed_usages(party_type, self.role)
            if self.usage not in usages:
                raise Refusal(f"Usage: role {self.role.name_text} allows "
                              f"{', '.join(u.value for u in usages)} for "
                              f"{with_article(party_type)}, not {self.usage.value}.")


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


_OID_CN = bytes.fromhex("0603550403")
_OID_OU = bytes.fromhex("060355040b")
_OID_UID = bytes.fromhex("060355042d")
_OID_EXT_REQ = bytes.fromhex("06092a864886f70d01090e")
_KU_DER = {  # keyUsage extension, critical, one bit (as the DCC's certificates encode it)
    KeyUsage.SIGNING: bytes.fromhex("300e0603551d0f0101ff040403020780"),
    KeyUsage.KEY_AGREEMENT: bytes.fromhex("300e0603551d0f0101ff040403020308"),
}
_ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")


def org_csr_info_der(role: RemotePartyRole, eui: Eui64, usage: KeyUsage, spki_der: bytes,
                     cn: str | None = None) -> bytes:
    """The CertificationRequestInfo DER, written directly (the same bytes `assemble_csr`
    produces through asn1crypto, ~20x faster)."""
    if usage not in _KU_DER:
        raise InputError(f"Usage: {usage.value} is not an SMKI usage (signing or key-agreement).")
    rdns = b""
    if cn:
        rdns += _tlv(0x31, _tlv(0x30, _OID_CN + _tlv(0x0C, cn.encode("utf-8"))))
    rdns += _tlv(0x31, _tlv(0x30, _OID_OU + _tlv(0x0C, role.ou.encode("ascii"))))
    rdns += _tlv(0x31, _tlv(0x30, _OID_UID + _tlv(0x03, b"\x00" + eui.octets)))
    attrs = _tlv(0xA0, _tlv(0x30, _OID_EXT_REQ + _tlv(0x31, _tlv(0x30, _KU_DER[usage]))))
    return _tlv(0x30, b"\x02\x01\x00" + _tlv(0x30, rdns) + spki_der + attrs)


def sign_info(info_der: bytes, signer: Signer) -> bytes:
    """CertificationRequest DER: info, ecdsa-with-SHA256 (no parameters), signature."""
    signature = signer.sign(info_der)
    return _tlv(0x30, info_der + _ECDSA_SHA256 + _tlv(0x03, b"\x00" + signature))


def build_org_csr(signer: Signer, role: RemotePartyRole, eui: Eui64,
                  cn: str | None = None) -> bytes:
    """The Organisation CSR (DER) for the signer's key, with the key's own usage."""
    key = signer.key
    if key.key_type is not KeyType.EC_P256:
        raise InputError(f"Key {key.short_id}: an Organisation CSR needs an EC P-256 key, "
                         f"not {key.key_type.value}.")
    if key.usage not in KU_BITS:
        raise InputError(f"Key {key.short_id}: its usage {key.usage.value} is not signing or "
                         "key-agreement.")
    cn_text = cn.strip() if cn else None
    return sign_info(org_csr_info_der(role, eui, key.usage, key.public_key_der, cn_text), signer)
