"""The status line's messages belong to the page they were said on (cleared when the officer
moves to another page or environment) and stay readable at 1024×700: a long one is cut with
"…", whole in its tooltip and in "Recent messages" (a button on the line, the Help menu, or
Ctrl+Shift+M), which the keyboard alone opens and closes."""

from __future__ import annotations

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QApplication, QMessageBox, Qt

LONG = ("Backups can still restore this key: 2 recorded backups of key 3f9a1c2b7d4e5f60 can "
        "still restore it: /home/officer/backups/signing-key.smkikey (passphrase, audit #12); "
        "/media/usb/shares (2-of-3 shares, audit #13). Destroy them (every copy, and every "
        "custodian's share) if the key must be gone for good.")


def _at_1024(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=5000)
    qtbot.waitUntil(window.jobs.idle, timeout=30_000)


def test_a_message_goes_when_the_officer_changes_page(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=30_000)
    window.services.status("Copied key id 3f9a1c2b…", 15000)
    assert window.statusBar().currentMessage() == "Copied key id 3f9a1c2b…"
    window.services.jobs.wait(10_000)
    QApplication.processEvents()  # a refresh of the same page keeps it
    window.go_to("Keys")
    assert window.statusBar().currentMessage() == "Copied key id 3f9a1c2b…"

    window.go_to("Certificates")  # another page: the message was about the Keys page
    assert window.statusBar().currentMessage() == ""
    assert window.officer_label.isVisible()  # the line says who works here again

    window.show_error("Could not export", "the folder is read-only")  # 15 s, as errors are
    assert window.statusBar().currentMessage() == "Could not export: the folder is read-only"
    box = window.findChild(QMessageBox, "errorBox")
    assert box is not None
    box.close()  # the box is read and closed; the line still says it
    assert window.statusBar().currentMessage() == "Could not export: the folder is read-only"
    qtbot.keyClick(window.sidebar, Qt.Key.Key_Down)  # the keyboard moves page: cleared too
    assert window.statusBar().currentMessage() == ""


def test_a_message_goes_when_the_environment_changes(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.core.environment import Environment

    qtbot.waitUntil(window.jobs.idle, timeout=30_000)
    window.services.status("Key generated.", 15000)
    window.open_environment(Environment.LIVE)
    assert window.statusBar().currentMessage() == ""
    qtbot.waitUntil(lambda: window.ready, timeout=30_000)
    qtbot.waitUntil(window.jobs.idle, timeout=30_000)


def test_a_long_message_is_cut_with_the_whole_text_at_hand(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _at_1024(window, qtbot)
    window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=30_000)
    window.services.status(LONG, 15000)
    line = window.status_line
    assert window.statusBar() is line  # what pages and tests reach as the status bar
    label = line.message
    qtbot.waitUntil(lambda: label.isVisible() and label.cut(), timeout=5000)
    shown = label.text()
    assert shown.endswith("…") and LONG.startswith(shown[:-1])
    # what is shown fits the room the line leaves it (nothing is clipped mid-letter)
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()
    assert label.geometry().right() < line.recent_button.geometry().left()
    assert label.toolTip() == LONG and label.accessibleDescription() == LONG
    assert line.currentMessage() == LONG

    line.recent_button.click()
    dlg = line.dialog
    assert dlg is not None and dlg.isVisible()
    assert LONG in dlg.text() and "Test · Keys" in dlg.text()
    dlg.reject()


def test_a_message_of_several_lines_shows_on_one_line(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(window.jobs.idle, timeout=30_000)
    window.services.status("Could not export:\nthe folder is read-only", 15000)
    line = window.status_line
    assert line.message.text() == "Could not export: the folder is read-only"
    assert line.currentMessage() == "Could not export:\nthe folder is read-only"
    line.open_recent()
    assert line.dialog is not None
    assert "Could not export:\nthe folder is read-only" in line.dialog.text()
    line.dialog.reject()


def test_recent_messages_with_the_keyboard_alone(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=30_000)
    window.services.status("First thing said.", 15000)
    window.go_to("Certificates")  # cleared from the line, kept in the recent messages
    qtbot.waitUntil(window.jobs.idle, timeout=30_000)
    window.services.status(LONG, 15000)
    window.activateWindow()
    qtbot.waitActive(window)
    window.sidebar.setFocus()
    qtbot.keyClick(window.sidebar, Qt.Key.Key_M,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    line = window.status_line
    qtbot.waitUntil(lambda: line.dialog is not None and line.dialog.isVisible(), timeout=5000)
    dlg = line.dialog
    assert dlg is not None
    text = dlg.text()
    assert text.index(LONG) < text.index("First thing said.")  # newest first
    assert "Test · Keys" in text and "Test · Certificates" in text
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dlg.list, timeout=5000)
    qtbot.keyClick(dlg.list, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: line.dialog is None, timeout=5000)

    # the line's own button is in the Tab chain (Shift+Tab from the sidebar reaches it) and
    # Space opens it
    window.activateWindow()
    qtbot.waitActive(window)
    window.sidebar.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.sidebar, timeout=5000)
    for _ in range(6):
        focused = QApplication.focusWidget()
        if focused is line.recent_button or focused is None:
            break
        qtbot.keyClick(focused, Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is line.recent_button
    qtbot.keyClick(line.recent_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: line.dialog is not None and line.dialog.isVisible(), timeout=5000)
    assert line.dialog is not None
    qtbot.keyClick(line.dialog.list, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: line.dialog is None, timeout=5000)
