"""The rule a new key backup's passphrase meets (services/key_backup.py): long enough, and not a
guessable one. A backup file can be copied and attacked offline for as long as anyone likes, so
length alone is not enough: twelve spaces, "aaaaaaaaaaaa" or "123456789012" were accepted.

`passphrase_problem` is the one place the rule lives: the service refuses with its text, and a
face that asks for the passphrase (the GUI's dialog) may call it to say the rule before the
answer comes back. Its sentences are face-neutral (no command, option or menu)."""

from __future__ import annotations

import re

MIN_PASSPHRASE = 12
# digits only are refused below this length (a PIN-like number, however long it looks)
MIN_DIGITS_ONLY = 20
MIN_DISTINCT = 5  # different characters, at least
# keyboard rows and alphabets a "sequence" walks along (forwards or backwards)
_WALKS = ("abcdefghijklmnopqrstuvwxyz", "01234567890123456789", "qwertyuiopasdfghjklzxcvbnm",
          "1234567890qwertyuiop", "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn",
          "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")
# very common passwords and their stems (compared with case, digits, spaces and punctuation
# taken away, and as the repetition of one of them)
COMMON = frozenset((
    "password", "passw0rd", "passphrase", "letmein", "welcome", "iloveyou", "admin",
    "administrator", "changeme", "trustno", "secret", "qwerty", "abc", "monkey", "dragon",
    "football", "baseball", "sunshine", "princess", "master", "shadow", "superman", "login",
    "default", "smartmeter", "smki", "smkidesktop", "backup", "keybackup", "test", "live",
    "testtest", "private", "privatekey", "security", "mypassword", "mypassphrase",
    "openssesame", "opensesame", "hello", "helloworld", "starwars", "whatever", "freedom",
))
HINT = "A phrase of several unrelated words is strong and easiest to remember."


def _is_walk(text: str) -> bool:
    """The whole text is a run along a keyboard row or the alphabet (either way), e.g.
    "abcdefghijkl", "123456789012", "qwertyuiopas", "lkjhgfdsapoi"."""
    t = text.lower()
    for walk in _WALKS:
        for w in (walk * 3, walk[::-1] * 3):
            if t in w:
                return True
    return False


def _repeats_a_short_unit(text: str) -> bool:
    """The text is one short unit (up to a third of it, at most 6 characters) repeated,
    e.g. "abababababab", "abcabcabcabc"."""
    n = len(text)
    return any(n % k == 0 and text == text[:k] * (n // k) for k in range(1, min(6, n // 3) + 1))


def _stem(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _is_common(text: str) -> bool:
    stem = _stem(text)
    if not stem:
        return False
    if stem in COMMON:
        return True
    return any(len(stem) % len(c) == 0 and stem == c * (len(stem) // len(c)) for c in COMMON)


def passphrase_problem(passphrase: str) -> str:
    """Why this passphrase cannot protect a key backup (a sentence naming the rule), or ""."""
    p = passphrase
    if len(p) < MIN_PASSPHRASE:
        return (f"Passphrase: at least {MIN_PASSPHRASE} characters for a key backup "
                f"({len(p)} given). {HINT}")
    if not p.strip():
        return f"Passphrase: only spaces; a key backup's passphrase needs words. {HINT}"
    compact = "".join(p.split())
    if len(set(compact.lower())) == 1:
        return (f"Passphrase: one character repeated ({compact[0]!r}) is guessed at once. "
                f"{HINT}")
    if _repeats_a_short_unit(compact.lower()):
        return f"Passphrase: a short pattern repeated is guessed at once. {HINT}"
    if _is_walk(compact):
        return ("Passphrase: a run along the keyboard, the alphabet or the digits (such as "
                f"abcd…, 1234…, qwerty…) is guessed at once. {HINT}")
    if compact.isdigit() and len(compact) < MIN_DIGITS_ONLY:
        return (f"Passphrase: digits only need at least {MIN_DIGITS_ONLY} digits for a key "
                f"backup ({len(compact)} given). {HINT}")
    if len(set(compact.lower())) < MIN_DISTINCT:
        return (f"Passphrase: at least {MIN_DISTINCT} different characters for a key backup. "
                f"{HINT}")
    if _is_common(p):
        return (f"Passphrase: a very common password (or one with digits or symbols added) is "
                f"among the first an attacker tries. {HINT}")
    return ""
