"""The Generate key dialog. In Live it carries the red Live frame and wording and the key is
made only after the Live confirmation (Cancel the default, the "I have checked" tick): Live →
Keys → Alt+G, a label, Return made a Live key at once, with no Live marking. In Test Generate
stays quick. An error under the label makes the dialog grow to fit: the keyring note's second
line and the Generate/Cancel buttons were cut off at the bottom."""

from __future__ import annotations

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.gui.qt import QApplication, QDialogButtonBox, QFrame, QLabel, Qt
from smki_desktop.gui.texts import KEYRING_HINT
from smki_desktop.services.party import set_party


def _dialog(window, qtbot):  # type: ignore[no-untyped-def]
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.open_generate()
    dlg = page.generator.dialog
    qtbot.waitExposed(dlg)
    return page, dlg


def test_live_generate_is_marked_live_and_needs_the_live_confirmation(  # type: ignore[no-untyped-def]
        live_window, qtbot) -> None:
    ctx = live_window.services.ctx
    set_party(ctx, PartyProfile("Acme Energy", "ACME", PartyType.IMPORT_SUPPLIER, (
        EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))
    page, dlg = _dialog(live_window, qtbot)
    frame = dlg.findChild(QFrame, "liveGenerate")
    assert frame is not None and frame.isVisible() and "3px solid" in frame.styleSheet()
    assert any("LIVE environment" in lab.text() for lab in frame.findChildren(QLabel))
    dlg.label.setText("live signing key")
    dlg.label.setFocus()
    qtbot.keyClick(dlg.label, Qt.Key.Key_Return)  # Generate…: the summary, nothing made
    confirm = getattr(dlg, "confirmation", None)
    assert confirm is not None and confirm.isVisible()
    assert "Live" in confirm.windowTitle() and "live signing key" in confirm.text()
    assert not confirm.confirm_button.isEnabled()  # the Live tick first
    assert ctx.keystore.list_keys() == []
    qtbot.keyClick(confirm, Qt.Key.Key_Return)  # Return cancels (Cancel is the default)
    qtbot.waitUntil(lambda: not confirm.isVisible(), timeout=5000)
    live_window.jobs.wait(5000)
    assert ctx.keystore.list_keys() == []
    assert dlg.isVisible() and dlg.label.text() == "live signing key"  # nothing lost
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    dlg.confirmation.confirm()  # tick and confirm, as an officer would
    qtbot.waitUntil(lambda: page.selected() is not None
                    and page.selected().label == "live signing key", timeout=30000)
    assert [k.label for k in ctx.keystore.list_keys()] == ["live signing key"]


def test_test_generate_stays_quick(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    page, dlg = _dialog(window, qtbot)
    assert dlg.findChild(QFrame, "liveGenerate") is None or not dlg.live_frame.isVisible()
    dlg.label.setText("test key quick")
    dlg.label.setFocus()
    qtbot.keyClick(dlg.label, Qt.Key.Key_Return)
    assert getattr(dlg, "confirmation", None) is None
    qtbot.waitUntil(lambda: page.selected() is not None
                    and page.selected().label == "test key quick", timeout=30000)


def test_an_error_under_the_label_does_not_cut_off_the_buttons(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    _page, dlg = _dialog(window, qtbot)
    dlg.label.setFocus()
    qtbot.keyClick(dlg.label, Qt.Key.Key_Return)  # no label: said under the field
    assert dlg.fields.errors() == ["Label: give the key a label."]
    QApplication.processEvents()
    qtbot.wait(50)
    buttons = dlg.buttons.geometry()
    assert buttons.bottom() <= dlg.contentsRect().bottom(), (buttons, dlg.size())
    note = next(lab for lab in dlg.findChildren(QLabel) if lab.text() == KEYRING_HINT)
    assert note.height() >= note.heightForWidth(note.width()), "the keyring note is cut"
    assert dlg.height() >= dlg.layout().totalHeightForWidth(dlg.width())
    dlg.reject()
