"""The GUI calls the same service entry points as the CLI (issue 10, item 3): the Audit page
reads and verifies the log through `services.audit_log`, the environment switch is recorded by
`services.environment_switch`, and the Officers page prints the form through
`services.officer_forms` (real keyring, SQLite, PDF; pytest-qt offscreen)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Cancelled
from smki_desktop.core.keys import KeyUsage
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.passphrases import GuiPassphrases
from smki_desktop.gui.qt import QApplication, QMessageBox, QTimer
from smki_desktop.services import audit_log
from smki_desktop.services.keys import generate_key
from tests.integration.test_officer_cli import nominate


def test_audit_page_lists_and_verifies_what_the_service_gives(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    ctx = window.ctx
    generate_key(ctx, KeyUsage.SIGNING, "page key")
    page = window.go_to("Audit log")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.filter.setText("key.")  # type: ignore[attr-defined]
    page.refresh()  # type: ignore[attr-defined]
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    want = audit_log.records(ctx, limit=2000, action_prefix="key.")
    assert want and page.table.rowCount() == len(want)  # type: ignore[attr-defined]
    assert [page.table.item(r, 0).text() for r in range(len(want))] == [  # type: ignore[attr-defined]
        str(e.seq) for e in want]
    page.verify()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: page.result.text().startswith("Intact"), timeout=20000)  # type: ignore[attr-defined]
    assert f"{audit_log.verify(ctx).rows} records" in page.result.text()  # type: ignore[attr-defined]


def test_switch_is_recorded_in_the_live_log_by_the_service(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    def accept() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        next(b for b in box.buttons()
             if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole).click()

    QTimer.singleShot(50, accept)
    assert window.request_switch() is True
    qtbot.waitUntil(lambda: window.jobs.running == 0, timeout=20000)
    assert window.env is Environment.LIVE and window.ctx is not None
    switches = audit_log.records(window.ctx, action_prefix="environment.switch")
    assert len(switches) == 1
    assert switches[0].details["from"] == "test" and switches[0].details["to"] == "live"


def test_officers_page_prints_the_form_through_the_service(qtbot, window: MainWindow,  # type: ignore[no-untyped-def]
                                                           cli_run, tmp_path: Path) -> None:
    res = nominate(cli_run, tmp_path, "sro", "Alice Example")
    assert res.code == 0, res.err
    oid = res.json()["officer"]["officer_id"]
    page = window.go_to("Officers")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()  # type: ignore[attr-defined]
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.select(oid)  # type: ignore[attr-defined]
    out = tmp_path / "again.pdf"
    out.write_bytes(b"old")  # the save dialog asked before replacing it
    page.print_form(str(out))  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: out.read_bytes().startswith(b"%PDF"), timeout=30000)
    qtbot.waitUntil(lambda: window.jobs.running == 0, timeout=20000)
    assert page.message.text() == f"Wrote {out}"  # type: ignore[attr-defined]
    record = audit_log.records(window.ctx, action_prefix="officer.pdf")[0]
    assert record.details["officer"] == oid and record.details["path"] == str(out)
    assert record.artifacts["pdf"] == hashlib.sha256(out.read_bytes()).hexdigest()


def test_a_passphrase_question_answered_with_cancel_raises_cancelled(qtbot) -> None:  # type: ignore[no-untyped-def]
    asker = GuiPassphrases(None)

    def cancel() -> None:
        assert asker.dialog is not None
        asker.dialog.reject()

    QTimer.singleShot(100, cancel)
    with pytest.raises(Cancelled, match="PIN for token 't': cancelled; nothing was done."):
        asker.ask("PIN for token 't'")
