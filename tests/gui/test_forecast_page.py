"""Forecast at a 1024x700 window: the page fits without scrolling (the chart's month labels were
cut off below the fold), and the summary says the average is over the complete months before
this one, with this month so far apart ("Recent monthly average … 0.0" beside a bar of 11 CSRs
sent this month read as a wrong figure)."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import QPoint

from smki_desktop.core.forecast import Category, build
from smki_desktop.gui.qt import QApplication, QScrollArea


def _scroller(page):  # type: ignore[no-untyped-def]
    host = page.parentWidget()
    while not isinstance(host, QScrollArea):
        host = host.parentWidget()
    return host


def test_forecast_fits_and_says_what_the_average_is_over(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.resize(1024, 700)
    page = window.go_to("Forecast")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    current = (2026, 12)
    counts = {current: {Category.DEVICE_BATCHED: 10, Category.ORGANISATION: 1}}
    f = build(current, counts, {})
    page.show_read((f, SimpleNamespace(counts=counts, source_labels=["Device CSRs sent"],
                                       missing_labels=[])))
    for _ in range(5):
        QApplication.processEvents()
    text = page.summary.text()
    assert "6 complete months 2026-06 to 2026-11" in text, text
    assert "This month so far (2026-12, not in the average): 11 CSRs" in text, text
    assert "Recent monthly average" not in text
    host = _scroller(page)
    assert host.verticalScrollBar().maximum() == 0, (page.minimumSizeHint().height(),
                                                     host.viewport().height())
    chart = page.views.widget(0)
    bottom = chart.mapTo(host.viewport(), QPoint(0, chart.height())).y()
    assert bottom <= host.viewport().height()  # the month labels under the bars are in sight
    assert chart.height() >= 240
