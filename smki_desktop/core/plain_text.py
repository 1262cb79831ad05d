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


def bad_char_words(text: str) -> str | None:
    """The first refused character of `text` in words ("the control or format character
    U+202E", "a byte that is not UTF-8"), or None."""
    bad = bad_char(text)
    if bad is None:
        return None
    return ("a byte that is not UTF-8" if 0xDC80 <= int(bad[2:], 16) <= 0xDCFF
            else f"the control or format character {bad}")


def check_plain(text: str, field: str) -> str:
    """`text` stripped, or an InputError naming `field` and the refused character."""
    what = bad_char_words(text)
    if what is not None:
        raise InputError(f"{field}: holds {what}; one line of plain text only.")
    return text.strip()


def visible(text: str) -> str:
    """`text` with each refused character shown as its name in brackets ("[U+202E]"): how
    text written by someone else (a token, a profile stored before the rule) is shown, never
    raw to a terminal or a table."""
    return "".join(f"[U+{ord(ch):04X}]" if unicodedata.category(ch) in _REFUSED else ch
                   for ch in text)
