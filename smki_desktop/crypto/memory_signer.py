"""An in-memory `Signer` over a `cryptography` private key: what the OS-keyring key store hands
out for one operation, and what tests, the simulator and ceremonies use directly.

It implements the `core.ports.Signer` protocol exactly as a key store's signer does: `sign`
hashes with SHA-256 and signs (ECDSA DER, or RSA PKCS#1 v1.5), `sign_digest` signs a
precomputed SHA-256 digest. Production signing goes through a key store; this class exists so
that code needing a Signer can be exercised without one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage, key_id_for_spki

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def spki_der(private_key: PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class MemorySigner:
    """A Signer holding its private key in memory."""

    def __init__(
        self,
        private_key: PrivateKey,
        *,
        environment: Environment = Environment.TEST,
        usage: KeyUsage = KeyUsage.FILE_SIGNING,
        label: str = "in-memory key",
        created: datetime | None = None,
        info: KeyInfo | None = None,
    ) -> None:
        """`info`, when given, is the key store's record of this key (the key store's signer
        passes it); otherwise a record is made for an in-memory key."""
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(private_key.curve, ec.SECP256R1):
                raise InputError(f"Key: curve {private_key.curve.name} is not P-256.")
            key_type = KeyType.EC_P256
        elif isinstance(private_key, rsa.RSAPrivateKey):
            key_type = KeyType.RSA_2048
        else:  # pragma: no cover - guarded by the type
            raise InputError("Key: only EC P-256 and RSA keys can sign.")
        self._private_key = private_key
        if info is not None:
            self.key = info
            return
        pub = spki_der(private_key)
        self.key = KeyInfo(
            key_id=key_id_for_spki(pub),
            label=label,
            key_type=key_type,
            usage=usage,
            environment=environment,
            created=created or datetime.now(UTC),
            location=KeyLocation.OS_KEYRING,
            public_key_der=pub,
            location_ref="memory",
        )

    @classmethod
    def generate(cls, key_type: KeyType = KeyType.EC_P256, **kwargs: object) -> MemorySigner:
        key: PrivateKey
        if key_type is KeyType.EC_P256:
            key = ec.generate_private_key(ec.SECP256R1())
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(key, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_pem(cls, pem: bytes, **kwargs: object) -> MemorySigner:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise InputError("Key: only EC P-256 and RSA keys can sign.")
        return cls(key, **kwargs)  # type: ignore[arg-type]

    @property
    def private_key(self) -> PrivateKey:
        return self._private_key

    def sign(self, data: bytes) -> bytes:
        if isinstance(self._private_key, ec.EllipticCurvePrivateKey):
            return self._private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self._private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def sign_digest(self, digest: bytes) -> bytes:
        if len(digest) != 32:
            raise InputError(f"Digest: a SHA-256 digest has 32 bytes, not {len(digest)}.")
        pre = utils.Prehashed(hashes.SHA256())
        if isinstance(self._private_key, ec.EllipticCurvePrivateKey):
            return self._private_key.sign(digest, ec.ECDSA(pre))
        return self._private_key.sign(digest, padding.PKCS1v15(), pre)
