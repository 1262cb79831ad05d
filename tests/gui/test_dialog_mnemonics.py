"""Alt letters in two dialogs the walk found without them: "Switch to Live" in the
Switch-environment question, and "Skip for now" in the Live welcome (Alt+K typed a "k" into
Organisation name); each letter claimed once in its dialog."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.environment import Environment
from smki_desktop.gui.first_run import FirstRunDialog
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QAbstractButton, QApplication, QLabel, QMessageBox, Qt, QTimer
from tests.gui.mnemonics import clashes, mnemonic


def _letters(dialog) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[str]] = {}
    for w in [*dialog.findChildren(QAbstractButton), *dialog.findChildren(QLabel)]:
        if w.isVisibleTo(dialog) and (k := mnemonic(w.text())) is not None:
            out.setdefault(k, []).append(w.text())
    return out


def test_switch_to_live_has_an_alt_letter(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, object] = {}

    def look() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        switch = next(b for b in box.buttons()
                      if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole)
        seen["text"] = switch.text()
        seen["letters"] = _letters(box)
        box.reject()

    QTimer.singleShot(50, look)
    assert window.request_switch() is False
    assert mnemonic(str(seen["text"])) == "s", seen
    letters = seen["letters"]
    assert isinstance(letters, dict) and all(len(v) == 1 for v in letters.values()), letters


def test_skip_in_the_live_welcome_has_alt_k(qtbot, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(data_root, Environment.LIVE, first_run=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: any(c.isVisible() for c in w.findChildren(FirstRunDialog)),
                    timeout=10000)
    dlg = next(c for c in w.findChildren(FirstRunDialog) if c.isVisible())
    letters = _letters(dlg)
    assert "k" in letters and "Skip" in letters["k"][0].replace("&", ""), letters
    assert all(len(v) == 1 for v in letters.values()), letters
    assert dlg.party_form is not None
    dlg.party_form.name.setFocus()
    qtbot.keyClick(dlg.party_form.name, Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    assert dlg.party_form.name.text() == ""  # skipped, not typed
    w.jobs.wait(10000)


def test_no_alt_letter_is_claimed_twice_on_any_page(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Every page (and each Settings tab) with the menu bar: an Alt letter claimed twice only
    moves the focus between its owners (Requests had Alt+P twice and Alt+F with the File menu,
    Officers Alt+V, Repository Alt+S, Quarantine Alt+H with the Help menu, Settings > Team store
    Alt+I); the Settings tabs had no Alt letters."""
    from smki_desktop.gui.qt import QTabWidget

    found: dict[str, dict[str, list[str]]] = {}
    untabbed: list[str] = []
    for entry in window.entries:
        page = window.go_to(entry.title)
        qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
        if twice := clashes(window):
            found[entry.title] = twice
        for tabs in page.findChildren(QTabWidget):  # Settings: each section in turn
            for i in range(tabs.count()):
                tabs.setCurrentIndex(i)
                qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the section's read
                if mnemonic(tabs.tabText(i)) is None:
                    untabbed.append(tabs.tabText(i))
                if twice := clashes(window):
                    found[f"{entry.title} > {tabs.tabText(i)}"] = twice
    assert found == {}, repr(found)
    assert untabbed == []  # every tab is reached by its Alt letter
