"""Settings > Tokens on a real SoftHSM2 token: list tokens with their PIN state, test the PIN
(asked in the PIN dialog from the job), change it (summary first), and the new PIN works; the
CLI's `smki token tokens` lists the same. No PIN is ever written to the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QDialogButtonBox, QLineEdit
from smki_desktop.gui.settings.tokens import Section
from tests.support.softhsm import MODULE, PIN, softhsm_token


@pytest.fixture
def token(tmp_path: Path) -> Iterator[str]:
    with softhsm_token(tmp_path, "mgr-tok") as label:
        yield label


def _section(window: MainWindow) -> Section:
    page = window.go_to("Settings")
    found = page.findChild(Section)
    assert found is not None
    return found


def _answer(window: MainWindow, qtbot, *pins: str) -> None:  # type: ignore[no-untyped-def]
    for pin in pins:
        qtbot.waitUntil(lambda: window.passphrases.dialog is not None
                        and window.passphrases.dialog.isVisible(), timeout=30000)
        dlg = window.passphrases.dialog
        for field in dlg.findChildren(QLineEdit):
            field.setText(pin)
        dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        qtbot.waitUntil(lambda d=dlg: window.passphrases.dialog is not d, timeout=10000)


def test_list_test_and_change_the_pin(qtbot, window: MainWindow, token: str, cli_run) -> None:  # type: ignore[no-untyped-def]
    s = _section(window)
    s.module.setText(MODULE)
    s.list_tokens()
    qtbot.waitUntil(lambda: s.job is None, timeout=30000)
    row = next(r for r, t in enumerate(s.tokens) if t.label == token)
    assert "PIN fine" in s.table.item(row, 3).text()
    s.table.selectRow(row)

    s.test_login()
    _answer(window, qtbot, "0000")  # wrong
    qtbot.waitUntil(lambda: s.job is None, timeout=30000)
    assert "Wrong PIN for token 'mgr-tok'" in s.message.text()
    s.test_login()
    _answer(window, qtbot, PIN)
    qtbot.waitUntil(lambda: s.job is None, timeout=30000)
    assert s.message.text() == "PIN accepted by 'mgr-tok'."

    s.ask_change_pin()
    assert "Token: mgr-tok." in s.confirmation.text()
    s.confirmation.confirm()
    _answer(window, qtbot, PIN, "98765")  # current, then the new one (typed twice)
    qtbot.waitUntil(lambda: s.job is None, timeout=30000)
    assert s.message.text() == "PIN of 'mgr-tok' changed."
    s.test_login()
    _answer(window, qtbot, "98765")
    qtbot.waitUntil(lambda: s.job is None, timeout=30000)
    assert s.message.text() == "PIN accepted by 'mgr-tok'."

    details = " ".join(r[0] for r in window.ctx.db.conn().execute(
        "SELECT details FROM audit_log WHERE action LIKE 'token.%'"))
    assert "98765" not in details and PIN not in details
    res = cli_run("--json", "token", "tokens", "--module", MODULE)
    assert res.code == 0 and "mgr-tok" in res.out
