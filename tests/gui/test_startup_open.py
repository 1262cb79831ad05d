"""The window opens in two steps (issue 15, fast start): its shell, with the environment's
identity, is shown before any store is opened; the environment's context is opened on the job
runner and the Dashboard built when it is open. Until then a page picked waits, what needs the
context is disabled, and a failure to open is said plainly, with a way to try again."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Cancelled
from smki_desktop.gui.main_window import MainWindow, PageFrame
from smki_desktop.gui.opening import OpeningPage
from smki_desktop.gui.qt import QApplication, QElapsedTimer, QEvent, QMessageBox, QTimer, isValid
from tests.support.postgres import PostgresServer


def _close(w: MainWindow) -> None:
    if isValid(w):
        w.close()
        w.jobs.wait(30000)
        w.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _opening_text(w: MainWindow, row: int = 0) -> str:
    frame = w.stack.widget(row)
    assert isinstance(frame, PageFrame) and isinstance(frame.page, OpeningPage)
    return frame.page.label.text()


@pytest.mark.parametrize("env", [Environment.TEST, Environment.LIVE])
def test_the_shell_has_its_environment_before_the_context_opens(qtbot, data_root: Path,  # type: ignore[no-untyped-def]
                                                                env: Environment) -> None:
    w = MainWindow(data_root, env, first_run=False)
    try:
        # nothing has run on the event loop yet: no store is open, the identity is there
        assert w.ctx is None and not w.ready
        assert env.label.upper() in w.windowTitle()
        assert w.banner.text().startswith(f"{env.label.upper()} ENVIRONMENT")
        assert w.sidebar.item(0).text() == "Dashboard"
        assert f"Opening the {env.label} environment" in _opening_text(w)
        assert not w.switch_action.isEnabled() and not w.welcome_action.isEnabled()
        w.show()
        qtbot.waitUntil(lambda: w.ready, timeout=30000)
        dashboard = w.pages[0]
        assert type(dashboard).__module__ == "smki_desktop.gui.pages.dashboard"
        assert w.stack.currentWidget() is w.frame_at(0)
        # filled in at once with what the opening job read with the context
        assert dashboard.facts is not None  # type: ignore[attr-defined]
        assert "Party profile" in dashboard.todo_label.text()  # type: ignore[attr-defined]
        assert w.switch_action.isEnabled() and w.welcome_action.isEnabled()
        qtbot.waitUntil(lambda: "opening" not in w.officer_label.text(), timeout=30000)
        assert w.officer_label.text().startswith(env.label)
    finally:
        _close(w)


def test_a_page_picked_while_opening_is_built_once_open(qtbot, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    w = MainWindow(data_root, Environment.TEST, first_run=False, start_page="Keys")
    try:
        keys_row = next(r for r, e in enumerate(w.entries) if e.title == "Keys")
        assert w.sidebar.currentRow() == keys_row and w.stack.currentIndex() == keys_row
        assert "Opening the Test environment" in _opening_text(w, keys_row)
        with pytest.raises(RuntimeError, match="not open yet"):
            w.page_at(keys_row)  # nothing is built on a half-open context
        w.show()
        # what needs no context works meanwhile: the page's help (F1) and About
        w.show_page_help()
        frame = w.frame_at(keys_row)
        assert frame is not None and not frame.help.isHidden()
        assert "Keys" in frame.help.text()
        w.open_about()
        assert w.about_dialog.isVisible()
        w.about_dialog.close()
        qtbot.waitUntil(lambda: w.ready, timeout=30000)
        assert type(w.pages[keys_row]).__module__ == "smki_desktop.gui.pages.keys"
        assert w.stack.currentIndex() == keys_row
        assert type(w.pages[0]) is not OpeningPage  # the Dashboard is built when shown
    finally:
        _close(w)


def test_closing_while_it_opens_closes_the_context(qtbot, data_root: Path,  # type: ignore[no-untyped-def]
                                                   monkeypatch) -> None:
    """The window is closed while its opening job runs (held back here until the close has
    begun; the opening itself is the real one): the job closes the context it opened, and the
    window, closed, takes none."""
    from smki_desktop.gui import main_window

    real = main_window.open_environment_job
    go = threading.Event()
    outcome: list[object] = []

    def held(*args, progress=None, **kwargs):  # type: ignore[no-untyped-def]
        go.wait(30)
        try:
            opened = real(*args, progress=progress, **kwargs)
        except BaseException as exc:
            outcome.append(exc)
            raise
        outcome.append(opened)
        return opened

    monkeypatch.setattr(main_window, "open_environment_job", held)
    w = MainWindow(data_root, Environment.TEST, first_run=False)
    w.show()
    qtbot.waitUntil(lambda: w.jobs.running == 1, timeout=10000)
    threading.Timer(0.3, go.set).start()  # the close below waits for the job
    w.close()
    QApplication.processEvents()
    assert len(outcome) == 1 and isinstance(outcome[0], Cancelled), outcome
    assert w.ctx is None and not w.ready
    _close(w)


# its own database whatever SMKI_TEST_BACKEND says: the refusal is the data folder's
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_folder_of_the_other_environment_is_refused_plainly(qtbot, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    """A Test window on a data folder that belongs to Live: the refusal names both, in the
    page's place and in an error box; nothing is opened; after the folder is put right,
    Try again opens it."""
    (data_root / "test").mkdir()
    marker = data_root / "test" / "ENVIRONMENT"
    marker.write_text("live\n")
    w = MainWindow(data_root, Environment.TEST, first_run=False)
    try:
        w.show()
        qtbot.waitUntil(lambda: bool(w.open_error), timeout=30000)
        assert w.ctx is None and not w.ready
        text = _opening_text(w)
        assert "The Test environment could not be opened" in text
        assert "belongs to the live environment, not test" in text
        assert "Traceback" not in text
        box = w.findChild(QMessageBox, "errorBox")
        assert box is not None and "belongs to the live environment" in box.text()
        assert "Could not open the Test environment" in box.windowTitle()
        assert "TEST" in w.windowTitle() and w.officer_label.text() == "Test · not opened"
        assert w.switch_action.isEnabled() and not w.welcome_action.isEnabled()
        frame = w.frame_at(0)
        assert frame is not None and isinstance(frame.page, OpeningPage)
        assert frame.page.retry_button.isVisibleTo(w)
        box.close()
        marker.write_text("test\n")
        frame.page.retry_button.click()
        qtbot.waitUntil(lambda: w.ready, timeout=30000)
        assert w.open_error == "" and w.ctx is not None and w.ctx.env is Environment.TEST
    finally:
        _close(w)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_team_store_that_cannot_be_reached_holds_only_the_page(  # type: ignore[no-untyped-def]
        qtbot, data_root: Path, postgres_server: PostgresServer) -> None:
    """The linked team store's server is stopped as the window starts: the window is shown,
    its event loop runs while the opening tries, the store's own message is shown in the
    page's place; when the server is back, Try again opens the environment."""
    postgres_server.pause()
    try:
        w = MainWindow(data_root, Environment.TEST, first_run=False)
        gaps: list[int] = []
        clock = QElapsedTimer()
        clock.start()
        last = [clock.elapsed()]

        def beat() -> None:
            gaps.append(clock.elapsed() - last[0])
            last[0] = clock.elapsed()

        timer = QTimer()
        timer.timeout.connect(beat)
        timer.start(20)
        w.show()
        qtbot.waitUntil(lambda: w.ready or bool(w.open_error), timeout=60000)
        timer.stop()
        assert not w.ready and w.ctx is None
        assert "cannot be reached" in w.open_error, w.open_error
        assert "could not be opened: " + w.open_error in _opening_text(w)
        assert not gaps or max(gaps) < 1000, gaps  # the window answered meanwhile
        box = w.findChild(QMessageBox, "errorBox")
        assert box is not None and "cannot be reached" in box.text()
        box.close()
    finally:
        if not postgres_server.running():
            postgres_server.resume()
    try:
        frame = w.frame_at(0)
        assert frame is not None and isinstance(frame.page, OpeningPage)
        frame.page.retry_button.click()
        assert "Opening the Test environment" in _opening_text(w)
        qtbot.waitUntil(lambda: w.ready or bool(w.open_error), timeout=30000)
        assert w.ready, w.open_error
        assert w.ctx is not None and w.ctx.team is not None
    finally:
        _close(w)
