"""The team store banner (issue 16): when the linked team store's server stops, the window says
so above every page, what is on screen stays, a change is refused with the store's own message,
and when the server is back the banner goes and changes are accepted again. A real PostgreSQL
server is stopped and started; nothing is faked."""

from __future__ import annotations

import pytest

from smki_desktop.core.keys import KeyUsage
from tests.support.postgres import PostgresServer


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_banner_refusal_and_return(window, qtbot, postgres_server: PostgresServer) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.page_op import PageOp
    from smki_desktop.gui.qt import QMessageBox
    from smki_desktop.gui.store_banner import TEXT
    from smki_desktop.services.keys import generate_key

    banner = window.store_banner
    assert window.ctx.team is not None and banner.isHidden()
    generate_key(window.ctx, KeyUsage.SIGNING, "on screen")
    keys = window.go_to("Keys")
    qtbot.waitUntil(lambda: keys.table.rowCount() == 1, timeout=20000)
    banner.timer.setInterval(200)  # the test does not wait the PROBE_MS of a real session

    postgres_server.pause()
    try:
        qtbot.waitUntil(banner.isVisible, timeout=20000)
        assert banner.text() == TEXT
        assert "cannot be reached" in banner.toolTip()
        # one banner for every page, in the window itself
        for title in ("Dashboard", "Settings", "Keys"):
            window.go_to(title)
            assert banner.isVisible(), title
        # what was on screen stays readable
        assert keys.table.rowCount() == 1 and keys.table.item(0, 0).text() == "on screen"
        # a change is refused, with the store layer's message in a box
        op = PageOp(keys, window.services, window.ctx.set_setting, "team.ops.gui", "during",
                    name="Change a setting")
        op.run()
        qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorBox") is not None,
                        timeout=20000)
        text = window.findChild(QMessageBox, "errorBox").text()
        assert "cannot be reached" in text and "refused until it returns" in text, text
    finally:
        if not postgres_server.running():
            postgres_server.resume()
    qtbot.waitUntil(banner.isHidden, timeout=30000)
    assert "reachable again" in window.statusBar().currentMessage()
    # changes are accepted again, on the same window
    done: list[object] = []
    PageOp(keys, window.services, window.ctx.set_setting, "team.ops.gui", "after",
           name="Change a setting").success(done.append).run()
    qtbot.waitUntil(lambda: bool(done), timeout=20000)
    assert window.ctx.setting("team.ops.gui") == "after"


# its own database whatever SMKI_TEST_BACKEND says (a run on PostgreSQL links every window)
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_workstation_on_its_own_database_never_probes(window) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.services import team as team_svc

    assert window.ctx.team is None
    assert window.store_banner.isHidden() and not window.store_banner.timer.isActive()
    assert team_svc.store_reachable(window.ctx) == ""


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_lost_store_never_holds_the_window(window, qtbot, postgres_server: PostgresServer,  # type: ignore[no-untyped-def]
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """While the team store cannot be reached the window keeps processing events as every page
    is opened (built or not yet) and the timers tick: nothing asks the store on the GUI thread
    (a store that does not answer would hold it until its timeout), the banner is there on
    every page, and a page first opened meanwhile says it waits for the store. When the store
    returns, those pages are built."""
    import threading

    from smki_desktop.gui.main_window import WaitingPage
    from smki_desktop.gui.qt import QElapsedTimer, QTimer
    from smki_desktop.store import postgres

    banner = window.store_banner
    window.go_to("Keys")  # one page built before, the others not
    banner.timer.setInterval(200)
    asked_on_gui_thread: list[str] = []
    real_conn = postgres.PgDatabase.conn

    def conn(store: postgres.PgDatabase) -> postgres.Connection:  # observes, then the real one
        if threading.current_thread() is threading.main_thread():
            asked_on_gui_thread.append(window.stack.currentWidget().page.__class__.__module__)
        return real_conn(store)

    postgres_server.pause()
    try:
        qtbot.waitUntil(banner.isVisible, timeout=20000)
        window.jobs.wait(20000)  # what was under way when the store went has ended
        monkeypatch.setattr(postgres.PgDatabase, "conn", conn)
        gaps: list[int] = []
        clock = QElapsedTimer()
        clock.start()
        last = [0]

        def beat() -> None:  # a 0-ms timer: fires whenever the event loop turns
            now = clock.elapsed()
            gaps.append(now - last[0])
            last[0] = now

        heart = QTimer()
        heart.setInterval(0)
        heart.timeout.connect(beat)
        heart.start()
        for entry in [*window.entries, *window.entries]:  # each page twice: built, then shown
            window.go_to(entry.title)
            assert banner.isVisible(), entry.title
            qtbot.wait(150)  # the banner's probe, the status line and the badge tick
        heart.stop()
        monkeypatch.undo()
        assert asked_on_gui_thread == []
        assert len(gaps) > 50 and max(gaps) < 1000, f"the event loop stalled {max(gaps)} ms"
        waiting = [p for p in window.pages if isinstance(p, WaitingPage)]
        assert waiting, "pages first opened while the store was lost say they wait for it"
        assert "cannot be reached" in waiting[0].text()
    finally:
        if not postgres_server.running():
            postgres_server.resume()
    qtbot.waitUntil(banner.isHidden, timeout=30000)
    assert not any(isinstance(p, WaitingPage) for p in window.pages)
    settings = window.go_to("Settings")
    assert not getattr(settings, "incomplete", False)
