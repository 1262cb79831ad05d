"""The Keys page's flow with the keyboard: a key just generated is selected (and scrolled to)
so the next action is on it; closing a dialog gives the focus back to the control that opened
it and the table shows where the focus is; the backup passphrase dialog says and checks its
rule and catches two different entries, and a refusal from the service opens the Back up
dialog again as it was filled in; in Live without a Party profile Generate is disabled and
the page says why."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.gui.qt import QApplication, QDialogButtonBox, QLabel, Qt, QWidget
from smki_desktop.services.key_backup import MIN_PASSPHRASE
from smki_desktop.services.party import set_party

PASS = "correct horse battery staple"


def _page(window, qtbot):  # type: ignore[no-untyped-def]
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    return page


def _focus(window, qtbot, w: QWidget) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()  # the offscreen platform does not give it back by itself
    qtbot.waitActive(window)
    w.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is w, timeout=5000)


def test_a_generated_key_is_selected_and_shown(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = window.services.ctx
    for i in range(40):  # more rows than the table shows: the new one is scrolled to
        ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, f"older key {i:02}")
    page = _page(window, qtbot)
    page.table.selectRow(0)
    first = page.selected()
    page.open_generate()
    dlg = page.generator.dialog
    dlg.usage.setCurrentIndex(dlg.usage.findData(KeyUsage.FILE_SIGNING.value))
    dlg.label.setText("walk key new")
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: page.selected() is not None
                    and page.selected().label == "walk key new", timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    k = page.selected()
    assert k is not None and k.key_id != first.key_id and k.label == "walk key new"
    row = next(i for i, key in enumerate(page.keys) if key.key_id == k.key_id)
    rect = page.table.visualRect(page.table.model().index(row, 0))
    assert page.table.viewport().rect().intersects(rect)  # scrolled into view


def test_focus_comes_back_after_a_dialog_and_the_table_shows_it(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    ctx = window.services.ctx
    ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "focus key")
    page = _page(window, qtbot)
    page.table.selectRow(0)
    _focus(window, qtbot, page.backup_button)
    qtbot.keyClick(page.backup_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: page.backup_dialog is not None and page.backup_dialog.isVisible(),
                    timeout=5000)
    page.backup_dialog.activateWindow()
    qtbot.waitActive(page.backup_dialog)
    qtbot.keyClick(page.backup_dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not page.backup_dialog.isVisible(), timeout=5000)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.backup_button, timeout=5000)

    # the table marks its focus: its frame (below the rows, whose selection colour changes
    # with the focus anyway) is drawn otherwise with the focus than without
    _focus(window, qtbot, page.generate_button)
    without = page.table.grab().toImage()
    _focus(window, qtbot, page.table)
    with_focus = page.table.grab().toImage()
    bottom = without.height() - 1
    assert with_focus.pixelColor(0, bottom - 2) != without.pixelColor(0, bottom - 2)
    assert with_focus.pixelColor(without.width() // 2, bottom) \
        != without.pixelColor(without.width() // 2, bottom)


def test_backup_passphrase_rule_in_the_dialog_and_a_refusal_keeps_the_form(  # type: ignore[no-untyped-def]
        window, qtbot, tmp_path: Path) -> None:
    ctx = window.services.ctx
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "pass key")
    page = _page(window, qtbot)
    page.select_key(info.key_id)
    page.open_backup()
    dlg = page.backup_dialog
    target = tmp_path / "pass.smkikey"
    dlg.path.setText(str(target))
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.passphrases.dialog is not None
                    and window.passphrases.dialog.isVisible(), timeout=30000)
    pd = window.passphrases.dialog
    assert pd.windowTitle() == "Backup passphrase"
    assert pd.rule.isVisible() and f"At least {MIN_PASSPHRASE} characters" in pd.rule.text()
    assert [lab.text() for lab in pd.findChildren(QLabel) if lab.buddy() is pd.secret] \
        == ["&Backup passphrase"]
    pd.secret.setText("short")
    pd.again.setText("short")
    pd.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert pd.isVisible() and pd.problem.isVisible()  # refused here; the dialog stays
    assert "Too short" in pd.problem.text()
    # long enough, but typed differently: refused here too (test_backup_passphrase_mismatch)
    pd.secret.setText(PASS)
    pd.again.setText(PASS + "!")
    pd.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert pd.isVisible() and "differ" in pd.problem.text()
    # the service refuses (the file appeared meanwhile): the Back up dialog comes back
    target.write_bytes(b"already here")
    pd.again.setText(PASS)
    pd.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dlg.isVisible() and dlg.refusal.isVisible(), timeout=30000)
    assert dlg.path.text() == str(target)  # as it was typed
    assert target.read_bytes() == b"already here"
    dlg.reject()


def test_live_without_a_party_profile_generate_is_disabled(live_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = _page(live_window, qtbot)
    assert not page.generate_button.isEnabled()
    assert page.party_note.isVisible()
    assert "Set the Party profile first (Dashboard → Edit Party profile)" \
        in page.party_note.text()
    advice = " ".join(item.text(1) for item in page.details.findItems(
        "", Qt.MatchFlag.MatchContains | Qt.MatchFlag.MatchRecursive))
    assert "Set the Party profile first (Dashboard → Edit Party profile)" in advice
    assert "Generate one to start" not in advice
    set_party(live_window.services.ctx, PartyProfile(
        "Acme Energy", "ACME", PartyType.IMPORT_SUPPLIER,
        (EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))
    page.refresh()
    qtbot.waitUntil(page.generate_button.isEnabled, timeout=20000)
    assert not page.party_note.isVisible()
