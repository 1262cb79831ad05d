"""The Live welcome's Save with empty fields: each error shows just under its own field (not
listed at the bottom of the group box), the focus goes to the first wrong field (it stayed on
the Signifier) and the EUI-64 box keeps its height."""

from __future__ import annotations

from smki_desktop.gui.first_run import FirstRunDialog
from smki_desktop.gui.qt import QApplication


def test_save_marks_each_field_and_focuses_the_first_wrong(  # type: ignore[no-untyped-def]
        live_window, qtbot) -> None:
    dlg = FirstRunDialog(live_window.services, live_window, profiles=(None, None))
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    party, officer = dlg.party_form, dlg.officer_form
    assert party is not None and officer is not None
    height = party.ranges.height()
    party.signifier.setFocus()
    dlg.save()
    qtbot.wait(50)
    errors = party.field_errors
    assert errors["name"].isVisible() and errors["name"].text() == "Organisation name: required."
    assert errors["party_id"].text() == "Party ID: required."
    assert "EUI-64 range" in errors["eui_ranges"].text()
    assert not errors["signifier"].isVisible()
    assert officer.field_errors["name"].text() == "Officer name: required."
    # each message sits under its field, between it and the next row
    for key, below in (("name", party.party_id), ("party_id", party.party_type),
                       ("eui_ranges", party.signifier)):
        field, label = party._fields[key], errors[key]
        top = label.mapTo(dlg, label.rect().topLeft()).y()
        assert field.mapTo(dlg, field.rect().bottomLeft()).y() <= top
        assert top < below.mapTo(dlg, below.rect().topLeft()).y()
    assert party.name.accessibleDescription() == "Organisation name: required."
    assert QApplication.focusWidget() is party.name
    assert party.ranges.height() == height
    dlg.reject()
