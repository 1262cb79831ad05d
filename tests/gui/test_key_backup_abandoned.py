"""The Keys page after a backup killed before its record (security review, key restore 3): the
next backup removes the killed one's hidden files (audited) and the page says so under a
title of its own; a passphrase backup's notice was shown as "Separate the shares now"."""

from __future__ import annotations

import json
from pathlib import Path

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.gui.qt import QDialogButtonBox
from smki_desktop.services import key_backup_staging

PASS = "correct horse battery staple"


def test_a_killed_backups_files_are_removed_and_said(window, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                     monkeypatch) -> None:
    ctx = window.services.ctx
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "page backup")
    # what a killed backup leaves: its note (no process holds its lock) and a staged file
    notes = ctx.paths.env_dir / key_backup_staging.STAGING
    notes.mkdir(parents=True)
    (notes / "999999-dead.json").write_text(json.dumps({
        "key_id": info.key_id, "targets": [str(tmp_path / "old.smkikey")], "folder": ""}))
    part = tmp_path / ".old.smkikey.abc123.part"
    part.write_bytes(b"the whole encrypted key")
    said: list[tuple[str, str]] = []
    monkeypatch.setattr(window.services, "error",
                        lambda title, text, *a, **k: said.append((title, str(text))))
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.table.selectRow(next(i for i, k in enumerate(page.keys) if k.key_id == info.key_id))
    page.open_backup()
    dlg = page.backup_dialog
    dlg.path.setText(str(tmp_path / "k.smkikey"))
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.passphrases.dialog is not None
                    and window.passphrases.dialog.isVisible(), timeout=30000)
    pd = window.passphrases.dialog
    pd.secret.setText(PASS)
    assert pd.again is not None
    pd.again.setText(PASS)
    pd.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: page.backup_button.isEnabled(), timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert not part.exists() and (tmp_path / "k.smkikey").exists()
    [(title, text)] = said
    assert title == "Key backup" and "was interrupted before it finished" in text
    assert ctx.audit.entries(action_prefix="key.backup_abandoned")
