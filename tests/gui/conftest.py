"""GUI test fixtures: a main window on a fresh data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment


def _open_window(qtbot, data_root: Path, env: Environment):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.main_window import MainWindow

    w = MainWindow(data_root, env, first_run=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.ready, timeout=30000)  # its context opens on the job runner
    yield w
    w.jobs.wait(30000)
    # closed and deleted here, before `data_root` removes its store: a window left for qtbot to
    # close later keeps its timers, whose reads then land in the next test (on a team store
    # the database is dropped by then; a SQLite file merely stays behind)
    from smki_desktop.gui.qt import QApplication, QEvent, isValid

    if isValid(w):
        w.close()
        w.jobs.wait(30000)
        w.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def window(qtbot, data_root: Path):  # type: ignore[no-untyped-def]
    yield from _open_window(qtbot, data_root, Environment.TEST)


@pytest.fixture
def live_window(qtbot, data_root: Path):  # type: ignore[no-untyped-def]
    yield from _open_window(qtbot, data_root, Environment.LIVE)


@pytest.fixture
def adt_page(qtbot, window, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The ADT page of a Test window, with an ARO's file-signing key and credential made
    (`tests.integration.adt_support.make_aro`) and read: (page, aro)."""
    from smki_desktop.gui.pages.adt import Page as AdtPage
    from tests.integration.adt_support import make_aro

    page = window.go_to("ADT")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert isinstance(page, AdtPage)
    aro = make_aro(page.ctx, tmp_path / "pki")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    return page, aro


@pytest.fixture(autouse=True)
def no_qt_calls_from_jobs():  # type: ignore[no-untyped-def]
    """Every GUI test fails if a background job called into Qt (the guard is on for the run)."""
    from smki_desktop.gui import jobs

    jobs.QT_CALLS_OFF_GUI_THREAD.clear()
    yield
    assert not jobs.QT_CALLS_OFF_GUI_THREAD, (
        "a background job called Qt off the GUI thread: "
        + "; ".join(jobs.QT_CALLS_OFF_GUI_THREAD[:5]))
