"""Deleting a key that has recorded backups, from the Keys page: the reason dialog names the
key by its label; the summary before the delete names every backup the audit log records (each
on a line of its own, with its audit record; each can still restore the key) and says to
destroy them; Cancel keeps the key and the page says "Cancelled — nothing deleted."; confirming
deletes it, writes the audit record and says on the page's message line (no second box) that
backups can still restore it. The whole flow works with the keyboard alone (Alt+D, the reason,
Enter cancels, Tab to "Delete key" and Enter deletes)."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QApplication, QMessageBox, Qt, QWidget
from smki_desktop.services import key_backup
from smki_desktop.services import keys as key_service

PASS = "correct horse battery staple"


def _keys_page(window: MainWindow, qtbot, key_id: str):  # type: ignore[no-untyped-def]
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.table.selectRow(next(i for i, k in enumerate(page.keys) if k.key_id == key_id))
    return page


def _summary(page, qtbot, before=None):  # type: ignore[no-untyped-def]
    """The confirmation summary (what it shows is read in a job after the reason)."""
    qtbot.waitUntil(lambda: getattr(page, "confirmation", None) not in (None, before)
                    and page.confirmation.isVisible(), timeout=10000)
    return page.confirmation


def _deletes(window: MainWindow) -> list:  # type: ignore[type-arg]
    assert window.ctx is not None
    return [e for e in window.ctx.audit.entries() if e.action == "key.delete"]


def test_delete_summary_names_the_recorded_backups(window: MainWindow, qtbot,  # type: ignore[no-untyped-def]
                                                    tmp_path: Path) -> None:
    ctx = window.ctx
    assert ctx is not None
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "backed-up key")
    key_file = tmp_path / "signing.smkikey"
    key_backup.backup_with_passphrase(ctx, info.key_id, key_file, PASS)
    shares = tmp_path / "shares"
    key_backup.backup_with_shares(ctx, info.key_id, shares, 2, 3, ["Ann", "Bo", "Cy"])
    page = _keys_page(window, qtbot, info.key_id)

    page.ask_retire("delete")
    assert page.reason_dialog.windowTitle() == f"Delete key backed-up key ({info.short_id})"
    page.reason_dialog.reason.setText("replaced by a new key")
    page.reason_dialog.accept()
    summary = _summary(page, qtbot)
    warning = summary.warning.text()
    assert summary.warning.isVisible()
    assert "2 recorded backups can still restore this key" in warning
    lines = warning.splitlines()  # each backup on a line of its own, its path first
    assert any(line.startswith(f"{key_file} (passphrase, audit record ") for line in lines)
    assert any(line.startswith(f"{shares} (2-of-3 shares, audit record ") for line in lines)
    assert "audit #" not in warning
    assert "every custodian's share" in warning
    assert "Recorded backups: 2." in summary.text()
    # the long warning does not cut the facts above it off: the summary is shown whole
    label = summary.summary
    assert label.height() >= label.heightForWidth(label.width())
    summary.reject()  # Cancel: nothing is deleted, nothing recorded
    qtbot.waitUntil(window.jobs.idle, timeout=10000)
    assert page.message.text() == "Cancelled — nothing deleted."
    assert key_service.get_key(ctx, info.key_id).key_id == info.key_id
    assert not _deletes(window)

    page.ask_retire("delete")
    page.reason_dialog.reason.setText("replaced by a new key")
    page.reason_dialog.accept()
    _summary(page, qtbot, summary).confirm()
    qtbot.waitUntil(lambda: " deleted (audit" in page.message.text(), timeout=10000)
    assert all(k.key_id != info.key_id for k in key_service.list_keys(ctx))
    [entry] = _deletes(window)
    assert entry.details["key_id"] == info.key_id
    assert entry.details["reason"] == "replaced by a new key"
    # afterwards a short word on the page, not a second box listing them again
    said = page.message.text()
    assert f"audit record {entry.seq}" in said
    assert "2 recorded backups can still restore it: destroy them" in said
    box = window.findChild(QMessageBox, "errorBox")
    assert box is None or not box.isVisible()


def test_a_key_without_backups_has_no_backup_warning(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = window.ctx
    assert ctx is not None
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "never backed up")
    page = _keys_page(window, qtbot, info.key_id)
    page.ask_retire("delete")
    page.reason_dialog.reason.setText("test key no longer needed")
    page.reason_dialog.accept()
    summary = _summary(page, qtbot)
    assert "Recorded backups: none." in summary.text()
    assert not summary.warning.isVisible() and "backup" not in summary.warning.text()
    summary.reject()


def _focused(qtbot) -> QWidget:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=5000)
    w = QApplication.focusWidget()
    assert w is not None
    return w


def test_delete_with_the_keyboard_alone(window: MainWindow, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = window.ctx
    assert ctx is not None
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "keyboard key")
    key_file = tmp_path / "keyboard.smkikey"
    key_backup.backup_with_passphrase(ctx, info.key_id, key_file, PASS)
    page = _keys_page(window, qtbot, info.key_id)
    window.activateWindow()
    qtbot.waitActive(window)
    page.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.table, timeout=5000)

    def ask() -> None:  # Alt+D (the Delete… button), type the reason, Enter
        before = page.reason_dialog
        qtbot.keyClick(page.table, "d", Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: page.reason_dialog not in (None, before)
                        and page.reason_dialog.isVisible(), timeout=5000)
        dlg = page.reason_dialog
        qtbot.waitUntil(lambda: QApplication.focusWidget() is dlg.reason, timeout=5000)
        qtbot.keyClicks(dlg.reason, "lost laptop")
        qtbot.keyClick(dlg.reason, Qt.Key.Key_Return)

    ask()
    summary = _summary(page, qtbot)
    assert f"1 recorded backup can still restore this key after it is deleted:\n{key_file} " \
        in summary.warning.text()
    assert "Destroy it " in summary.warning.text()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is summary.cancel_button, timeout=5000)
    qtbot.keyClick(_focused(qtbot), Qt.Key.Key_Return)  # Enter never confirms: it cancels
    qtbot.waitUntil(lambda: not summary.isVisible(), timeout=5000)
    qtbot.waitUntil(window.jobs.idle, timeout=10000)
    assert key_service.get_key(ctx, info.key_id).key_id == info.key_id
    assert not _deletes(window)
    assert page.message.text() == "Cancelled — nothing deleted."

    window.activateWindow()  # the offscreen platform does not give it back by itself
    qtbot.waitActive(window)
    page.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.table, timeout=5000)
    ask()
    summary = _summary(page, qtbot, summary)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is summary.cancel_button, timeout=5000)
    qtbot.keyClick(_focused(qtbot), Qt.Key.Key_Tab)  # to "Delete key": Enter presses it
    qtbot.waitUntil(lambda: QApplication.focusWidget() is summary.confirm_button, timeout=5000)
    assert summary.confirm_button.isDefault() and not summary.cancel_button.isDefault()
    qtbot.keyClick(_focused(qtbot), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: " deleted (audit" in page.message.text(), timeout=10000)
    assert [e.details["key_id"] for e in _deletes(window)] == [info.key_id]
    assert "1 recorded backup can still restore it: destroy it" in page.message.text()
    box = window.findChild(QMessageBox, "errorBox")
    assert box is None or not box.isVisible()  # no second box
