"""Test and Live: the two SMKI systems, which must never mix."""

from __future__ import annotations

import enum

from smki_desktop.core.errors import EnvironmentMismatch, InputError


class Environment(enum.Enum):
    TEST = "test"
    LIVE = "live"

    @property
    def label(self) -> str:
        return "Test" if self is Environment.TEST else "Live"

    @property
    def keyring_service(self) -> str:
        return f"smki-desktop/{self.value}"

    @classmethod
    def parse(cls, text: str) -> Environment:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InputError(f"Unknown environment {text!r}: use 'test' or 'live'.") from None


def require_same(expected: Environment, actual: Environment, what: str) -> None:
    """Refuse an artifact from another environment, naming both sides."""
    if expected is not actual:
        raise EnvironmentMismatch(
            f"{what} belongs to the {actual.label} environment; this is the {expected.label} "
            f"environment. Test and Live artifacts are never mixed."
        )
