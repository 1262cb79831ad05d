"""The Certificates page's Revoke… reads who may sign (the officer register and the credentials
held here) on the job runner, as the other dual-control dialogs do: it read them on the GUI
thread, where a team store that does not answer holds the window until its timeout. The dialog
opens once the read ends, with its choices; a second press meanwhile opens no second one."""

from __future__ import annotations

import threading

import pytest

from smki_desktop.gui.pages.certificates import Page
from smki_desktop.services import identity, simulator_control
from tests.integration.identity_helpers import issue_org, make_team, serial_of


def test_revoke_reads_the_signing_choices_off_the_gui_thread(  # type: ignore[no-untyped-def]
        window, qtbot, cli_run, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_team(window.ctx, cli_run, tmp_path)
    try:
        _walk(window, qtbot, monkeypatch)
    finally:
        simulator_control.stop(window.ctx)


def _walk(window, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cert = issue_org(window.ctx, "90-B3-D5-1F-30-01-00-93")
    page = window.go_to("Certificates")
    assert isinstance(page, Page)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.table.selectRow(next(i for i, r in enumerate(page.records)
                              if r.serial.lstrip("0") == serial_of(cert)))

    on_gui_thread: list[bool] = []
    read: list[list[identity.SigningChoice]] = []
    gate = threading.Event()
    real = identity.signing_choices

    def observed(ctx):  # type: ignore[no-untyped-def]
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        gate.wait(10)
        read.append(real(ctx))
        return read[-1]

    monkeypatch.setattr(identity, "signing_choices", observed)
    page.revoke_selected()
    qtbot.waitUntil(lambda: bool(on_gui_thread), timeout=20000)
    assert not page.revoke_button.isEnabled()  # busy while it reads
    page.revoke_selected()  # pressed again meanwhile: no second read, no second dialog
    gate.set()
    qtbot.waitUntil(lambda: page.revoker.dialog is not None, timeout=20000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert on_gui_thread == [False], "who may sign was read on the GUI thread"
    dlg = page.revoker.dialog
    assert "to be revoked" in dlg.summary.toPlainText()
    assert dlg.actor.choices == read[0]  # "Sign as" offers what the job read
    assert page.revoke_button.isEnabled()  # the read ended: the button is back
    dlg.reject()
