"""CSRs for the credentials the DCC issues to an installation (RAPP 5.4): the web-service client
credential (RSA-2048, sha256WithRSA, keyUsage digitalSignature critical; subject O = trading
name, OU = role code, CN = unique system name) and an ARO's file-signing credential
(EC P-256 or RSA-2048; subject O = trading name, CN = the officer's name). Built with
`asn1crypto` and any `Signer`, so token keys work too."""

from __future__ import annotations

from asn1crypto import csr as acsr
from asn1crypto import keys as akeys
from asn1crypto import x509 as ax509

from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyType
from smki_desktop.core.ports import Signer


def _utf8(text: str) -> ax509.DirectoryString:
    return ax509.DirectoryString(name="utf8_string", value=text)


def _name(pairs: list[tuple[str, str]]) -> ax509.Name:
    rdns = []
    for typ, value in pairs:
        value = value.strip()
        if not value:
            raise InputError(f"Credential subject: {typ} is empty.")
        if len(value) > 64:
            raise InputError(f"Credential subject: {typ} {value!r} is longer than 64 characters.")
        # serialNumber is a PrintableString (X.520); the others UTF8String
        val = (ax509.DirectoryString(name="printable_string", value=value)
               if typ == "serial_number" else _utf8(value))
        rdns.append(ax509.RelativeDistinguishedName([
            ax509.NameTypeAndValue({"type": typ, "value": val})]))
    return ax509.Name(name="", value=ax509.RDNSequence(rdns))


def credential_subject(purpose: str, *, organisation: str, role_ou: str,
                       common_name: str) -> ax509.Name:
    """The subject of a credential CSR, checked (InputError naming the field): callers check
    it before making a key, so that bad text leaves nothing behind."""
    if purpose == "web-service":
        return _name([("organization_name", organisation),
                      ("organizational_unit_name", role_ou), ("common_name", common_name)])
    if purpose == "file-signing":
        return _name([("organization_name", organisation), ("common_name", common_name)])
    raise InputError(f"Purpose {purpose!r}: use web-service or file-signing.")


def build_credential_csr(signer: Signer, purpose: str, *, organisation: str, role_ou: str,
                         common_name: str, register_id: str = "") -> bytes:
    """A signed PKCS#10 (DER) for `purpose` `web-service` or `file-signing` (a file-signing
    credential for a named officer carries their register id as the subject's serialNumber)."""
    key_type = signer.key.key_type
    if purpose == "web-service":
        if key_type is not KeyType.RSA_2048:
            raise InputError("A web-service client credential needs an RSA-2048 key.")
        subject = _name([("organization_name", organisation),
                         ("organizational_unit_name", role_ou),
                         ("common_name", common_name)])
        ku = ax509.KeyUsage({"digital_signature"})
    elif purpose == "file-signing":
        pairs = [("organization_name", organisation), ("common_name", common_name)]
        if register_id:
            pairs.append(("serial_number", register_id))
        subject = _name(pairs)
        ku = ax509.KeyUsage({"digital_signature", "non_repudiation"})
    else:
        raise InputError(f"Purpose {purpose!r}: use web-service or file-signing.")
    ext = ax509.Extension({"extn_id": "key_usage", "critical": True, "extn_value": ku})
    info = acsr.CertificationRequestInfo({
        "version": "v1",
        "subject": subject,
        "subject_pk_info": akeys.PublicKeyInfo.load(signer.key.public_key_der),
        "attributes": acsr.CRIAttributes([
            {"type": "extension_request", "values": [ax509.Extensions([ext])]}]),
    })
    sig = signer.sign(info.dump())
    alg = "sha256_rsa" if key_type is KeyType.RSA_2048 else "sha256_ecdsa"
    req = acsr.CertificationRequest({"certification_request_info": info,
                                     "signature_algorithm": {"algorithm": alg},
                                     "signature": sig})
    return bytes(req.dump())
