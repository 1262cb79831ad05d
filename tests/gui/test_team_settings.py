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
    qtbot.waitUntil(lambda: "not initialised" in section.state.text(), timeout=30000)
    assert section.password.text() == ""  # connected: not kept in the window
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


def test_failed_first_connect_says_nothing_is_refused(live_window, qtbot,  # type: ignore[no-untyped-def]
                                                      data_root: Path) -> None:
    """A workstation not linked to any team store, a first Connect to a dead port (a real
    refused connection): the store at that address could not be reached, nothing was changed,
    the workstation keeps its own database; not the linked store's 'changes are refused until
    it returns' (nor its banner). In Live the example addresses name smki_live."""
    from smki_desktop.gui.qt import QMessageBox
    from smki_desktop.gui.settings.team import Section

    window = live_window
    section = Section(window.services)
    qtbot.addWidget(section)
    qtbot.waitUntil(lambda: section.state.text().startswith("Not connected"), timeout=20000)
    assert section.url.placeholderText().endswith("/smki_live")

    section.url.setText("postgresql://officer@127.0.0.1:1/smki_live")
    section.connect_button.click()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorBox") is not None, timeout=30000)
    box = window.findChild(QMessageBox, "errorBox")
    text = box.text()
    assert "127.0.0.1:1" in text and "cannot be reached" in text, text
    assert "connection refused" in text.lower(), text  # the cause
    assert "Nothing was changed" in text and "keeps using its own database" in text, text
    assert "until it returns" not in text, text
    assert window.store_banner.isHidden()
    qtbot.waitUntil(section.connect_button.isEnabled, timeout=20000)  # the state read afresh
    assert section.state.text().startswith("Not connected")
    assert team_link.load(data_root / "live") is None
    box.close()
    box.deleteLater()

    section.url.setText("postgresql://officer@db.example.org")  # no database: the example
    section.connect_button.click()
    qtbot.waitUntil(lambda: any("name the database" in b.text()
                                for b in window.findChildren(QMessageBox, "errorBox")),
                    timeout=20000)
    box = next(b for b in window.findChildren(QMessageBox, "errorBox")
               if "name the database" in b.text())
    assert "postgresql://officer@db.example.org/smki_live" in box.text(), box.text()


def test_empty_url_is_asked_for_and_a_failed_connect_keeps_the_password(  # type: ignore[no-untyped-def]
        window, qtbot, data_root: Path) -> None:
    """Connect with no URL said "Team store URL: '' is not a PostgreSQL address"; the
    password was cleared as Connect was pressed, so after a failure it had to be typed again."""
    from smki_desktop.gui.qt import QApplication, QMessageBox
    from smki_desktop.gui.settings.team import Section

    section = Section(window.services)
    qtbot.addWidget(section)
    qtbot.waitUntil(lambda: section.state.text().startswith("Not connected"), timeout=20000)
    section.password.setText("typed once")
    section.connect_button.click()
    assert section.message.text().startswith("Enter the team store's URL"), \
        section.message.text()
    assert "''" not in section.message.text()
    assert window.findChild(QMessageBox, "errorBox") is None
    assert section.password.text() == "typed once"

    section.url.setText("postgresql://officer@127.0.0.1:1/smki_test")  # refused
    section.connect_button.click()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "errorBox") is not None, timeout=30000)
    qtbot.waitUntil(section.connect_button.isEnabled, timeout=20000)
    assert section.password.text() == "typed once"  # corrected and tried again as it is
    assert team_link.load(data_root / "test") is None
    for box in window.findChildren(QMessageBox, "errorBox"):
        box.close()
        box.deleteLater()
    QApplication.processEvents()
