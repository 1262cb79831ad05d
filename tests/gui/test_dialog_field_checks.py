"""Dialogs check their fields before they close (a keyboard walk at 1024x700): Enter on
"File the signed request" with an empty Justification (Revoke), empty or wrong incident
fields (Record incident…) or an empty reason (Delete…/Archive…) keeps the dialog open with
the service's own message under the field it names, focus in that field and everything
entered kept; each field has a label with a mnemonic that is its buddy; the dialogs are wide
enough for their titles and placeholders."""

from __future__ import annotations

from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.gui.qt import QLabel, QLineEdit, Qt, QWidget


def visible_errors(dlg: QWidget) -> list[str]:
    return [lb.text() for lb in dlg.findChildren(QLabel, "fieldError")
            if lb.isVisible() and lb.text()]


def error_under(dlg: QWidget, field: QWidget) -> str:
    """The text of the visible error label laid out just below `field`."""
    for lb in dlg.findChildren(QLabel, "fieldError"):
        if lb.isVisible() and lb.text():
            top = lb.mapTo(dlg, lb.rect().topLeft()).y()
            bottom = field.mapTo(dlg, field.rect().bottomLeft()).y()
            if 0 <= top - bottom <= 20:
                return lb.text()
    return ""


def buddy_text(dlg: QWidget, field: QWidget) -> str:
    return next((lb.text() for lb in dlg.findChildren(QLabel) if lb.buddy() is field), "")


def _enter_is_refused_at(qtbot, dlg: QWidget, accepted: list[bool], typed_in: QWidget,  # type: ignore[no-untyped-def]
                         field: QWidget, message: str) -> None:
    """Enter in `typed_in` leaves the dialog open with `message` under `field`, focus there."""
    typed_in.setFocus()
    qtbot.keyClick(typed_in, Qt.Key.Key_Return)
    assert dlg.isVisible() and not accepted
    assert error_under(dlg, field) == message
    assert dlg.focusWidget() is field


def _shown_revoke_dialog(qtbot) -> tuple[Any, list[bool]]:  # type: ignore[no-untyped-def]
    """A Test Revoke dialog on screen, and a list that gets True when it is accepted."""
    from smki_desktop.gui.widgets.dual_control import RevokeDialog

    dlg = RevokeDialog("<p>x</p>", [], Environment.TEST)
    qtbot.addWidget(dlg)
    accepted: list[bool] = []
    dlg.accepted.connect(lambda: accepted.append(True))
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg, accepted


def test_revoke_dialog_refuses_an_empty_justification_in_place(qtbot) -> None:  # type: ignore[no-untyped-def]
    # the Revoke dialog's default is Cancel (Return in a field cancels): its check runs when
    # the officer presses "File the signed request" (Tab to it, then Return)
    dlg, accepted = _shown_revoke_dialog(qtbot)
    dlg.reason.setCurrentIndex(dlg.reason.findData("superseded"))
    dlg.urgency.setCurrentIndex(dlg.urgency.count() - 1)
    urgency = dlg.urgency.currentData()
    _enter_is_refused_at(qtbot, dlg, accepted, dlg.ok, dlg.justification,
                         "Justification: say in words why these certificates must be "
                         "revoked (at least 10 letters or digits, e.g. 'laptop holding the "
                         "key stolen').")
    # a word that says nothing is refused in place too (it was filed and signed)
    dlg.justification.setText("x")
    dlg.ok.setFocus()
    qtbot.keyClick(dlg.ok, Qt.Key.Key_Return)
    assert dlg.isVisible() and not accepted
    assert error_under(dlg, dlg.justification).startswith(
        "Justification: 'x' says too little; say in words why")
    assert dlg.reason.currentData() == "superseded" and dlg.urgency.currentData() == urgency
    for field, label in ((dlg.reason, "&Reason:"), (dlg.justification, "&Justification:"),
                         (dlg.urgency, "&Urgency:"), (dlg.actor.combo, "&Sign as:")):
        assert buddy_text(dlg, field) == label
        assert field.accessibleName() == label.strip("&:").replace("&", "")

    dlg.justification.setText("laptop stolen on the train")
    dlg.ok.setFocus()
    qtbot.keyClick(dlg.ok, Qt.Key.Key_Return)
    assert accepted and not dlg.isVisible()
    assert not visible_errors(dlg)
    assert dlg.windowTitle().endswith(" — Test")
    from smki_desktop.gui.widgets.dual_control import RevokeDialog

    live = RevokeDialog("<p>x</p>", [], Environment.LIVE)
    qtbot.addWidget(live)
    assert live.windowTitle().endswith(" — Live")


