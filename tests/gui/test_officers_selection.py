"""Officers: the buttons that act on the selected officer are enabled only while one is (with an
empty Live register all of them were enabled, and Alt+A only said "Select an officer first." at
the bottom of the page)."""

from __future__ import annotations

from types import SimpleNamespace

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QApplication, Qt

SELECTED_ACTIONS = ("verify", "activate", "suspend", "revoke", "link_key", "me", "pdf")


def _officer() -> SimpleNamespace:
    return SimpleNamespace(
        officer_id="ARO-0001", role=SimpleNamespace(label="ARO", value="aro"),
        status=SimpleNamespace(value="nominated"), name="Ann Officer", email="ann@example.org",
        nominated_on="2026-12-01", verified=False, verification=None,
        screening_date="2026-11-30", credentials=[])


def test_selected_buttons_follow_the_selection(qtbot, live_window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    page = live_window.go_to("Officers")
    qtbot.waitUntil(live_window.jobs.idle, timeout=20000)  # its read
    assert page.table.rowCount() == 0
    selected = [page.buttons[n] for n in SELECTED_ACTIONS]
    assert not any(b.isEnabled() for b in selected), [b.text() for b in selected if b.isEnabled()]
    assert all(b.toolTip() == "Select an officer in the register first." for b in selected)
    assert page.buttons["nominate"].isEnabled() and page.buttons["resume"].isEnabled()
    # Alt+A reaches no disabled Activate: nothing is said, nothing opens
    live_window.activateWindow()
    qtbot.waitActive(live_window)
    page.buttons["nominate"].setFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert page.message.text() == "" and QApplication.activeModalWidget() is None
    # a register with an officer: the buttons come with the selection and go without it
    page.show_read((SimpleNamespace(officers=[_officer()], warnings=[]), [], []))
    assert not any(b.isEnabled() for b in selected)
    page.select("ARO-0001")
    assert all(b.isEnabled() for b in selected) and all(not b.toolTip() for b in selected)
    page.table.clearSelection()
    assert not any(b.isEnabled() for b in selected)
    page.table.setFocus(Qt.FocusReason.TabFocusReason)  # Tab into the table selects its row
    qtbot.waitUntil(lambda: all(b.isEnabled() for b in selected), timeout=3000)
