"""Keys → Back up… → a path → the passphrase dialog with two different entries: the mismatch
is said inside the passphrase dialog, under the fields, with the focus back in "Again" and
nothing closed. The dialog accepted and closed, and then the Back up dialog said "the two
entries differ; nothing was done": the officer started again."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.gui.qt import Qt

PASS = "correct horse battery staple"


def test_two_different_entries_are_caught_in_the_passphrase_dialog(  # type: ignore[no-untyped-def]
        window, qtbot, tmp_path: Path) -> None:
    ctx = window.services.ctx
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "mismatch key")
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.select_key(info.key_id)
    page.open_backup()
    backup = page.backup_dialog
    target = tmp_path / "mismatch.smkikey"
    backup.path.setText(str(target))
    backup.path.setFocus()
    qtbot.keyClick(backup.path, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.passphrases.dialog is not None
                    and window.passphrases.dialog.isVisible(), timeout=30000)
    pd = window.passphrases.dialog
    pd.secret.setText(PASS)
    pd.again.setText(PASS + " typo")
    pd.again.setFocus()
    qtbot.keyClick(pd.again, Qt.Key.Key_Return)
    assert pd.isVisible(), "the passphrase dialog closed on two different entries"
    assert pd.problem.isVisible() and "The two entries differ" in pd.problem.text()
    assert pd.focusWidget() is pd.again and pd.again.text() == ""
    assert pd.secret.text() == PASS  # the first entry stays
    assert pd.height() >= pd.layout().totalHeightForWidth(pd.width())  # the reason shows
    assert not backup.isVisible()
    pd.again.setText(PASS)
    qtbot.keyClick(pd.again, Qt.Key.Key_Return)
    qtbot.waitUntil(target.exists, timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=30000)


def test_a_guessable_passphrase_is_refused_in_the_dialog(  # type: ignore[no-untyped-def]
        window, qtbot, tmp_path: Path) -> None:
    """The service refuses a guessable backup passphrase (twelve digits, spaces only…); the
    dialog says so under the field and stays open, instead of closing and the backup failing
    afterwards."""
    ctx = window.services.ctx
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "weak key")
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.select_key(info.key_id)
    page.open_backup()
    backup = page.backup_dialog
    target = tmp_path / "weak.smkikey"
    backup.path.setText(str(target))
    backup.path.setFocus()
    qtbot.keyClick(backup.path, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.passphrases.dialog is not None
                    and window.passphrases.dialog.isVisible(), timeout=30000)
    pd = window.passphrases.dialog
    for weak in ("123456789012", "            "):
        pd.secret.setText(weak)
        pd.again.setText(weak)
        qtbot.keyClick(pd.again, Qt.Key.Key_Return)
        assert pd.isVisible(), weak
        assert pd.problem.isVisible() and pd.problem.text().startswith("Passphrase:"), weak
        assert pd.focusWidget() is pd.secret
    pd.secret.setText(PASS)
    pd.again.setText(PASS)
    qtbot.keyClick(pd.again, Qt.Key.Key_Return)
    qtbot.waitUntil(target.exists, timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=30000)
