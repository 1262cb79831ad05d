"""The simulator's own test hierarchy and the certificates it issues, exactly to the SMKI profile.

Root `OU=00, CN=ZA`, Organisation CA `OU=07, CN=Z1`, Device CA `CN=E357` (the DCC test
PKI's names, with the simulator's own keys and a marker policy) and an IKI CA for
officers' and systems' credentials; CA names are PrintableString (as in the DCC's test PKI),
subjects are copied from the CSR unchanged. Every certificate has a positive 16-octet serial,
an RFC 5280 method-2 subjectKeyIdentifier (8 octets, non-critical), an authorityKeyIdentifier
with keyIdentifier only, and one critical certificate policy. Device certificates run to
99991231235959Z. A TLS server certificate for the loopback address comes from the IKI CA.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TEST_ORG_POLICY = x509.ObjectIdentifier("1.2.826.0.1.8641679.1.2.1.4")
TEST_DEVICE_POLICY = x509.ObjectIdentifier("1.2.826.0.1.1800000.1.2.1.4")
#: a policy that marks every certificate of the simulator's hierarchy (never trusted in Live)
SIMULATOR_MARKER_POLICY = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1.99.1")
HW_MODULE_NAME = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")
DEVICE_NOT_AFTER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
UNIQUE_ID = x509.ObjectIdentifier("2.5.4.45")

CaKey = ec.EllipticCurvePrivateKey


def _printable(*pairs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value, _ASN1Type.PrintableString)
                      for oid, value in pairs])


def serial16() -> int:
    """A positive serial that DER-encodes in exactly 16 octets."""
    first = secrets.randbelow(0x7F) + 1  # 0x01..0x7F: positive, no leading zero octet
    return int.from_bytes(bytes([first]) + secrets.token_bytes(15), "big")


def ski_method2(public_key: object) -> bytes:
    """RFC 5280 4.2.1.2 method 2: 0100 then the low 60 bits of SHA-1(subjectPublicKey)."""
    spki = public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    from asn1crypto import keys as akeys

    bits = akeys.PublicKeyInfo.load(spki)["public_key"].contents[1:]
    digest = hashlib.sha1(bits).digest()[-8:]
    return bytes([0x40 | (digest[0] & 0x0F)]) + digest[1:]


@dataclass
class CaEntry:
    name: str
    certificate: x509.Certificate
    key: CaKey

    @property
    def ski(self) -> bytes:
        return self.certificate.extensions.get_extension_for_class(
            x509.SubjectKeyIdentifier).value.digest


def _ca_cert(subject: x509.Name, key: CaKey, issuer: CaEntry | None, now: datetime,
             years: int, path_len: int | None) -> x509.Certificate:
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(issuer.certificate.subject if issuer else subject)
         .public_key(key.public_key()).serial_number(serial16())
         .not_valid_before(now - timedelta(minutes=5))
         .not_valid_after(now + timedelta(days=365 * years))
         .add_extension(x509.BasicConstraints(ca=True, path_length=path_len), critical=True)
         .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                      False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier(ski_method2(key.public_key())), critical=False)
         .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
             SIMULATOR_MARKER_POLICY, None)]), critical=True))
    if issuer is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier(issuer.ski, None, None), critical=False)
    return b.sign(issuer.key if issuer else key, hashes.SHA256())


@dataclass
class Hierarchy:
    root: CaEntry
    org_ca: CaEntry
    device_ca: CaEntry
    iki_ca: CaEntry

    @classmethod
    def generate(cls, now: datetime, label: str = "Z") -> Hierarchy:
        """Names as the DCC's test PKI writes them (root `OU=00,CN=ZA`, Organisation CA
        `OU=07,CN=Z1`, Device CA `CN=E357`), so issued certificates match the Test profile's
        CA names; another `label` gives a separate look-alike hierarchy (for tests)."""
        dev_cn = "E357" if label == "Z" else f"{label}357"

        def k() -> CaKey:
            return ec.generate_private_key(ec.SECP256R1())

        rk = k()
        root = CaEntry("root", _ca_cert(_printable((NameOID.ORGANIZATIONAL_UNIT_NAME, "00"),
                                                   (NameOID.COMMON_NAME, f"{label}A")),
                                        rk, None, now, 30, None), rk)
        ok, dk, ik = k(), k(), k()
        org = CaEntry("org", _ca_cert(_printable((NameOID.ORGANIZATIONAL_UNIT_NAME, "07"),
                                                 (NameOID.COMMON_NAME, f"{label}1")),
                                      ok, root, now, 25, 0), ok)
        dev = CaEntry("device", _ca_cert(_printable((NameOID.COMMON_NAME, dev_cn)),
                                         dk, root, now, 25, 0), dk)
        iki = CaEntry("iki", _ca_cert(_printable((NameOID.ORGANIZATIONAL_UNIT_NAME, "IKI"),
                                                 (NameOID.COMMON_NAME, f"{label}IKI")),
                                      ik, root, now, 25, 0), ik)
        return cls(root, org, dev, iki)

    def entries(self) -> list[CaEntry]:
        return [self.root, self.org_ca, self.device_ca, self.iki_ca]


def _leaf(issuer: CaEntry, subject: x509.Name, public_key: object, not_before: datetime,
          not_after: datetime, policy: x509.ObjectIdentifier) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(issuer.certificate.subject)
            .public_key(public_key)  # type: ignore[arg-type]
            .serial_number(serial16())
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.SubjectKeyIdentifier(ski_method2(public_key)), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier(issuer.ski, None, None), critical=False)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(policy, None)]),
                           critical=True))


def _csr_key_usage(csr: x509.CertificateSigningRequest) -> x509.KeyUsage:
    ext = csr.extensions.get_extension_for_class(x509.KeyUsage)
    return ext.value


def issue_organisation(ca: CaEntry, csr: x509.CertificateSigningRequest, now: datetime,
                       policy: x509.ObjectIdentifier = TEST_ORG_POLICY) -> x509.Certificate:
    """Organisation certificate: subject and key from the CSR, keyUsage critical (one bit)."""
    b = _leaf(ca, csr.subject, csr.public_key(), now, now + timedelta(days=3652), policy)
    b = b.add_extension(_csr_key_usage(csr), critical=True)
    return b.sign(ca.key, hashes.SHA256())


def issue_device(ca: CaEntry, csr: x509.CertificateSigningRequest,
                 now: datetime) -> x509.Certificate:
    """Device certificate: empty subject, the CSR's critical SAN, notAfter 99991231235959Z."""
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    b = _leaf(ca, x509.Name([]), csr.public_key(), now, DEVICE_NOT_AFTER, TEST_DEVICE_POLICY)
    b = b.add_extension(_csr_key_usage(csr), critical=True).add_extension(san.value,
                                                                          critical=True)
    return b.sign(ca.key, hashes.SHA256())


