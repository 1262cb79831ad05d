"""A key's label is one line of plain text (core.plain_text), checked before the key is made or
renamed; and a key whose storing fails leaves nothing in the keyring (review 2: a label the
database refused left `key:<id>` and `key-storing:<id>` entries no sweep ever removed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import key_lifecycle
from smki_desktop.services import keys as key_service
from tests.support.secret_service import SecretServiceSession, item_paths


def _key_files(data_root: Path) -> list[str]:
    return sorted(p.name for p in (data_root / "test" / "keys").iterdir())


def test_a_failed_store_takes_its_keyring_entries_back(ctx, data_root: Path,  # type: ignore[no-untyped-def]
                                                       secret_service: SecretServiceSession
                                                       ) -> None:
    """A real failure of the database add, below the services' label check: the store is
    given a label holding a lone surrogate (a byte that was not UTF-8, as a command line
    passes it), which the database cannot encode. No fake: the keyring entries written
    before the add must be deleted when it fails."""
    key_service.generate_key(ctx, KeyUsage.SIGNING, "first")  # the audit key's entries exist
    files = _key_files(data_root)
    before = item_paths(secret_service)
    with pytest.raises(UnicodeEncodeError):
        ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "bad\udcff")
    assert item_paths(secret_service) == before, "keyring entries of an unrecorded key left"
    assert _key_files(data_root) == files
    assert [k.label for k in key_service.list_keys(ctx)] == ["first"]


def test_cli_generate_refuses_a_label_that_is_not_plain_text_before_any_keyring_write(
        cli_run, data_root: Path, secret_service: SecretServiceSession) -> None:  # type: ignore[no-untyped-def]
    assert cli_run("key", "generate", "--usage", "signing", "--label", "ok").code == 0
    before = item_paths(secret_service)
    files = _key_files(data_root)
    for label, said in (("bad\udcff", "not UTF-8"), ("evil\u202egpj.exe", "U+202E"),
                        ("two\nlines", "U+000A")):
        r = cli_run("--json", "key", "generate", "--usage", "signing", "--label", label)
        assert r.code == 2, r.err
        # (bytes that are not UTF-8 are refused by the command line itself, naming --label)
        assert ("Label" in r.err or "--label:" in r.err) and said in r.err, r.err
        assert "Traceback" not in r.err
    assert item_paths(secret_service) == before
    assert _key_files(data_root) == files
    listed = cli_run("--json", "key", "list").json()["keys"]
    assert [k["label"] for k in listed] == ["ok"]


def test_relabel_refuses_control_and_format_characters(ctx) -> None:  # type: ignore[no-untyped-def]
    """`key list` showed a U+202E label reversed ('exe.jpg' read as a picture)."""
    info = key_service.generate_key(ctx, KeyUsage.SIGNING, "plain").key
    for label in ("\u202egpj.exe", "a\u200bb", "x\x1b[31m", "bad\udcff"):
        with pytest.raises(InputError, match="Label: holds") as exc:
            key_lifecycle.relabel_key(ctx, info.key_id, label)
        assert exc.value.hint == "field.label"
    assert key_service.get_key(ctx, info.key_id).label == "plain"
    assert key_lifecycle.relabel_key(ctx, info.key_id, "  new   name ").label == "new name"
