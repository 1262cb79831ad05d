"""A `Signer` over an in-memory `cryptography` private key (unlocked for one operation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from smki_desktop.core.keys import KeyInfo

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class MemorySigner:
    def __init__(self, key: KeyInfo, private_key: PrivateKey) -> None:
        self.key = key
        self._private = private_key

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding

        if isinstance(self._private, ec.EllipticCurvePrivateKey):
            return self._private.sign(data, ec.ECDSA(hashes.SHA256()))
        return self._private.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def sign_digest(self, digest: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

        pre = utils.Prehashed(hashes.SHA256())
        if isinstance(self._private, ec.EllipticCurvePrivateKey):
            return self._private.sign(digest, ec.ECDSA(pre))
        return self._private.sign(digest, padding.PKCS1v15(), pre)

    @property
    def private_key(self) -> PrivateKey:
        """For `cryptography` builders that need the key object (same operation only)."""
        return self._private
