"""Ceremony mode walked as the team would (keyboard, screen reader, 1024x700): what each
control is called, what the team sees when it tries to leave while a step runs, and what is
left on the screen once the ceremony is over."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.gui.accessibility import unnamed_controls
from smki_desktop.gui.ceremony_mode import QrDialog, SharesDialog
from tests.gui.ceremony_gui import ceremony_on_media, open_mode, perform_all
from tests.integration.test_ceremony_service import _fake_net


def _mode(window, qtbot, tmp_path: Path, rehearsal: bool = False):  # type: ignore[no-untyped-def]
    mode = open_mode(window, qtbot, ceremony_on_media(window, tmp_path), rehearsal=rehearsal)
    mode.run.sys_net = _fake_net(tmp_path / "net", up=False)
    mode._next()  # the step again, with this machine's network out of the way
    return mode


def test_every_control_of_ceremony_mode_has_a_name(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The ceremony log (what each step did) had no name: a screen reader said only "edit".
    Ceremony mode is not a page, so the pages' naming never reached it."""
    mode = _mode(window, qtbot, tmp_path)
    assert unnamed_controls(mode) == []
    assert mode.log.accessibleName() == "Ceremony log"
    for dlg in (QrDialog("CSR x", b"", mode), SharesDialog([], mode)):
        assert unnamed_controls(dlg) == []
        dlg.deleteLater()
    mode.close()


def test_leaving_while_a_step_runs_says_why_it_stays(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Leave ceremony mode (or Alt+F4) while a step ran did nothing at all: no word of why."""
    mode = _mode(window, qtbot, tmp_path)
    for cb in mode.checks():
        if cb.isVisible():
            cb.setChecked(True)
    mode.perform_button.click()
    assert mode.busy
    mode.close_button.click()
    assert mode.isVisible()
    assert "step is being performed" in mode.log.toPlainText()
    qtbot.waitUntil(lambda: not mode.busy, timeout=30000)
    mode.close()
    assert not mode.isVisible()


def test_once_over_no_tick_is_offered_and_the_keyboard_is_on_leave(window, qtbot,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    """After the last step the administrator's and witnesses' ticks stayed on the screen and
    could be ticked, under "Rehearsal passed" / "The ceremony is complete", as if a step were
    still to be confirmed."""
    mode = _mode(window, qtbot, tmp_path, rehearsal=True)
    mode.activateWindow()
    qtbot.waitUntil(mode.isActiveWindow, timeout=5000)
    perform_all(mode, qtbot)
    assert "Rehearsal passed" in mode.step_title.text()
    assert [cb.text() for cb in mode.checks() if cb.isVisible()] == []
    assert mode.focusWidget() is mode.close_button
    mode.close()


def test_the_main_window_does_not_quit_under_ceremony_mode(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Quitting the main window (Ctrl+Q, its close button) while ceremony mode was open closed
    the context and cancelled the step's job under the full-screen window, which went on
    running a ceremony with nothing behind it. It is held, saying why, until mode is left."""
    mode = _mode(window, qtbot, tmp_path, rehearsal=True)
    window.close()
    assert window.isVisible() and mode.isVisible() and window.ctx is not None
    box = window.quit_box
    assert box.objectName() == "quitHeldBox" and "Leave ceremony mode first" in box.text()
    box.close()
    qtbot.waitUntil(lambda: not mode.busy, timeout=30000)
    mode.close()
    assert not mode.isVisible()
    assert window.quit_held() == ""
