"""The Keys page backs a key up (issue 14): SLIP-39 shares into a new folder, or a passphrase
file (the passphrase typed twice in the dialog); the Backup column follows; token keys are
refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.gui.pages.keys import COLUMNS
from smki_desktop.gui.qt import QDialogButtonBox

PASS = "correct horse battery staple"


def _backup_cell(page, key_id: str) -> str:  # type: ignore[no-untyped-def]
    row = next(i for i, k in enumerate(page.keys) if k.key_id == key_id)
    return page.table.item(row, COLUMNS.index("Backup")).text()


def test_back_up_from_the_keys_page(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = window.services.ctx
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "page backup")
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert _backup_cell(page, info.key_id) == "NO BACKUP"
    page.table.selectRow(next(i for i, k in enumerate(page.keys) if k.key_id == info.key_id))

    page.open_backup()
    dlg = page.backup_dialog
    dlg.by_shares.setChecked(True)
    dlg.threshold.setValue(2)
    dlg.count.setValue(3)
    for field, name in zip(dlg.custodian_fields, ("Ann", "Bo", "Cy"), strict=False):
        field.setText(name)
    dlg.path.setText(str(tmp_path / "shares"))
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: page.backup_button.isEnabled(), timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the page's read after it
    assert _backup_cell(page, info.key_id) == "2-of-3 shares"
    assert len(list((tmp_path / "shares").glob("share-*-of-3.txt"))) == 3

    page.open_backup()
    dlg = page.backup_dialog
    dlg.path.setText(str(tmp_path / "k.smkikey"))
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.passphrases.dialog is not None
                    and window.passphrases.dialog.isVisible(), timeout=30000)
    pd = window.passphrases.dialog
    assert pd.again is not None  # typed twice
    pd.secret.setText(PASS)
    pd.again.setText(PASS)
    pd.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: page.backup_button.isEnabled(), timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the page's read after it
    assert _backup_cell(page, info.key_id) == "2-of-3 shares, passphrase"
    assert json.loads((tmp_path / "k.smkikey").read_text())["key_id"] == info.key_id
