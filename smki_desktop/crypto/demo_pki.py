"""A throwaway CA hierarchy (root -> file-signing certificate) for tests and demonstrations.

Production certificates come from the DCC (or, in Test, from the simulator); this module only
exists so that signing and verification can be exercised end to end without either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.crypto.memory_signer import MemorySigner


@dataclass
class DemoPki:
    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    signer: MemorySigner
    certificate: x509.Certificate

    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _name(cn: str, env: Environment) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"SMKI Desktop demo ({env.label})"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def make_root(env: Environment, now: datetime, cn: str = "") -> tuple[ec.EllipticCurvePrivateKey,
                                                                      x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(cn or f"Demo {env.label} Root", env)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue(
    root_key: ec.EllipticCurvePrivateKey,
    root: x509.Certificate,
    public_key_der: bytes,
    env: Environment,
    now: datetime,
    cn: str = "ARO file signing",
    days: int = 365,
    register_id: str = "",
) -> x509.Certificate:
    """A file-signing certificate (keyUsage digitalSignature + nonRepudiation) for a key; with
    `register_id`, the officer's register id as the subject's serialNumber."""
    pub = serialization.load_der_public_key(public_key_der)
    assert isinstance(pub, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    subject = _name(cn, env)
    if register_id:
        subject = x509.Name([*subject, x509.NameAttribute(NameOID.SERIAL_NUMBER, register_id)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.subject)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )


def make_demo_pki(
    env: Environment = Environment.TEST,
    now: datetime | None = None,
    key_type: KeyType = KeyType.EC_P256,
) -> DemoPki:
    from datetime import UTC

    now = now or datetime.now(UTC)
    root_key, root = make_root(env, now)
    signer = MemorySigner.generate(key_type, environment=env, usage=KeyUsage.FILE_SIGNING)
    cert = issue(root_key, root, signer.key.public_key_der, env, now)
    return DemoPki(root_key, root, signer, cert)
