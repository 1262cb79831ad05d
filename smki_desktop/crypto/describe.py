"""Who a certificate names, in words an officer reads: the SMKI role and EUI decoded from the
subject, the serial and the issuer, instead of an RFC 4514 string. Used by both faces wherever a
signer or a certificate is named (signature verification, confirmation summaries)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from smki_desktop.core.errors import SmkiError
from smki_desktop.crypto.fields import extract_fields


def _cn(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else name.rfc4514_string()


def certificate_summary(cert: x509.Certificate | None) -> str:
    """E.g. "Supplier (role 02), EUI 00-11-22-33-44-55-66-77, serial 1A2B, issued by
    Test Issuing CA". "no certificate" when the signature carried none."""
    if cert is None:
        return "no certificate (the signature carries none)"
    parts: list[str] = []
    try:
        f = extract_fields(cert.public_bytes(serialization.Encoding.DER), "certificate")
    except SmkiError:
        f = None
    if f is not None and f.role is not None:
        parts.append(f"{f.role.name_text} (role {f.role.ou})")
    if f is not None and f.eui is not None:
        parts.append(f"EUI {f.eui}")
    if not parts:
        parts.append(_cn(cert.subject))
    parts.append(f"serial {cert.serial_number:X}")
    parts.append(f"issued by {_cn(cert.issuer)}")
    return ", ".join(parts)
