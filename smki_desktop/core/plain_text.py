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


# Letters of other scripts (and Latin small capitals, IPA) that read as a Latin letter: the
# look-alikes of the words this application gives meaning to in labels ("ceremony", "test",
# "live"), after NFKD has taken the accents and compatibility forms (full-width, math, ligature)
# away. Not the whole Unicode confusables table: enough that such a word cannot be spelled to
# read the same and compare differently.
_LOOK_ALIKES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i",
    "ј": "j", "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "г": "r",
    "ѕ": "s", "т": "t", "ц": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "ү": "y", "п": "n",
    "л": "n", "ո": "n", "ɡ": "g", "ӓ": "a", "ӧ": "o", "ҽ": "e", "ϲ": "c", "ԑ": "e",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "μ": "m", "σ": "o", "ϻ": "m",
    # Latin small capitals and other Latin letters that read as a plain one
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j",
    "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t",
    "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ı": "i", "ȷ": "j", "ɾ": "r", "ɼ": "r",
    "ɑ": "a", "ɛ": "e", "ɩ": "i", "ɯ": "m", "ɲ": "n", "ɵ": "o", "ʋ": "v", "ƴ": "y",
    # Armenian, Cherokee and others seen in spoofing
    "օ": "o", "ս": "u", "ց": "g", "ɦ": "h",
})


def skeleton(text: str) -> str:
    """How `text` reads, for comparing it with a word of meaning: compatibility forms folded
    (NFKD: full-width and mathematical letters, ligatures), accents dropped, case folded,
    letters of other scripts that look like a Latin one mapped to it, runs of spaces made one
    and the ends stripped. 'Ceremony', '\\u0441eremony' (Cyrillic es) and 'ｃｅｒｅｍｏｎｙ' all
    read 'ceremony'."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in folded if not unicodedata.combining(ch))
    mapped = unicodedata.normalize("NFKC", kept).casefold().translate(_LOOK_ALIKES)
    return " ".join(mapped.split())
