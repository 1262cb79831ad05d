"""Live "Submit this CSR" without an SRO's authorisation: what would refuse it is asked first
(read-only, on the job runner) and said in plain words with what to do next, before any
confirmation; it was refused only after the officer had ticked the Live box and confirmed,
under the title "The DCC request did not complete" although nothing had gone to the DCC."""

from __future__ import annotations

import pytest

from smki_desktop.gui.pages.requests import Page
from smki_desktop.gui.qt import QMessageBox
from smki_desktop.services import csr_list
from tests.integration.portal_helpers import org_csr


def _page_with_csr(window, qtbot):  # type: ignore[no-untyped-def]
    der = org_csr(window.ctx, "90-B3-D5-1F-30-01-00-95")
    page = window.go_to("Requests")
    assert isinstance(page, Page)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.csr_table.selectRow(next(i for i, c in enumerate(page.csrs) if c.row.der == der))
    return page


def _error_box(window) -> QMessageBox:  # type: ignore[no-untyped-def]
    boxes = [b for b in window.findChildren(QMessageBox, "errorBox") if b.isVisible()]
    assert len(boxes) == 1, boxes
    return boxes[0]


def test_live_submit_without_authorisation_says_so_before_confirming(  # type: ignore[no-untyped-def]
        live_window, qtbot) -> None:
    page = _page_with_csr(live_window, qtbot)
    page.ask_submit_csr()
    qtbot.waitUntil(live_window.jobs.idle, timeout=20000)
    assert getattr(page, "confirmation", None) is None  # no Live confirmation to tick first
    box = _error_box(live_window)
    assert "was not sent" in box.windowTitle() and "DCC request" not in box.windowTitle()
    text = box.text()
    assert text.startswith("Nothing was sent to the DCC.")
    assert "needs an active SRO's authorisation" in text
    assert "ask an active SRO" in text and "SRO: authorise this CSR" in text
    assert "Nothing was sent" in page.details.toPlainText()
    assert live_window.ctx.audit.entries()[0].action != "portal.submit"
    box.close()


def test_refusal_after_confirming_says_nothing_was_sent(  # type: ignore[no-untyped-def]
        live_window, qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused at the send itself (say the authorisation expired while the summary was open):
    the title says nothing was sent, not that a DCC request did not complete."""
    page = _page_with_csr(live_window, qtbot)
    monkeypatch.setattr(csr_list, "check_submit", lambda ctx, csr_id: None)
    page.ask_submit_csr()
    qtbot.waitUntil(lambda: getattr(page, "confirmation", None) is not None, timeout=20000)
    page.confirmation.confirm()
    qtbot.waitUntil(live_window.jobs.idle, timeout=20000)
    box = _error_box(live_window)
    assert "was not sent" in box.windowTitle() and "DCC request" not in box.windowTitle()
    assert box.text().startswith("Nothing was sent to the DCC.")
    box.close()
