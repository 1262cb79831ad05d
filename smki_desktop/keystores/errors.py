"""The three ways the OS keyring can fail, each with its own message (never a silent fallback)."""

from __future__ import annotations

from smki_desktop.core.errors import Refusal, SmkiError


class KeyringLocked(SmkiError):
    def __init__(self, service: str) -> None:
        super().__init__(
            f"The OS keyring is locked ({service}). Unlock it (log in to your desktop session, "
            "or unlock the 'login' keyring in your keyring manager) and try again."
        )


class KeyringUnavailable(SmkiError):
    def __init__(self, detail: str) -> None:
        super().__init__(
            "No secure OS keyring is available, so keys cannot be stored or used: "
            f"{detail}. On Linux, run a Secret Service (GNOME Keyring or KWallet) in your "
            "desktop session; on a machine without one (a ceremony laptop, a root shell), "
            "start it for one session: `dbus-run-session -- bash`, then "
            "`gnome-keyring-daemon --unlock` (type a password, then Ctrl-D), then start the app "
            "from that shell. SMKI Desktop never falls back to storing secrets in plain text."
        )


class KeyEntryMissing(SmkiError):
    def __init__(self, what: str, service: str) -> None:
        super().__init__(
            f"The OS keyring ({service}) has no entry for {what}: the key was deleted from the "
            "keyring, or this data folder was moved from another machine or user account. "
            "The key cannot be used; restore it from a backup or make a new key."
        )


class KeyFileProblem(SmkiError):
    """The encrypted key file is missing or unreadable."""


class KeyFileRefused(KeyFileProblem, Refusal):
    """A key's record names a file other than its own (`<key id>.p8.pem` in its environment's
    keys folder), or its file is a link out of that folder: refused before any file is read or
    removed."""


class KeyArchivedInStore(Refusal):
    """An archived key asked to sign or authenticate (the key stores' own guard)."""
