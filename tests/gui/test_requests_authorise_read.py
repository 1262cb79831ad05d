"""The Requests page's "SRO: authorise this CSR…" reads who may sign (the officer register and
the credentials held here) on the job runner, as the other dual-control dialogs do: it read
them on the GUI thread, where a team store that does not answer holds the window until its
timeout. The dialog opens once the read ends, with its choices."""

from __future__ import annotations

import threading

import pytest

from smki_desktop.gui.pages.requests import Page
from smki_desktop.services import identity
from tests.integration.portal_helpers import org_csr


def test_authorise_reads_the_signing_choices_off_the_gui_thread(  # type: ignore[no-untyped-def]
        window, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    der = org_csr(window.ctx, "90-B3-D5-1F-30-01-00-95")
    page = window.go_to("Requests")
    assert isinstance(page, Page)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.csr_table.selectRow(next(i for i, c in enumerate(page.csrs) if c.row.der == der))

    on_gui_thread: list[bool] = []
    read: list[list[identity.SigningChoice]] = []
    real = identity.signing_choices

    def observed(ctx):  # type: ignore[no-untyped-def]
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        read.append(real(ctx))
        return read[-1]

    monkeypatch.setattr(identity, "signing_choices", observed)
    page.ask_authorise_csr()
    qtbot.waitUntil(lambda: page.authorise_dialog is not None, timeout=20000)
    assert on_gui_thread == [False], "who may sign was read on the GUI thread"
    dlg = page.authorise_dialog
    assert "Organisation CSR" in dlg.summary.toPlainText()
    assert dlg.picker.choices is read[0]  # "Sign as" offers what the job read
    assert page.csr_authorise_btn.isEnabled()  # the read ended: the button is back
    dlg.reject()
