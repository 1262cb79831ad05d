"""The rule of a new key backup's passphrase (security review, f_weak_pass.sh): twelve spaces,
"aaaaaaaaaaaa" and "123456789012" were accepted, the rule being a length only. Now whitespace
only, one character repeated, a short pattern repeated, keyboard/alphabet/digit runs, digits
only below 20, too few different characters and very common passwords are refused, each with
a sentence naming its rule, by the service (any face) and by `passphrase_problem`."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import key_backup as kb


@pytest.mark.parametrize(("weak", "rule"), [
    (" " * 12, "only spaces"),
    ("\t \u00a0" * 4, "only spaces"),
    ("a" * 12, "one character repeated"),
    ("A a A a A a A", "one character repeated"),
    ("abababababab", "short pattern repeated"),
    ("abcabcabcabc", "short pattern repeated"),
    ("123456789012", "run along the keyboard"),
    ("abcdefghijkl", "run along the keyboard"),
    ("qwertyuiopas", "run along the keyboard"),
    ("987654321098", "run along the keyboard"),
    ("907321856432", "digits only"),
    ("1122 3344 1122 33", "digits only"),
    ("aabbccaabbccab", "different characters"),
    ("password1234", "very common password"),
    ("Password123!", "very common password"),
    ("letmeinletmein", "very common password"),
    ("short", "at least 12 characters"),
])
def test_weak_passphrases_are_refused_naming_the_rule(weak: str, rule: str) -> None:
    problem = kb.passphrase_problem(weak)
    assert rule in problem, (weak, problem)
    assert problem.startswith("Passphrase:") and "several unrelated words" in problem


@pytest.mark.parametrize("good", ["correct horse battery staple", "a long enough passphrase",
                                  "walk key 1 backup phrase", "Tr0ub4dor&3 meter fox",
                                  "73920184651093847261"])
def test_reasonable_passphrases_pass(good: str) -> None:
    assert kb.passphrase_problem(good) == ""


@pytest.mark.parametrize("weak", [" " * 12, "aaaaaaaaaaaa", "123456789012"])
def test_the_service_refuses_them(ctx, tmp_path: Path, weak: str) -> None:  # type: ignore[no-untyped-def]
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "weak pass key")
    out = tmp_path / "k.smkikey"
    with pytest.raises(InputError, match="^Passphrase: "):
        kb.backup_with_passphrase(ctx, info.key_id, out, weak)
    assert not out.exists() and not list(tmp_path.glob(".*.part"))
    assert not ctx.audit.entries(action_prefix="key.backup")
