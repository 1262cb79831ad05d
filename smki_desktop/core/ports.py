"""Ports: the small interfaces through which the layers above reach the outside world."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Protocol

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyInfo, KeyType, KeyUsage


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests can move."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**kwargs)


class PassphraseProvider(Protocol):
    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        """Ask the user for a secret (PIN, passphrase). Raise `Refusal` if they cancel."""
        ...


class ProgressSink(Protocol):
    def progress(self, done: int, total: int, text: str = "") -> None: ...

    @property
    def cancelled(self) -> bool: ...


class NullProgress:
    cancelled = False

    def progress(self, done: int, total: int, text: str = "") -> None:
        return None


class Signer(Protocol):
    """A private key, unlocked for one operation. Signatures are over `data` with SHA-256
    (ECDSA DER-encoded, or RSA PKCS#1 v1.5)."""

    key: KeyInfo

    def sign(self, data: bytes) -> bytes: ...

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign a precomputed SHA-256 digest (for streamed files)."""
        ...


#: entered around the insert of a new key's row (see `KeyStore.generate`)
RowHook = Callable[[KeyInfo], AbstractContextManager[object]]


class KeyStore(Protocol):
    environment: Environment

    def generate(self, key_type: KeyType, usage: KeyUsage, label: str, *,
                 recorded: RowHook | None = None) -> KeyInfo:
        """Make and store a key. `recorded(info)`, when given, is entered around the insert of
        the key's row, so that the caller's audit record commits with the row (issue 16)."""
        ...

    def list_keys(self) -> list[KeyInfo]: ...

    def get(self, key_ref: str) -> KeyInfo:
        """By full id or a unique prefix of 8+ hex digits."""
        ...

    def signer(self, key_id: str) -> AbstractContextManager[Signer]:
        """Unlock the key once for an operation (never per item of a batch)."""
        ...

    def delete(self, key_id: str) -> None: ...
