"""A key's encrypted file is `<key id>.p8.pem` in its environment's keys folder, whatever the
store's `location_ref` column says (security review, f_location_ref.sh): a row edited to
`../../live/keys/<LIVE>.p8.pem` made a delete of a Test key unlink the Live key's file, and an
absolute path any file the officer can remove. An edited column, or a key file that is a link
out of the folder, is refused naming the key and the value, and nothing is removed. On SQLite
and on a PostgreSQL team store (whose keys table is shared)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services.key_lifecycle import delete_key
from tests.support.raw_store import raw_sql

BOTH = pytest.mark.both_backends


def _set_ref(ctx, key_id: str, ref: str) -> None:  # type: ignore[no-untyped-def]
    raw_sql(ctx.paths.root, "UPDATE keys SET location_ref=? WHERE key_id=?", (ref, key_id),
            ctx.env.value)


def _still_whole(ctx, key_id: str) -> None:  # type: ignore[no-untyped-def]
    """The key's own file and keyring entry are still there (nothing was removed)."""
    assert (ctx.paths.keys_dir / f"{key_id}.p8.pem").is_file()
    assert ctx.keystore.secrets.get_optional(f"key:{key_id}") is not None


@BOTH
def test_a_row_pointing_at_the_live_keys_file_is_refused_and_removes_nothing(
        ctx, live_ctx) -> None:  # type: ignore[no-untyped-def]
    live = live_ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "LIVE org signing")
    live_file = live_ctx.paths.keys_dir / f"{live.key_id}.p8.pem"
    test = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "test scratch key")
    bad = f"../../live/keys/{live.key_id}.p8.pem"
    _set_ref(ctx, test.key_id, bad)
    with pytest.raises(Refusal) as caught:
        delete_key(ctx, test.key_id[:16], "scratch key no longer needed")
    said = caught.value.message
    assert test.key_id[:16] in said and repr(bad) in said, said
    assert live_file.is_file(), "the Live key's file was removed by a Test delete"
    assert live_ctx.keystore.export_private_key(live.key_id)  # Live still opens its key
    _still_whole(ctx, test.key_id)
    assert not [e for e in ctx.audit.entries() if e.action == "key.delete"]
    # nor does any other use open a file through the column
    for use in (ctx.keystore.tls_material, ctx.keystore.export_private_key):
        with pytest.raises(Refusal):
            use(test.key_id)


@BOTH
def test_an_absolute_path_in_the_row_is_refused(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    victim = tmp_path / "victim.txt"
    victim.write_text("not a key")
    test = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "test scratch key 2")
    _set_ref(ctx, test.key_id, str(victim))
    with pytest.raises(Refusal) as caught:
        delete_key(ctx, test.key_id, "scratch key 2 no longer needed")
    assert str(victim) in caught.value.message
    assert victim.read_text() == "not a key"
    _still_whole(ctx, test.key_id)


@BOTH
def test_a_key_file_that_is_a_link_out_of_the_folder_is_refused(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The column is right, but the file in the keys folder was replaced by a link."""
    victim = tmp_path / "victim.txt"
    victim.write_text("not a key")
    test = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "linked")
    own = ctx.paths.keys_dir / f"{test.key_id}.p8.pem"
    own.unlink()
    own.symlink_to(victim)
    with pytest.raises(Refusal) as caught:
        ctx.keystore.signer(test.key_id).__enter__()
    assert "link" in caught.value.message and test.key_id[:16] in caught.value.message
    with pytest.raises(Refusal):
        delete_key(ctx, test.key_id, "linked key")
    assert own.is_symlink() and victim.read_text() == "not a key"
    assert ctx.keystore.secrets.get_optional(f"key:{test.key_id}") is not None


@BOTH
def test_the_right_row_still_deletes(ctx) -> None:  # type: ignore[no-untyped-def]
    test = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "plain")
    delete_key(ctx, test.key_id, "no longer needed")
    assert not (ctx.paths.keys_dir / f"{test.key_id}.p8.pem").exists()
    assert ctx.keystore.secrets.get_optional(f"key:{test.key_id}") is None
