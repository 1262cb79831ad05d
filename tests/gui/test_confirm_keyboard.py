"""The confirmation summary with the keyboard: Cancel is the default (Enter from anywhere else
cancels), but Enter on a focused button presses that button and the default frame follows the
focus; `ask_confirmation` says a cancel to the page and gives the focus back to the control
that opened it."""

from __future__ import annotations

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.gui.qt import QApplication, QPushButton, Qt, QVBoxLayout, QWidget
from smki_desktop.gui.widgets.confirm import ConfirmDialog, ask_confirmation

KEEP: list[QWidget] = []  # the dialogs' parents, alive until the test ends


@pytest.fixture(autouse=True)
def _parents():  # type: ignore[no-untyped-def]
    yield
    while KEEP:
        KEEP.pop().deleteLater()


def _shown(qtbot, env: Environment) -> ConfirmDialog:  # type: ignore[no-untyped-def]
    parent = QWidget()
    KEEP.append(parent)
    dlg = ConfirmDialog(parent, title="Delete a key", what="Delete this key.", env=env,
                        facts=[("Key", "walk key 1")], action="&Delete key")
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.activateWindow()
    qtbot.waitActive(dlg)
    return dlg


def _focus(qtbot, w: QWidget) -> None:  # type: ignore[no-untyped-def]
    w.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w, timeout=5000)


@pytest.mark.parametrize("env", [Environment.TEST, Environment.LIVE])
def test_return_on_the_focused_confirm_button_confirms(qtbot, env: Environment) -> None:  # type: ignore[no-untyped-def]
    dlg = _shown(qtbot, env)
    if env is Environment.LIVE:
        dlg.checked.setChecked(True)
    assert dlg.cancel_button.isDefault() and not dlg.confirm_button.isDefault()
    _focus(qtbot, dlg.confirm_button)
    # the frame shows what Enter does: the focused button, not Cancel
    assert dlg.confirm_button.isDefault() and not dlg.cancel_button.isDefault()
    with qtbot.waitSignal(dlg.accepted, timeout=5000):
        qtbot.keyClick(dlg.confirm_button, Qt.Key.Key_Return)
    assert dlg.result() == dlg.DialogCode.Accepted.value


def test_return_elsewhere_still_cancels(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg = _shown(qtbot, Environment.LIVE)
    dlg.checked.setChecked(True)
    _focus(qtbot, dlg.confirm_button)
    _focus(qtbot, dlg.checked)  # focus leaves the button: Cancel is the default again
    assert dlg.cancel_button.isDefault() and not dlg.confirm_button.isDefault()
    with qtbot.waitSignal(dlg.rejected, timeout=5000):
        qtbot.keyClick(dlg.checked, Qt.Key.Key_Return)
    assert dlg.result() == dlg.DialogCode.Rejected.value


def test_ask_confirmation_says_cancel_and_gives_the_focus_back(qtbot) -> None:  # type: ignore[no-untyped-def]
    owner = QWidget()
    lay = QVBoxLayout(owner)
    opener, other = QPushButton("&Delete…"), QPushButton("Other")
    lay.addWidget(other)
    lay.addWidget(opener)
    KEEP.append(owner)
    owner.show()
    qtbot.waitExposed(owner)
    owner.activateWindow()
    qtbot.waitActive(owner)
    _focus(qtbot, opener)
    said: list[str] = []
    done: list[str] = []
    dlg = ask_confirmation(owner, lambda: done.append("deleted"), title="Delete a key",
                           what="Delete this key.", env=Environment.TEST,
                           cancelled=lambda: said.append("Cancelled — nothing deleted."))
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    dlg.activateWindow()
    qtbot.waitActive(dlg)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dlg.cancel_button, timeout=5000)
    qtbot.keyClick(dlg.cancel_button, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: said == ["Cancelled — nothing deleted."], timeout=5000)
    assert done == []
    owner.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is opener, timeout=5000)
