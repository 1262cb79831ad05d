"""Ceremony mode at 1024x700 with the keyboard (issue 14 review): the step list stayed ~55
pixels wide (titles unreadable) unless a window manager maximised the window, the first row of
buttons was wider than the space left, and the keyboard started on the step list and was lost
after each step; now it starts on the first tick of every step."""

from __future__ import annotations

from pathlib import Path

from tests.gui.ceremony_gui import ceremony_on_media, open_mode, perform_all, perform_one
from tests.integration.test_ceremony_service import CEREMONY


def test_ceremony_mode_fits_1024_and_starts_on_the_first_tick(window, qtbot,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
    path = ceremony_on_media(window, tmp_path)
    mode = open_mode(window, qtbot, path)
    page = window.go_to("Key ceremony")
    assert mode.geometry() == page.screen().geometry()
    mode.resize(1024, 700)
    qtbot.wait(50)
    assert mode.steps.width() >= 280
    assert mode.perform_button.geometry().right() <= mode.width()
    first = mode.warning_ack if mode.warnings else mode.admin_check
    assert mode.focusWidget() is first
    perform_one(mode, qtbot)
    assert mode.current is not None and mode.current.step_id == "rehearsal"
    assert mode.focusWidget() is mode.admin_check
    mode.close()


def test_each_share_is_shown_once_even_if_the_dialog_is_reopened(window, qtbot,  # type: ignore[no-untyped-def]
                                                                 tmp_path: Path) -> None:
    """Closing the shares dialog half-way and opening it again started over at share 1, so
    every share could be put on the screen again. A shown share can be printed for its
    custodian."""
    from tests.integration.test_ceremony_attacks import SHARES_CEREMONY

    mode = open_mode(window, qtbot, ceremony_on_media(window, tmp_path, SHARES_CEREMONY))
    perform_all(mode, qtbot)
    assert mode.shares_button.isEnabled()
    mode.show_shares()
    dlg = mode.shares_dialog
    assert dlg is not None and [c for c, _ in dlg.shares] == ["Cara", "Cal", "Cy"]
    assert not dlg.print_button.isEnabled()  # only while the share is on the screen
    dlg.reveal_button.click()
    assert dlg.print_button.isEnabled()
    sheet = tmp_path / "cara.pdf"
    dlg.print_sheet(sheet)  # a printable sheet for this custodian (smki key share-sheet)
    qtbot.waitUntil(lambda: "Sheet written" in dlg.note.text() or "rror" in dlg.note.text(),
                    timeout=60000)
    assert "Cara" in dlg.note.text() and sheet.read_bytes().startswith(b"%PDF")
    dlg.reject()  # Esc half-way
    assert mode.shares_button.isEnabled()
    mode.show_shares()
    dlg = mode.shares_dialog
    assert [c for c, _ in dlg.shares] == ["Cal", "Cy"]
    for _ in dlg.shares:
        dlg.reveal_button.click()
        dlg.next_button.click()
    dlg.next_button.click()  # Close
    assert not mode.shares_button.isEnabled()
    mode.close()


def test_text_from_the_ceremony_file_is_never_rendered_as_html(window, qtbot,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    """A purpose like '<h1 style=...>TEST ENVIRONMENT</h1>' painted a second, false
    environment banner inside a ceremony."""
    from smki_desktop.gui.qt import Qt

    fake = "<h1 style='background:#1b5e20;color:white'>TEST ENVIRONMENT</h1>"
    text = CEREMONY.replace('purpose = "One key-store key with a passphrase backup"',
                            f'purpose = "{fake}"')
    mode = open_mode(window, qtbot, ceremony_on_media(window, tmp_path, text))
    assert fake in mode.about.text()
    assert mode.about.textFormat() == Qt.TextFormat.PlainText
    assert mode.step_title.textFormat() == Qt.TextFormat.PlainText
    mode.close()
