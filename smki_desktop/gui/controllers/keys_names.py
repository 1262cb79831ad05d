"""How a key is named to the officer: its label and usage first, its location in words; the
key id only as a secondary detail (the short id after the label, the full one to copy)."""

from __future__ import annotations

from smki_desktop.core.keys import KeyInfo, KeyLocation


def location_text(k: KeyInfo) -> str:
    """Where the private key is kept, in words: "OS keyring" or "token <serial>"."""
    if k.location is KeyLocation.OS_KEYRING:
        return "OS keyring"
    token = k.location_ref.split("|", 1)[0].strip()
    return f"token {token}" if token else "token"

