"""What a backup and a restore record (security review, f_relpath.sh, f_shares_1ofn.sh): the
`key.restore` record now names the key's label and usage and the warnings the restore gave; a
relative output or backup path is recorded absolute and resolved (as typed it says nothing
once the working folder is forgotten); and the service itself refuses a 1-of-N share backup
(only the command line and the GUI's spin box did)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import key_backup as kb
from smki_desktop.services.key_lifecycle import delete_key
from smki_desktop.store.repos import key_backups as backup_repo

PASS = "correct horse battery staple"
pytestmark = pytest.mark.both_backends


def test_relative_paths_are_recorded_absolute_and_the_restore_says_what_it_restored(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "supplier DS 2026")
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "via")
    monkeypatch.chdir(tmp_path)
    res = kb.backup_with_passphrase(ctx, info.key_id, Path("via/k.smkikey"), PASS)
    absolute = str((tmp_path / "real" / "k.smkikey").resolve())
    [backup] = ctx.audit.entries(action_prefix="key.backup")
    assert backup.details["file"] == absolute and str(res.files[0]) == absolute
    shares = kb.backup_with_shares(ctx, info.key_id, Path("via/s"), 2, 3)
    assert ctx.audit.entries(action_prefix="key.backup")[0].details["folder"] == str(
        (tmp_path / "real" / "s").resolve())
    assert str(shares.files[0]).startswith(str((tmp_path / "real").resolve()))
    delete_key(ctx, info.key_id, "restore drill")
    restored = kb.restore_with_passphrase(ctx, Path("via/k.smkikey"), PASS)
    [rec] = ctx.audit.entries(action_prefix="key.restore")
    assert rec.details["file"] == absolute
    assert rec.details["label"] == "supplier DS 2026" and rec.details["usage"] == "signing"
    assert rec.details["warnings"] == list(restored.warnings) and restored.warnings
    assert any("was deleted in this environment" in w for w in rec.details["warnings"])
    assert backup_repo.for_environment(ctx.db, ctx.env)[info.key_id][-1].location == absolute


@pytest.mark.parametrize("count", [1, 3])
def test_the_service_refuses_a_threshold_of_one(ctx, tmp_path: Path, count: int) -> None:  # type: ignore[no-untyped-def]
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "one of n")
    with pytest.raises(InputError, match="threshold of 1 is a plain copy"):
        kb.backup_with_shares(ctx, info.key_id, tmp_path / "s", 1, count)
    assert not (tmp_path / "s").exists()
    assert not ctx.audit.entries(action_prefix="key.backup")
