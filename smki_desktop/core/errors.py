"""Typed errors shared by every layer.

Every error carries a message written for the user (it names the field, line or cause). The CLI
maps `InputError` to exit code 2 and every other `SmkiError` to exit code 1.

Messages are face-neutral: they never name a command-line command or option, nor a menu. Where
the user needs to be told where to act, the error carries a `hint` key (e.g.
"credential.request.file-signing", "field.resubmitter"); each face maps the key to its own words
(`cli/hints.py`: the command or option; `gui/hints.py`: the page, menu or field).
"""

from __future__ import annotations


class SmkiError(Exception):
    """Base of every error the application reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputError(SmkiError):
    """Bad input or usage: a malformed identifier, file or argument (exit code 2)."""

    exit_code = 2


class Refusal(SmkiError):
    """A well-formed request that the rules forbid (exit code 1)."""


class EnvironmentMismatch(Refusal):
    """An artifact of one environment was offered to the other."""


class StoreUnreachable(SmkiError):
    """The shared team store cannot be reached (server down, network cut): every change is
    refused until it returns, nothing is split between a local and a shared store. Raised by
    the store layer; the faces say so (the window's banner, the CLI's exit 1)."""


class TeamStoreNotReached(SmkiError):
    """A team store this workstation is not linked to could not be reached (a first connect):
    nothing is refused, the workstation goes on with its own database. Not `StoreUnreachable`,
    whose faces say that changes are refused until the linked store returns (exit code 1)."""


class NotFound(SmkiError):
    """A named thing (key, certificate, request) does not exist here."""


class Ambiguous(InputError):
    """An identifier prefix matches more than one thing."""


class Cancelled(SmkiError):
    """The user stopped the work (a Cancel button, a PIN or passphrase question answered with
    Cancel): not a failure to report but an end to say plainly ("... cancelled; nothing was
    written."). Faces recognise cancellation by this type, never by the words of a message."""
