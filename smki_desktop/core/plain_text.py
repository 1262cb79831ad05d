"""One-line plain text an officer types (a name, a label, a CN, a custodian): the characters
it may not hold, and the one refusal every face shows for them. A control character forges
lines in transcripts and terminals; a line or paragraph separator does the same; a format
character such as a bidirectional override makes text read differently than it is stored; a
lone surrogate is a byte that was not UTF-8 (Python keeps it in command-line words)."""

from __future__ import annotations

import unicodedata

from smki_desktop.core.errors import InputError

_REFUSED = ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")


def bad_char(text: str) -> str | None:
    """The first refused character of `text` as U+XXXX, or None."""
    for ch in text:
        if unicodedata.category(ch) in _REFUSED:
            return f"U+{ord(ch):04X}"
    return None


def check_plain(text: str, field: str) -> str:
    """`text` stripped, or an InputError naming `field` and the refused character."""
    bad = bad_char(text)
    if bad is not None:
        what = ("a byte that is not UTF-8" if 0xDC80 <= int(bad[2:], 16) <= 0xDCFF
                else f"the control or format character {bad}")
        raise InputError(f"{field}: holds {what}; one line of plain text only.")
    return text.strip()
