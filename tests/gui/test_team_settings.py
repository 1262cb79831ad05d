"""Settings > Team store: connect (password to the keyring), initialise and disconnect from the
window, through the same services as `smki team`, each as a background job."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.store import team_link
from tests.support.postgres import PASSWORD, PostgresServer

# These tests link a single-workstation folder to a team store themselves, so they start from
# a SQLite folder on either run (SMKI_TEST_BACKEND=postgres would hand them one already linked).
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_connect_initialise_disconnect_from_settings(window, qtbot, data_root: Path,  # type: ignore[no-untyped-def]
                                                     postgres_server: PostgresServer) -> None:
    from smki_desktop.gui.settings.team import Section

    name = postgres_server.create_database()
    section = Section(window.services)
    qtbot.addWidget(section)
    qtbot.waitUntil(lambda: section.state.text().startswith("Not connected"), timeout=20000)
    assert section.connect_button.isEnabled() and not section.disconnect_button.isEnabled()

    section.url.setText(postgres_server.tcp_url(name))
    section.password.setText(PASSWORD)
    section.connect_button.click()
    assert section.password.text() == ""  # not kept in the window
    qtbot.waitUntil(lambda: "not initialised" in section.state.text(), timeout=30000)
    link = team_link.load(data_root / "test")
    assert link is not None
    assert keyring.get_password(Environment.TEST.keyring_service, link.secret_name) == PASSWORD
    assert section.init_button.isEnabled()

    section.init_button.click()
    qtbot.waitUntil(lambda: "initialised for test" in section.state.text(), timeout=30000)
    assert "Restart" in section.message.text()

    section.disconnect_button.click()
    qtbot.waitUntil(lambda: section.state.text().startswith("Not connected"), timeout=30000)
    assert team_link.load(data_root / "test") is None
    postgres_server.drop_database(name)


def test_bad_address_is_shown_not_connected(window, qtbot, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.qt import QMessageBox
    from smki_desktop.gui.settings.team import Section

    section = Section(window.services)
    qtbot.addWidget(section)
    qtbot.waitUntil(lambda: section.state.text().startswith("Not connected"), timeout=20000)
    section.url.setText("postgresql://officer@db.example.org/smki?sslmode=disable")
    section.connect_button.click()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorBox") is not None, timeout=20000)
    box = window.findChild(QMessageBox, "errorBox")
    assert "verify-full" in box.text()
    assert team_link.load(data_root / "test") is None


def test_copy_in_and_export_from_settings(window, qtbot, data_root: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                          postgres_server: PostgresServer) -> None:
    """The two moves of Settings > Team store call the same services as `smki team
    migrate-from-local` and `smki team export`, in the background."""
    import sqlite3

    from smki_desktop.gui.settings.team import Section

    name = postgres_server.create_database()
    section = Section(window.services)
    qtbot.addWidget(section)
    qtbot.waitUntil(lambda: section.state.text().startswith("Not connected"), timeout=20000)
    assert not section.migrate_button.isEnabled() and not section.export_button.isEnabled()
    section.url.setText(postgres_server.socket_url(name))
    section.connect_button.click()
    qtbot.waitUntil(lambda: section.init_button.isEnabled(), timeout=30000)
    section.init_button.click()
    qtbot.waitUntil(lambda: section.migrate_button.isEnabled(), timeout=30000)

    section.migrate_button.click()
    qtbot.waitUntil(lambda: section.message.text().startswith("Copied"), timeout=30000)
    with postgres_server.admin(name) as c:
        actions = [a for (a,) in c.execute("SELECT action FROM audit_log ORDER BY seq")]
    assert actions[-1] == "team.migrate_from_local", actions

    out = tmp_path / "copy.sqlite3"
    section.export_to(out)
    qtbot.waitUntil(lambda: section.message.text().startswith("Wrote"), timeout=30000)
    con = sqlite3.connect(out)
    try:
        logged = [a for (a,) in con.execute("SELECT action FROM audit_log ORDER BY seq")]
    finally:
        con.close()
    assert logged == actions
    # a second export to the same file without leave to replace it is refused in a box
    from smki_desktop.gui.qt import QMessageBox

    section.export_to(out)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorBox") is not None, timeout=20000)
    assert "already exists" in window.findChild(QMessageBox, "errorBox").text()
    postgres_server.drop_database(name)