def test_revoke_dialog_chooses_no_reason_for_the_officer(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Key compromise, the gravest reason, was preselected: a bare Enter filed it."""
    dlg, accepted = _shown_revoke_dialog(qtbot)
    assert dlg.reason.currentData() == ""
    dlg.justification.setText("moved to a new HSM")
    dlg.ok.setFocus()
    qtbot.keyClick(dlg.ok, Qt.Key.Key_Return)
    assert dlg.isVisible() and not accepted
    assert error_under(dlg, dlg.reason).startswith(
        "Reason: choose why the certificates must be revoked (Key compromise; Affiliation "
        "changed;")
    assert dlg.focusWidget() is dlg.reason
    assert dlg.justification.text() == "moved to a new HSM"
    qtbot.keyClick(dlg.reason, Qt.Key.Key_Down)  # the keyboard chooses one
    assert dlg.reason.currentData() == "keyCompromise"
    dlg.ok.setFocus()
    qtbot.keyClick(dlg.ok, Qt.Key.Key_Return)
    assert accepted and not visible_errors(dlg)


def test_record_incident_dialog_checks_its_fields_in_place(qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.pages.incidents import OpenDialog

    dlg = OpenDialog()
    qtbot.addWidget(dlg)
    accepted: list[bool] = []
    dlg.accepted.connect(lambda: accepted.append(True))
    dlg.show()
    qtbot.waitExposed(dlg)

    dlg.description.setText("HSM backup tape lost")
    _enter_is_refused_at(qtbot, dlg, accepted, dlg.description, dlg.reported_by,
                         "Reported by: name who reported the suspected compromise.")
    assert dlg.description.text() == "HSM backup tape lost"

    dlg.reported_by.setText("DCC Service Desk")
    dlg.when.setText("yesterday")
    qtbot.keyClick(dlg.reported_by, Qt.Key.Key_Return)
    assert dlg.isVisible() and not accepted
    assert error_under(dlg, dlg.when).startswith("Suspected at 'yesterday': not an ISO 8601")
    assert visible_errors(dlg) == [error_under(dlg, dlg.when)]  # the earlier error is gone
    assert dlg.focusWidget() is dlg.when

    dlg.when.setText("2026-12-03T22:10:00Z")
    qtbot.keyClick(dlg.when, Qt.Key.Key_Return)
    assert error_under(dlg, dlg.certs) == "Name at least one key or certificate."
    assert dlg.focusWidget() is dlg.certs and not accepted

    assert dlg.width() >= 460  # the title and "key ids (8+ hex digits), comma-separated"
    for field in dlg.findChildren(QLineEdit):
        assert "&" in buddy_text(dlg, field), field.accessibleName()
        assert field.accessibleName()
        fm = field.fontMetrics()
        assert fm.horizontalAdvance(field.placeholderText()) < field.width()
    dlg.certs.setText("1234ABCD")
    qtbot.keyClick(dlg.certs, Qt.Key.Key_Return)
    assert accepted and not dlg.isVisible()


def test_reason_dialog_is_wide_enough_and_shows_its_error(qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.widgets.reason import ReasonDialog

    parent = QWidget()
    qtbot.addWidget(parent)
    dlg = ReasonDialog("Delete key 284f8e0a1b2c3d4e", parent)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    placeholder = dlg.reason.placeholderText()
    qtbot.keyClick(dlg.reason, Qt.Key.Key_Return)
    assert dlg.isVisible()
    assert error_under(dlg, dlg.reason).startswith("Reason: say why")
    assert dlg.focusWidget() is dlg.reason
    assert dlg.reason.placeholderText() == placeholder  # the example stays
    assert buddy_text(dlg, dlg.reason) == "&Reason"
    assert dlg.width() >= 460
    fm = dlg.reason.fontMetrics()
    assert fm.horizontalAdvance(dlg.reason.placeholderText()) < dlg.reason.width()
    dlg.reason.setText("test key no longer needed")
    qtbot.keyClick(dlg.reason, Qt.Key.Key_Return)
    assert not dlg.isVisible() and not visible_errors(dlg)