def issue_credential(ca: CaEntry, csr: x509.CertificateSigningRequest, purpose: str,
                     now: datetime) -> x509.Certificate:
    """IKI credential: web-service client (RSA-2048, clientAuth) or ARO file signing."""
    b = _leaf(ca, csr.subject, csr.public_key(), now - timedelta(minutes=5),
              now + timedelta(days=730), SIMULATOR_MARKER_POLICY)
    if purpose == "web-service":
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                          False, False), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                            critical=False)
    else:
        b = b.add_extension(x509.KeyUsage(True, True, False, False, False, False, False,
                                          False, False), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                            critical=False)
    return b.sign(ca.key, hashes.SHA256())


def issue_tls_server(ca: CaEntry, now: datetime) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    b = (_leaf(ca, _printable((NameOID.COMMON_NAME, "localhost")), key.public_key(),
               now - timedelta(minutes=5), now + timedelta(days=825), SIMULATOR_MARKER_POLICY)
         .add_extension(x509.SubjectAlternativeName([
             x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
             critical=False)
         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                        critical=False)
         .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False,
                                      False), critical=True))
    return b.sign(ca.key, hashes.SHA256()), key


def build_crl(ca: CaEntry, revoked: list[tuple[int, datetime]], now: datetime,
              number: int) -> x509.CertificateRevocationList:
    b = (x509.CertificateRevocationListBuilder().issuer_name(ca.certificate.subject)
         .last_update(now).next_update(now + timedelta(days=1))
         .add_extension(x509.CRLNumber(number), critical=False)
         .add_extension(x509.AuthorityKeyIdentifier(ca.ski, None, None), critical=False))
    for serial, when in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build())
    return b.sign(ca.key, hashes.SHA256())


def is_simulator_certificate(cert: x509.Certificate) -> bool:
    """True for any certificate of a simulator hierarchy (Live must refuse these)."""
    try:
        pol = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return False
    return any(p.policy_identifier == SIMULATOR_MARKER_POLICY for p in pol)
