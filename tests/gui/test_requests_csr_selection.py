"""The Requests page selects a lone Organisation CSR (so Alt+B acts on it at once), keeps the
selected CSR across refreshes, and clears "Select an Organisation CSR first." once one is
selected: the walk found the hint stuck at the bottom after the officer had selected."""

from __future__ import annotations

from smki_desktop.gui.pages.requests import SELECT_CSR_FIRST, Page
from tests.integration.portal_helpers import org_csr


def _read(window, qtbot, page: Page) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)


def test_a_lone_csr_is_selected_and_stays_selected(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    org_csr(window.ctx, "90-B3-D5-1F-30-01-00-95")
    page = window.go_to("Requests")
    assert isinstance(page, Page)
    _read(window, qtbot, page)
    assert len(page.csrs) == 1
    assert page.selected_csr() is page.csrs[0]
    _read(window, qtbot, page)  # a refresh keeps it
    assert page.selected_csr() is page.csrs[0]


def test_the_select_first_hint_goes_once_a_csr_is_selected(  # type: ignore[no-untyped-def]
        window, qtbot) -> None:
    page = window.go_to("Requests")
    assert isinstance(page, Page)
    _read(window, qtbot, page)
    page.show_paste_text()  # nothing selected yet
    assert page.details.toPlainText() == SELECT_CSR_FIRST
    org_csr(window.ctx, "90-B3-D5-1F-30-01-00-95")
    org_csr(window.ctx, "90-B3-D5-1F-30-01-00-96")
    _read(window, qtbot, page)
    assert len(page.csrs) == 2 and page.selected_csr() is None  # two: the officer picks
    page.csr_table.selectRow(1)
    assert page.details.toPlainText() == ""
    _read(window, qtbot, page)
    assert page.selected_csr() is not None
    assert page.selected_csr().row.csr_id == page.csrs[1].row.csr_id
