"""What a keyboard walk of the window found (pytest-qt, offscreen, real window and keyring):
Tab leaves a table with rows instead of going round its cells; the status bar's "Working: …"
clears when a quiet background job is the last to end; dialogs that make something say the
environment in their title."""

from __future__ import annotations

import threading

from smki_desktop.core.keys import KeyUsage
from smki_desktop.gui.main_window import STATUS_NAME, MainWindow
from smki_desktop.gui.qt import QApplication, QDialog, Qt, QTableWidget
from smki_desktop.services.keys import generate_key


def _keys_page_with_rows(window: MainWindow, qtbot) -> QTableWidget:  # type: ignore[no-untyped-def]
    assert window.ctx is not None
    for label in ("first", "second", "third"):
        generate_key(window.ctx, KeyUsage.SIGNING, f"walk {label}")
    page = window.go_to("Keys")
    table = page.table  # type: ignore[attr-defined]
    page.refresh()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: table.rowCount() == 3, timeout=30_000)
    return table


def test_tab_leaves_a_table_with_rows_and_shift_tab_comes_back(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    table = _keys_page_with_rows(window, qtbot)
    window.activateWindow()
    qtbot.waitActive(window)
    table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is table)
    table.setCurrentCell(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    after = QApplication.focusWidget()
    assert after is not None and after is not table, "Tab stayed in the table's cells"
    assert table.currentRow() == 0 and table.currentColumn() == 0  # it did not move a cell
    qtbot.keyClick(after, Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is table
    qtbot.keyClick(table, Qt.Key.Key_Down)  # the arrows still move between rows
    assert table.currentRow() == 1


def test_working_label_clears_when_a_quiet_job_ends_last(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(window.jobs.idle, timeout=30_000)
    release = threading.Event()
    window.jobs.submit(lambda: release.wait(10), name="activate")
    assert window.job_label.text() == "Working: activate…"
    quiet = threading.Event()
    window.jobs.submit(lambda: quiet.wait(10), name=STATUS_NAME)  # the status read: not shown
    assert window.job_label.text() == "Working: activate…"
    release.set()
    qtbot.waitUntil(lambda: window.jobs.running == 1, timeout=10_000)
    assert window.job_label.text() == ""  # activate ended: nothing the officer started runs
    quiet.set()
    qtbot.waitUntil(lambda: window.jobs.running == 0, timeout=10_000)
    assert window.job_label.text() == ""


def test_generate_key_dialog_says_the_environment(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = window.go_to("Keys")
    page.open_generate()  # type: ignore[attr-defined]
    dialog = page.generator.dialog  # type: ignore[attr-defined]
    assert isinstance(dialog, QDialog)
    assert dialog.windowTitle() == "Generate a key — Test"
    dialog.label.setFocus()
    qtbot.keyClick(dialog.label, Qt.Key.Key_Return)  # no label: said under the field
    assert dialog.isVisible() and dialog.fields.errors() == ["Label: give the key a label."]
    assert dialog.label.placeholderText() == "e.g. supplier DS 2026"  # the example stays
    dialog.reject()


def test_paste_dialog_is_done_with_the_keyboard(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.pages.certificates import PasteDialog

    page = window.go_to("Certificates")
    dialog = PasteDialog(page)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitActive(dialog)
    dialog.text.setFocus()
    qtbot.waitUntil(dialog.text.hasFocus)
    qtbot.keyClick(dialog.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.isVisible()  # empty: said in the dialog, under the text
    assert [e[:31] for e in dialog.fields.errors()] == ["Certificate: nothing pasted yet"]
    assert dialog.text.hasFocus()
    qtbot.keyClicks(dialog.text, "-----BEGIN CERTIFICATE-----")
    qtbot.keyClick(dialog.text, Qt.Key.Key_Tab)  # Tab leaves the text: no tab typed into it
    assert dialog.text.toPlainText() == "-----BEGIN CERTIFICATE-----"
    assert not dialog.text.hasFocus()
    dialog.text.setFocus()
    qtbot.waitUntil(dialog.text.hasFocus)
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.keyClick(dialog.text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == QDialog.DialogCode.Accepted
    # the release of Ctrl went to the closed dialog: without a key event with no modifier the
    # application goes on believing Ctrl is held, and the next test's selectRow() toggles
    qtbot.keyRelease(page, Qt.Key.Key_Control)


def test_every_page_is_reached_by_keyboard_the_tenth_on_too(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+1..9 reach the first nine pages; pages 10 and on had no shortcut. Ctrl+PgDn walks
    every page in order and wraps; Ctrl+PgUp walks back, from wherever the focus is."""
    window.activateWindow()
    qtbot.waitActive(window)
    count = window.sidebar.count()
    assert count > 9, count
    seen = []
    for _ in range(count):
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_PageDown,
                       Qt.KeyboardModifier.ControlModifier)
        seen.append(window.sidebar.currentRow())
    assert seen == [*range(1, count), 0]
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_PageUp,
                   Qt.KeyboardModifier.ControlModifier)
    assert window.sidebar.currentRow() == count - 1
    assert window.stack.currentIndex() == count - 1
    assert "Ctrl+PgDn" in window.sidebar.item(count - 1).toolTip()


def test_the_approvals_badge_keeps_the_entrys_keys(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """With no request waiting the badge cleared the Approvals entry's tooltip, and with it
    the keys that reach the page ("Ctrl+5; Ctrl+PgDn…")."""
    row = next(i for i, e in enumerate(window.entries) if e.module == "approvals")
    item = window.sidebar.item(row)
    keys = f"Ctrl+{row + 1}; Ctrl+PgDn"
    assert keys in item.toolTip()
    window._show_badge(2)
    assert "2 request(s) waiting" in item.toolTip() and keys in item.toolTip()
    window._show_badge(0)
    assert item.text() == "Approvals" and keys in item.toolTip()
