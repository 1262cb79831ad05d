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


def test_a_workstation_on_its_own_database_never_probes(window) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.services import team as team_svc

    assert window.ctx.team is None
    assert window.store_banner.isHidden() and not window.store_banner.timer.isActive()
    assert team_svc.store_reachable(window.ctx) == ""
