"""Typed errors shared by every layer.

Every error carries a message written for the user (it names the field, line or cause). The CLI
maps `InputError` to exit code 2 and every other `SmkiError` to exit code 1.
"""

from __future__ import annotations


class SmkiError(Exception):
    """Base of every error the application reports to a user."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(SmkiError):
    """Bad input or usage: a malformed identifier, file or argument (exit code 2)."""

    exit_code = 2


class Refusal(SmkiError):
    """A well-formed request that the rules forbid (exit code 1)."""


class EnvironmentMismatch(Refusal):
    """An artifact of one environment was offered to the other."""


class NotFound(SmkiError):
    """A named thing (key, certificate, request) does not exist here."""


class Ambiguous(InputError):
    """An identifier prefix matches more than one thing."""
