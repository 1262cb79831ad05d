"""A PIN or passphrase asked by a job opens over the window the officer is using: in ceremony
mode (a window of its own, often full screen) it opened over the main window, behind the
ceremony, while the step waited for it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from smki_desktop.core.errors import Cancelled
from smki_desktop.gui.qt import QApplication
from tests.gui.ceremony_gui import ceremony_on_media, open_mode


def _ask_from_a_job(window, qtbot):  # type: ignore[no-untyped-def]
    outcome: list[BaseException | str] = []

    def job() -> None:
        try:
            outcome.append(window.passphrases.ask("Token PIN for the ceremony token"))
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    t = threading.Thread(target=job)
    t.start()
    qtbot.waitUntil(lambda: window.passphrases.dialog is not None
                    and window.passphrases.dialog.isVisible(), timeout=10_000)
    return window.passphrases.dialog, t, outcome


def test_the_pin_dialog_opens_over_ceremony_mode(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mode = open_mode(window, qtbot, ceremony_on_media(window, tmp_path), rehearsal=True)
    mode.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is mode, timeout=5_000)
    dialog, t, outcome = _ask_from_a_job(window, qtbot)
    assert dialog.parentWidget() is mode
    dialog.reject()
    t.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled)
    mode.close()


def test_without_another_window_it_opens_over_the_main_window(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    dialog, t, outcome = _ask_from_a_job(window, qtbot)
    assert dialog.parentWidget() is window
    dialog.reject()
    t.join(10)
    with pytest.raises(Cancelled):
        raise outcome[0]  # type: ignore[misc]
