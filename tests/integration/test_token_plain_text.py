"""A token's label, manufacturer, model and serial are chosen by whoever initialised it: an
escape or bidi override in them is shown named ("[U+001B]") by the token list, `token use`,
the key's location and the ceremony's facts, never printed raw; the label as shown chooses
the token and tests its PIN; a raw one given is refused (real SoftHSM2 token)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.keystores.pkcs11_store import Pkcs11KeyStore
from smki_desktop.services import token_manager
from tests.support.softhsm import MODULE, PIN, FixedPin, softhsm_token

RAW = "ev\x1b[31m\u202eil"
SHOWN = "ev[U+001B][31m[U+202E]il"


@pytest.fixture
def token(tmp_path: Path) -> Iterator[str]:
    with softhsm_token(tmp_path, RAW) as label:
        yield label


def _raw_free(text: str) -> bool:
    return "\x1b" not in text and "\u202e" not in text


def test_the_token_list_names_the_characters(ctx, cli_run, token: str) -> None:  # type: ignore[no-untyped-def]
    found = token_manager.list_tokens(ctx, MODULE)  # (and SoftHSM's free slot, unlabelled)
    assert [t.label for t in found if t.label] == [SHOWN]
    r = cli_run("token", "tokens", "--module", MODULE)
    assert r.code == 0, r.err
    assert SHOWN in r.out and _raw_free(r.out), repr(r.out)


def test_the_label_as_shown_chooses_the_token_and_a_raw_one_is_refused(  # type: ignore[no-untyped-def]
        ctx, cli_run, token: str) -> None:
    raw = cli_run("token", "use", "--module", MODULE, "--token", RAW)
    assert raw.code == 2 and "U+001B" in raw.err and SHOWN in raw.err, raw.err
    assert _raw_free(raw.err) and ctx.setting("pkcs11.token") is None
    with pytest.raises(InputError, match="Token label: holds the control or format "
                                         "character U\\+001B"):
        token_manager.test_login(ctx, RAW, MODULE)

    used = cli_run("token", "use", "--module", MODULE, "--token", SHOWN)
    assert used.code == 0, used.err
    assert _raw_free(used.out) and ctx.setting("pkcs11.token") == SHOWN
    assert [t.in_use for t in token_manager.list_tokens(ctx, MODULE) if t.label] == [True]
    ok = cli_run("token", "test-login", SHOWN, stdin=PIN + "\n")
    assert ok.code == 0, ok.err

    store = Pkcs11KeyStore(ctx.env, MODULE, SHOWN, ctx.db, ctx.clock, FixedPin())
    info = store.generate(KeyType.EC_P256, KeyUsage.SIGNING, "on an odd token")
    assert info.location_ref.startswith(f"{SHOWN}|")
    facts = store.token_identity()  # what a ceremony transcript prints
    assert facts["label"] == SHOWN and all(_raw_free(v) for v in facts.values())


def test_a_token_key_label_is_held_to_the_rule_a_keyring_key_label_is(  # type: ignore[no-untyped-def]
        ctx, cli_run, token: str) -> None:
    """`token keygen --label` went straight to the token: a key labelled with an escape was
    made, and its label printed raw by every key list."""
    assert cli_run("token", "use", "--module", MODULE, "--token", SHOWN).code == 0
    r = cli_run("token", "keygen", "--usage", "signing", "--label", "k\x1b[2J",
                stdin=PIN + "\n")
    assert r.code == 2 and "Label" in r.err and "U+001B" in r.err, r.err
    assert "--label" in r.err  # the face's hint names the option
    assert cli_run("token", "list").out.strip() == "No token keys."
    assert not ctx.audit.entries(action_prefix="key.generate")
    import pkcs11

    with pkcs11.lib(MODULE).get_token(token_label=RAW).open(user_pin=PIN) as sess:
        assert not list(sess.get_objects({pkcs11.Attribute.CLASS:
                                          pkcs11.ObjectClass.PRIVATE_KEY}))
