"""Quarantine page (offscreen): a failed or refused Action file stays said in the summary
instead of being overwritten at once by the counts line; an Action file over the Report is
refused at once in the service's words (no dialog offering to replace the Report); the
decision is visible without scrolling in a 1024x700 window (found by a GUI walk)."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.quarantine import COLUMNS
from smki_desktop.gui.pages.quarantine import Page as QuarantinePage
from smki_desktop.gui.qt import QApplication
from smki_desktop.services import adt as adt_service

OWN = "90-B3-D5-1F-30-01-00-00"


def _page_with_report(qtbot, window: MainWindow, tmp_path: Path,  # type: ignore[no-untyped-def]
                      n: int = 3) -> tuple[QuarantinePage, Path]:
    from smki_desktop.core.adt.validate import render_csv

    page = window.go_to("Quarantine")
    assert isinstance(page, QuarantinePage)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    prof = adt_service.load_profile("quarantine-report")
    report = tmp_path / "report.csv"
    # a Request ID as long as the DCC's (originator, target, counter)
    report.write_bytes(render_csv(prof, [
        (f"Q-{i:04d}", OWN, "IS", "1.1.1",
         f"{OWN}:00-DB-12-34-56-78-90-01:{1000 + i}", f"2026-11-01T10:{i:02d}:00Z", "USER",
         str(100 + i)) for i in range(n)]))
    page.import_report(report)
    qtbot.waitUntil(lambda: page.report is not None and not page.busy, timeout=30_000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    return page, report


def test_a_failed_action_file_stays_said_until_the_next_action(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, tmp_path: Path) -> None:
    page, report = _page_with_report(qtbot, window, tmp_path)
    page.decide_shown("DELETE")
    before = report.read_bytes()
    page.create_action(report)  # the service refuses: the Report would be overwritten
    qtbot.waitUntil(lambda: not page.busy, timeout=30_000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert isinstance(page.last_result, Exception)
    text = page.summary.text()
    assert "would be written over the Report" in text and "Nothing was written." in text, text
    assert report.read_bytes() == before
    # a refresh nobody asked for (another page changed the keys) keeps it
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert "would be written over the Report" in page.summary.text()
    # the officer's next action: the counts line again
    page.filter_edit.setText("Q-0001")
    assert "1 shown" in page.summary.text(), page.summary.text()


def test_an_action_file_over_the_report_is_refused_without_a_dialog(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, tmp_path: Path) -> None:
    page, report = _page_with_report(qtbot, window, tmp_path)
    page.decide_shown("PROCESS")
    before = report.read_bytes()
    page.request_action(report)
    assert getattr(page, "confirmation", None) is None, page.confirmation.plain  # type: ignore[attr-defined]
    text = page.summary.text()
    assert "would be written over the Report" in text and "Nothing was written." in text, text
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert report.read_bytes() == before
    # the same file by another name (a link) is the Report too
    link = tmp_path / "link.csv"
    link.symlink_to(report)
    page.summary.setText("")
    page.request_action(link)
    assert getattr(page, "confirmation", None) is None
    assert "would be written over the Report" in page.summary.text()


def test_the_decision_is_visible_in_a_laptop_window(  # type: ignore[no-untyped-def]
        qtbot, window: MainWindow, tmp_path: Path) -> None:
    window.resize(1024, 700)
    page, _report = _page_with_report(qtbot, window, tmp_path)
    page.decide_shown("DELETE")
    for _ in range(5):
        QApplication.processEvents()
    header = page.table.horizontalHeader()
    col = COLUMNS.index("Decision")
    left = header.sectionViewportPosition(col)
    assert page.table.horizontalScrollBar().value() == 0
    assert left >= 0 and left + header.sectionSize(col) <= page.table.viewport().width(), (
        left, header.sectionSize(col), page.table.viewport().width())
    assert page.table.item(0, col).text() == "DELETE"
