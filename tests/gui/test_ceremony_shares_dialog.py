"""The custodians' shares dialog (the ceremony walk): a revealed share's 33 words were clipped
to the dialog's first size, about one line of them in sight, so a custodian could write down
part of a share."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.gui.ceremony_mode import SharesDialog
from smki_desktop.services import key_backup
from tests.integration.ceremony_support import prepare


def _dialog(window, qtbot, tmp_path: Path) -> SharesDialog:  # type: ignore[no-untyped-def]
    ctx = window.services.ctx
    aro = prepare(ctx, tmp_path)
    out = tmp_path / "shares"
    key_backup.backup_with_shares(ctx, aro.key.key_id, out, 2, 3, ["Cara", "Cal", "Cy"])
    shares = [(name, out / f"share-{i}-of-3.txt") for i, name in
              enumerate(["Cara", "Cal", "Cy"], 1)]
    dlg = SharesDialog(shares, window, window.services)
    dlg.open()
    qtbot.waitExposed(dlg)
    return dlg


def test_a_revealed_share_is_shown_whole(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dlg = _dialog(window, qtbot, tmp_path)
    dlg.reveal_button.click()
    words = dlg.words
    assert len(words.text().split()) == 33
    # every line of words, inside the dialog (waited for: the layout settles on the event loop)
    qtbot.waitUntil(lambda: words.height() >= words.heightForWidth(words.width())
                    and dlg.rect().contains(words.geometry()), timeout=3000)
    dlg.reject()



def test_the_keyboard_focus_follows_each_step(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Space alone walks the three custodians: Reveal, Print sheet, Hide/next, ... Close. A
    button disabled under the focus used to hand it to whichever control Qt picked next."""
    from PySide6.QtCore import Qt

    dlg = _dialog(window, qtbot, tmp_path)
    qtbot.waitUntil(lambda: dlg.focusWidget() is dlg.reveal_button, timeout=2000)
    for n in range(3):
        assert dlg.index == n
        qtbot.keyClick(dlg.focusWidget(), Qt.Key.Key_Space)
        assert dlg.words.text().split() and dlg.focusWidget() is dlg.print_button
        sheet = tmp_path / f"sheet-{n}.pdf"
        dlg.print_sheet(sheet)
        qtbot.waitUntil(lambda s=sheet: s.exists() and dlg.focusWidget() is dlg.next_button,  # type: ignore[misc]
                        timeout=10000)
        qtbot.keyClick(dlg.focusWidget(), Qt.Key.Key_Space)
        if n < 2:
            assert dlg.focusWidget() is dlg.reveal_button and not dlg.words.text()
    assert dlg.focusWidget() is dlg.next_button and dlg.next_button.text() == "&Close"
    qtbot.keyClick(dlg.focusWidget(), Qt.Key.Key_Space)
    assert dlg.result() == dlg.DialogCode.Accepted
