"""With PySide's lazy types on, a job that imports a Qt module (which would build Qt types off
the GUI thread) is caught by the tests' guard, as a Qt call is."""

from __future__ import annotations

import importlib
import sys

from smki_desktop.gui import jobs


def test_a_job_importing_a_gui_module_is_recorded(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    sys.modules.pop("smki_desktop.gui.about", None)
    done: list[object] = []

    def work() -> str:
        importlib.import_module("smki_desktop.gui.about")
        return "imported"

    window.jobs.submit(work, on_done=done.append, name="imports Qt")
    qtbot.waitUntil(lambda: bool(done), timeout=10000)
    caught = [c for c in jobs.QT_CALLS_OFF_GUI_THREAD if "imported the Qt module" in c]
    assert caught and "about.py" in caught[0]
    jobs.QT_CALLS_OFF_GUI_THREAD.clear()  # expected here; the autouse check must not fail


def test_a_plain_job_is_not_recorded(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    done: list[object] = []
    window.jobs.submit(lambda: sum(range(1000)), on_done=done.append, name="plain")
    qtbot.waitUntil(lambda: bool(done), timeout=10000)
    assert not jobs.QT_CALLS_OFF_GUI_THREAD
