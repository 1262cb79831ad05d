"""Forecast: the 8-month CSR forecast (Device single / batched, Organisation) from the local
request history, with editable plans, the 150% warnings, and CSV/PDF export."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.forecast import Category, Forecast, add_months, month_key
from smki_desktop.gui.charts import ForecastChart
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QFileDialog,
    QFont,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSizePolicy,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tones import qcolor
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.services import forecast as svc

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

CATS = list(Category)
CHART_MIN_HEIGHT = 240  # the chart with its month labels, legible
WARNINGS_MIN_HEIGHT = 56  # two warnings; more scroll in the list


def summary_text(f: Forecast, so_far: Mapping[Category, int], sources: Sequence[str],
                 missing: Sequence[str]) -> str:
    """Where the baseline comes from: the average over the complete months before this one,
    and this month so far said apart (it is not in the average). "Recent monthly average 0.0"
    beside a bar of 11 CSRs sent this month read as a wrong figure."""
    first, last = f.history_months[0], f.history_months[-1]
    avgs = ", ".join(f"{c.label} {f.averages[c]:.1f}" for c in CATS)
    this_month = add_months(f.first_month, -1)
    done = sum(so_far.get(c, 0) for c in CATS)
    src = ", ".join(sources) or "nothing yet"
    gaps = f" No history yet for: {'; '.join(missing)}." if missing else ""
    return (f"Baseline: the monthly average over the {len(f.history_months)} complete months "
            f"{month_key(first)} to {month_key(last)}: {avgs}. This month so far "
            f"({month_key(this_month)}, not in the average): {done:,} CSRs. "
            f"History from: {src}.{gaps}")


class Page(QWidget):
    title = "Forecast"
    order = 65
    shows = frozenset({"forecast", "certificates"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.forecast: Forecast | None = None
        self.first_forecast_row = 0  # rows above it are the history the forecast comes from
        self._loading = False
        lay = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setObjectName("forecastSummary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.table = QTableWidget(0, 2 + len(CATS))
        self.table.setObjectName("forecastTable")
        self.table.setHorizontalHeaderLabels(["Month", *(c.label for c in CATS), "Total"])
        self.table.itemChanged.connect(self._edited)
        self.table.horizontalHeader().setStretchLastSection(True)
        wire_row_actions(self.table, lambda: [("Export CSV…", lambda: self._export_dialog("csv")),
                                              ("Export PDF…", lambda: self._export_dialog("pdf"))],
                         lambda: None)
        self.chart = ForecastChart()
        self.views = QTabWidget()
        self.views.setObjectName("forecastViews")
        self.views.setAccessibleName("Chart or figures")
        self.views.addTab(self.chart, "&Chart")
        self.views.addTab(self.table, "Fi&gures")
        # its preferred height ignored, its minimum kept: the page took the chart's and the
        # table's preferred heights and scrolled at 700 px, the chart's month labels cut off
        self.views.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.views.setMinimumHeight(CHART_MIN_HEIGHT)
        lay.addWidget(self.views, 3)
        note = QLabel("Shaded rows are what you sent (history; the current month so far). "
                      "Edit a number in a later month to plan it (bold = planned; clear a cell "
                      "to go back to the baseline).")
        note.setWordWrap(True)
        lay.addWidget(note)
        lay.addWidget(QLabel("<b>Warnings</b>"))
        self.warnings = QListWidget()
        self.warnings.setObjectName("forecastWarnings")
        self.warnings.setAccessibleName("Warnings")
        self.warnings.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.warnings.setMinimumHeight(WARNINGS_MIN_HEIGHT)
        lay.addWidget(self.warnings, 1)
        row = QHBoxLayout()
        self.csv_button = QPushButton("Export CSV…")
        self.pdf_button = QPushButton("Export PDF…")
        self.csv_button.clicked.connect(lambda: self._export_dialog("csv"))
        self.pdf_button.clicked.connect(lambda: self._export_dialog("pdf"))
        row.addWidget(self.csv_button)
        row.addWidget(self.pdf_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.message = QLabel("")
        self.message.setObjectName("forecastMessage")
        lay.addWidget(self.message)
        self.reader = BackgroundRead(self, services, svc.build_forecast, services.ctx,
                                     name="Forecast", show=self.show_read,
                                     failed=lambda text, _exc: self.message.setText(text),
                                     loading=self.message)
        self.refresh()

    def refresh(self) -> None:
        """Read on the job runner; the table and chart are filled when the read returns."""
        self.reader.run()

    def show_read(self, read: tuple[Forecast, Any]) -> None:
        f, h = read
        self.forecast = f
        current = add_months(f.first_month, -1)
        past = [*f.history_months, current]
        self.first_forecast_row = len(past)
        self._loading = True
        try:
            self.table.setRowCount(len(past) + len(f.months))
            shade = qcolor("shade_bg")
            for r, month in enumerate(past):
                counts = h.counts.get(month, {})
                label = month_key(month) + (" (so far)" if month == current else " (history)")
                values = [label, *(str(counts.get(c, 0)) for c in CATS),
                          str(sum(counts.get(c, 0) for c in CATS))]
                for col, text in enumerate(values):
                    hi = QTableWidgetItem(text)
                    hi.setFlags(hi.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    hi.setBackground(shade)
                    hi.setToolTip("What was sent that month (not editable)")
                    self.table.setItem(r, col, hi)
            for r0, m in enumerate(f.months):
                r = r0 + self.first_forecast_row
                item = QTableWidgetItem(month_key(m.month))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, 0, item)
                for c_i, c in enumerate(CATS):
                    it = QTableWidgetItem(str(m.values[c]))
                    font = QFont()
                    font.setBold(m.planned[c])
                    it.setFont(font)
                    if not m.planned[c]:
                        it.setForeground(qcolor("muted"))
                    self.table.setItem(r, 1 + c_i, it)
                tot = QTableWidgetItem(str(m.total))
                tot.setFlags(tot.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, 1 + len(CATS), tot)
        finally:
            self._loading = False
        self.chart.show_forecast(f, h.counts, past)
        self.summary.setText(summary_text(f, h.counts.get(current, {}), h.source_labels,
                                          h.missing_labels))
        self.warnings.clear()
        for w in f.warnings:
            self.warnings.addItem(w.message)

    def _edited(self, item: QTableWidgetItem) -> None:
        if self._loading or self.forecast is None:
            return
        col = item.column()
        row = item.row() - self.first_forecast_row
        if not 1 <= col <= len(CATS) or row < 0:
            return
        month = month_key(self.forecast.months[row].month)
        text = item.text().strip()
        try:
            count = None if text == "" else int(text)
        except ValueError:
            self.message.setText(f"{month}: {text!r} is not a whole number.")
            self.refresh()
            return
        self.set_plan(month, CATS[col - 1], count)

    def set_plan(self, month: str, category: Category, count: int | None) -> None:
        PageOp(self, self.services, svc.set_plan, self.services.ctx, month, category, count,
               name="forecast.plan").changes("forecast") \
            .success(lambda _r: self.refresh()).failure(self._failed).run()

    def _failed(self, text: str, _exc: BaseException) -> None:
        self.message.setText(text)
        self.refresh()

    def _export_dialog(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export the forecast ({kind.upper()})",
                                              f"csr-forecast.{kind}", f"{kind.upper()} (*.{kind})")
        if path:
            self.export(Path(path), overwrite=True)

    def export(self, path: Path, *, overwrite: bool = False) -> None:
        def done(res: Any) -> None:
            self.message.setText(f"Wrote {res.path}")

        PageOp(self, self.services, svc.export, self.services.ctx, path, overwrite=overwrite,
               name="forecast.export").success(done).failure(self._failed).run()
