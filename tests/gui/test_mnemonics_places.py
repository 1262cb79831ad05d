"""Alt letters where the fresh-eyes walk found none: every field label and button of Settings >
Portal, the ADT file profile choosers, the Live confirmation's check box (keyboard users went
back to it with Shift+Tab), the welcome's Start / Later / Try again / Run again / Finish, the
Officers page's saved drafts (no label at all) and the Org CSR wizard's file field (only a
placeholder). Each letter once in its page or dialog, and each label's letter reaches its field.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.gui.first_run import FirstRunDialog
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QAbstractButton, QApplication, QLabel, Qt, QTabWidget, QWidget
from smki_desktop.gui.widgets.confirm import ConfirmDialog
from tests.gui.mnemonics import clashes, mnemonic


def _letters(root: QWidget) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for w in [*root.findChildren(QAbstractButton), *root.findChildren(QLabel)]:
        if w.isVisibleTo(root) and (k := mnemonic(w.text())) is not None:
            out.setdefault(k, []).append(w.text())
    return out


def _buddy_label(root: QWidget, field: QWidget) -> QLabel:
    found = [lbl for lbl in root.findChildren(QLabel) if lbl.buddy() is field]
    assert len(found) == 1, [lbl.text() for lbl in found]
    assert mnemonic(found[0].text()) is not None, found[0].text()
    return found[0]


def _settings_tab(window: MainWindow, qtbot, title: str) -> QWidget:  # type: ignore[no-untyped-def]
    page = window.go_to("Settings")
    tabs = page.findChild(QTabWidget)
    index = next(i for i in range(tabs.count()) if tabs.tabText(i).replace("&", "") == title)
    tabs.setCurrentIndex(index)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # the section's read
    section = tabs.widget(index)
    assert isinstance(section, QWidget)
    return section


def test_settings_portal_has_an_alt_letter_on_every_label_and_button(qtbot, window: MainWindow  # type: ignore[no-untyped-def]
                                                                     ) -> None:
    section = _settings_tab(window, qtbot, "Portal")
    buttons = [b for b in section.findChildren(QAbstractButton) if b.isVisibleTo(section)]
    assert buttons and all(mnemonic(b.text()) for b in buttons), [b.text() for b in buttons]
    for field in (section.portal_url, section.repo_url, section.anchor, section.api_key,
                  section.deadline, section.adhoc_path):
        _buddy_label(section, field)
    assert clashes(window) == {}
    # the keyboard: Alt+L puts the cursor in the portal URL, Alt+I in the API key
    section.deadline.setFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is section.portal_url, timeout=3000)
    qtbot.keyClick(section.portal_url, Qt.Key.Key_I, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is section.api_key, timeout=3000)
    assert section.portal_url.text() == ""  # reached, not typed into


def test_settings_adt_profile_choosers_have_labels_with_alt_letters(qtbot, window: MainWindow  # type: ignore[no-untyped-def]
                                                                    ) -> None:
    section = _settings_tab(window, qtbot, "ADT files")
    for combo in section.combos.values():
        _buddy_label(section, combo)
    assert clashes(window) == {}


@pytest.mark.parametrize("action", ["&Submit CSR", "&Activate and sign", "&Change PIN",
                                    "Mark as &handled"])
def test_the_live_check_box_has_its_own_alt_letter(qtbot, action: str) -> None:  # type: ignore[no-untyped-def]
    dlg = ConfirmDialog(None, title="Submit", what="Submit a CSR.", env=Environment.LIVE,
                        action=action)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.activateWindow()
    qtbot.waitActive(dlg)
    letter = mnemonic(dlg.checked.text())
    assert letter is not None and letter != mnemonic(action)
    assert dlg.checked.text().replace("&", "").startswith("I have checked this summary")
    assert all(len(v) == 1 for v in _letters(dlg).values()), _letters(dlg)
    assert not dlg.confirm_button.isEnabled()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dlg.cancel_button, timeout=3000)
    qtbot.keyClick(dlg.cancel_button, getattr(Qt.Key, f"Key_{letter.upper()}"),
                   Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(dlg.checked.isChecked, timeout=3000)
    assert dlg.confirm_button.isEnabled()


def test_welcome_walk_buttons_have_alt_letters(qtbot, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(data_root, Environment.TEST, first_run=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: any(c.isVisible() for c in w.findChildren(FirstRunDialog)),
                    timeout=10000)
    dlg = next(c for c in w.findChildren(FirstRunDialog) if c.isVisible())
    dlg.stack.setCurrentWidget(dlg.walk_page)
    assert [mnemonic(b.text()) for b in (dlg.walk_button, dlg.close_button)] == ["s", "l"]
    assert all(len(v) == 1 for v in _letters(dlg).values()), _letters(dlg)
    dlg._step_failed(0, RuntimeError("no simulator"))
    assert mnemonic(dlg.walk_button.text()) == "t"
    dlg._finished()
    assert [mnemonic(b.text()) for b in (dlg.walk_button, dlg.close_button)] == ["r", "f"]
    assert all(len(v) == 1 for v in _letters(dlg).values()), _letters(dlg)
    dlg.close()
    w.jobs.wait(10000)


def test_officers_saved_drafts_have_a_label(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    page = window.go_to("Officers")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    label = _buddy_label(page, page.drafts)
    assert label.text().replace("&", "") == "Saved drafts:"
    assert clashes(window) == {}


def test_org_csr_review_page_letters(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.org_csr import OrgCsrWizard

    dlg = OrgCsrWizard(window.services, window)
    qtbot.addWidget(dlg)
    dlg.stack.setCurrentIndex(dlg.stack.count() - 1)
    dlg.show()
    assert mnemonic(dlg.save_button.text()) and mnemonic(dlg.copy_button.text())
    _buddy_label(dlg, dlg.path)
    assert all(len(v) == 1 for v in _letters(dlg).values()), _letters(dlg)
    dlg.close()
