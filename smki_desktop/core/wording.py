"""Small English helpers for messages built from values ("an import-supplier", "a user")."""

from __future__ import annotations

import re

# Letters whose spoken name starts with a vowel sound ("an SRO", "an HSM", "an X.509 ...").
_VOWEL_SOUND_LETTERS = set("AEFHILMNORSX")
# Words spelled with a vowel but spoken with a consonant sound, and the reverse.
_CONSONANT_SOUND = ("uni", "use", "usu", "uti", "ura", "uro", "eu", "ewe", "one", "once")
_VOWEL_SOUND = ("hour", "honest", "honour", "honor", "heir")


def article(word: str) -> str:
    """'a' or 'an' for `word`, by how it is spoken: by its first letter's name for an
    acronym or a code (SRO, HSM, UTRN, 07), else by its spelling with the common exceptions
    (a user, a unique, an hour)."""
    w = word.strip().lstrip("'\"(“")
    if not w:
        return "a"
    first = re.split(r"[\s\-_/.,]", w, maxsplit=1)[0]
    if first[0].isdigit():  # "an 8", "an 11", "an 18", "a 07"
        return "an" if first[0] == "8" or first in ("11", "18") else "a"
    if (len(first) > 1 and first.isupper()) or len(first) == 1:
        return "an" if first[0].upper() in _VOWEL_SOUND_LETTERS else "a"
    low = w.lower()
    if low.startswith(_VOWEL_SOUND):
        return "an"
    if low.startswith(_CONSONANT_SOUND):
        return "a"
    return "an" if low[0] in "aeiou" else "a"


def with_article(word: str) -> str:
    """`word` after its article: 'an import-supplier', 'a gas-supplier', 'an organisation'."""
    return f"{article(word)} {word}"


def not_utf8(source: str, data: bytes, exc: UnicodeDecodeError) -> str:
    """A file that is not UTF-8, in words: the line and the byte, and what to do; never
    Python's codec message."""
    line = data.count(b"\n", 0, exc.start) + 1
    return (f"{source} line {line}: not UTF-8 text (byte 0x{data[exc.start]:02X} cannot be "
            "read). Save the file as UTF-8 and try again.")
