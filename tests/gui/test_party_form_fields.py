"""The Party profile form in the welcome: one Party ID rule (the services' `check_new`) in
Test and in Live, in the placeholder and in the error; what is typed upper-cased; an empty
value called "required", not quoted; no error for a field the user has not reached yet."""

from __future__ import annotations

from smki_desktop.core.errors import InputError
from smki_desktop.core.party import PARTY_ID_HINT, PartyProfile, PartyType, party_problems
from smki_desktop.gui.forms import OfficerForm, PartyForm

RANGE = "90B3D51F30010000..90B3D51F3001FFFF"


def test_typing_a_party_id_shows_nothing_until_the_field_is_left(qtbot) -> None:  # type: ignore[no-untyped-def]
    form = PartyForm()
    qtbot.addWidget(form)
    assert PARTY_ID_HINT in form.party_id.placeholderText()
    qtbot.keyClicks(form.party_id, "acme")
    assert form.party_id.text() == "ACME"  # the rule is upper-case: typed so
    assert form.error.text() == ""  # not the untouched ranges, nor the name, yet
    form.party_id.editingFinished.emit()  # left (Tab)
    assert form.error.text() == ""  # ACME passes; the ranges were never reached
    form.party_id.clear()
    assert form.error.text() == "Party ID: required."
    qtbot.keyClicks(form.party_id, "ab-1")
    assert form.error.text() == f"Party ID 'AB-1': {PARTY_ID_HINT}."
    assert not form.show_all()  # Save: every field's errors, reached or not
    shown = form.error.text().splitlines()
    assert [m.split(" ")[0] for m in shown] == ["Organisation", "Party", "EUI-64"], shown


def test_the_ranges_box_shows_its_error_once_left(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QFocusEvent

    from smki_desktop.gui.qt import QApplication, Qt

    form = PartyForm()
    qtbot.addWidget(form)
    form.ranges.setPlainText("zz")
    assert form.error.text() == ""
    QApplication.sendEvent(form.ranges, QFocusEvent(QFocusEvent.Type.FocusOut,
                                                    Qt.FocusReason.TabFocusReason))
    assert "EUI-64 range line 1" in form.error.text()
    assert "Party ID" not in form.error.text()


def test_the_officer_form_waits_for_its_fields_too(qtbot) -> None:  # type: ignore[no-untyped-def]
    form = OfficerForm()
    qtbot.addWidget(form)
    qtbot.keyClicks(form.email, "ann@")
    assert form.error.text() == ""  # the name was not reached: no "required" for it
    form.email.editingFinished.emit()
    assert form.error.text() == "Email 'ann@' is not an email address."
    assert not form.show_all()
    assert form.error.text().splitlines()[0] == "Officer name: required."


def test_one_party_id_rule_and_wording_everywhere() -> None:
    assert "Party ID: required." in party_problems("Acme", "", [RANGE], "")
    for bad in ("", "acme-1", "é"):
        try:
            PartyProfile("Acme", bad, PartyType.OTHER_USER, ()).check_new()
        except InputError as exc:
            message = exc.message
        assert message in party_problems("Acme", bad, [], ""), (bad, message)
        assert "1 to 64" not in message and "''" not in message
