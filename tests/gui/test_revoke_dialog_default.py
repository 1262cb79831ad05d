"""The Revoke dialog (Certificates → a certificate → Revoke…) follows the rule of every
confirmation, Return from a field never files a signed revocation request (it made "File the
signed request" the default); Cancel is the default, but as the officer types a justification
in it, Return in a typed field does not cancel either (losing what was typed); Escape cancels.
Its "Sign as" list shows the whole choice (officer, key id and key label) at 1024x700: it was
cut to "…file-signing cre…"."""

from __future__ import annotations

from PySide6.QtWidgets import QStyleOptionComboBox

from smki_desktop.core.environment import Environment
from smki_desktop.gui.qt import QComboBox, QPushButton, QStyle, Qt
from smki_desktop.services.identity import SigningChoice

CHOICE = SigningChoice("ARO-0001", "Alice Officer", "aro", "active", "45d441a2fcc0" + "0" * 52,
                       "file-signing credential Alice Officer 2026")


def _dialog(qtbot):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.widgets.dual_control import RevokeDialog

    dlg = RevokeDialog("<p>You are asking for <b>1 certificate</b> to be revoked.</p>",
                       [CHOICE], Environment.TEST)
    qtbot.addWidget(dlg)
    accepted: list[bool] = []
    dlg.accepted.connect(lambda: accepted.append(True))
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg, accepted


def test_return_in_a_field_neither_files_nor_cancels(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg, accepted = _dialog(qtbot)
    defaults = [b.text() for b in dlg.findChildren(QPushButton) if b.isDefault()]
    dlg.reason.setCurrentIndex(dlg.reason.findData("superseded"))
    dlg.justification.setText("moved to a new HSM in the vault")
    dlg.justification.setFocus()
    qtbot.keyClick(dlg.justification, Qt.Key.Key_Return)  # a complete form, Return: nothing
    assert not accepted and dlg.isVisible()
    assert dlg.justification.text() == "moved to a new HSM in the vault"
    assert defaults == ["&Cancel"]
    qtbot.keyClick(dlg.justification, Qt.Key.Key_Escape)
    assert not accepted and not dlg.isVisible()


def test_the_confirm_button_files_it_when_pressed_deliberately(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg, accepted = _dialog(qtbot)
    dlg.reason.setCurrentIndex(dlg.reason.findData("superseded"))
    dlg.justification.setText("moved to a new HSM in the vault")
    dlg.ok.setFocus()  # Tab to it: it takes the default frame and Return presses it
    qtbot.keyClick(dlg.ok, Qt.Key.Key_Return)
    assert accepted


def test_sign_as_shows_the_whole_choice_at_1024_wide(qtbot) -> None:  # type: ignore[no-untyped-def]
    dlg, _accepted = _dialog(qtbot)
    combo: QComboBox = dlg.actor.combo
    opt = QStyleOptionComboBox()
    combo.initStyleOption(opt)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    assert field.width() >= combo.fontMetrics().horizontalAdvance(CHOICE.label), (
        field.width(), CHOICE.label)
    assert dlg.width() <= 1000  # still within a 1024x700 screen
    dlg.reject()
