"""The key model every key store shares: types, usages, identity and metadata."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from smki_desktop.core.environment import Environment


class KeyType(enum.Enum):
    EC_P256 = "ec-p256"
    RSA_2048 = "rsa-2048"


class KeyUsage(enum.Enum):
    """One usage per key. `signing` and `key-agreement` are the SMKI usages (P-256);
    `client-auth` is the DCC web-service client credential (RSA-2048);
    `file-signing` is the ARO's file-signing credential (P-256 or RSA-2048)."""

    SIGNING = "signing"
    KEY_AGREEMENT = "key-agreement"
    CLIENT_AUTH = "client-auth"
    FILE_SIGNING = "file-signing"

    @classmethod
    def parse(cls, text: str) -> KeyUsage:
        from smki_desktop.core.errors import InputError

        norm = text.strip().lower().replace("_", "-")
        aliases = {"ds": cls.SIGNING, "ka": cls.KEY_AGREEMENT, "digitalsignature": cls.SIGNING,
                   "keyagreement": cls.KEY_AGREEMENT}
        if norm in aliases:
            return aliases[norm]
        try:
            return cls(norm)
        except ValueError:
            raise InputError(
                f"Usage {text!r} is not known; use one of: "
                + ", ".join(u.value for u in cls)
                + "."
            ) from None


class KeyLocation(enum.Enum):
    OS_KEYRING = "os-keyring"
    PKCS11 = "pkcs11"


def key_id_for_spki(spki_der: bytes) -> str:
    """A key's stable id: SHA-256 of its SubjectPublicKeyInfo DER, lower-case hex."""
    return hashlib.sha256(spki_der).hexdigest()


#: the flag of a key kept but retired (services/key_lifecycle.archive_key): used for no new work
ARCHIVED_FLAG = "archived"


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    label: str
    key_type: KeyType
    usage: KeyUsage
    environment: Environment
    created: datetime
    location: KeyLocation
    public_key_der: bytes  # SubjectPublicKeyInfo
    location_ref: str = ""  # file name, or token serial + CKA_ID hex
    flags: tuple[str, ...] = field(default=())

    @property
    def short_id(self) -> str:
        return self.key_id[:16]
