"""The Dashboard's expiry watch: certificates and credentials expiring within the window
(days, kept per environment) and those already expired, soonest first; expired in red."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QGroupBox,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)
from smki_desktop.gui.tones import qcolor
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.services import expiry

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

COLUMNS = ["Expires", "Days left", "What", "Serial", "Subject / usage"]
SHOWN_PROBLEMS = 3  # the rest are counted (the command line lists them all)


class ExpiryWidget(QGroupBox):
    def __init__(self, services: GuiServices) -> None:
        super().__init__("Expiry watch")
        self.setObjectName("expiryWatch")
        self.services = services
        self.report: expiry.ExpiryReport | None = None
        lay = QVBoxLayout(self)
        self.box_layout = lay
        top = QHBoxLayout()
        self.summary = QLabel("")
        self.summary.setObjectName("expirySummary")
        self.summary.setWordWrap(True)
        top.addWidget(self.summary, 1)
        label = QLabel("&Window (days):")
        self.days = QSpinBox()
        self.days.setRange(1, 3650)
        self.days.setAccessibleName("Expiry window in days")
        self.days.setToolTip("Certificates and credentials expiring within this many days "
                             "are listed (kept for this environment)")
        label.setBuddy(self.days)
        top.addWidget(label)
        top.addWidget(self.days)
        self.chart_btn = QPushButton("Show &chart")
        self.chart_btn.setCheckable(True)
        self.chart_btn.setToolTip("How many expire in each coming month (the figures are the "
                                  "table below)")
        self.chart_btn.toggled.connect(self.show_chart)
        top.addWidget(self.chart_btn)
        self.chart: Any = None
        lay.addLayout(top)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("expiryTable")
        self.table.setAccessibleName("Certificates and credentials expiring or expired")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setMaximumHeight(170)
        wire_row_actions(self.table, self.row_actions, self.open_certificates)
        lay.addWidget(self.table)
        self.days.setValue(expiry.DEFAULT_DAYS)  # the kept window comes with the report
        self.days.editingFinished.connect(self._window_changed)
        self.read = BackgroundRead(self, services, expiry.expiry_report, services.ctx,
                                   name="Expiry watch", show=self.show_report,
                                   failed=lambda text, _exc: self.summary.setText(text))
        self.refresh()

    def selected(self) -> expiry.Expiring | None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if not rows or self.report is None:
            return None
        items = [*self.report.expired, *self.report.expiring]
        return items[rows[0]] if rows[0] < len(items) else None

    def row_actions(self) -> list[tuple[str, Callable[[], None]]]:
        e = self.selected()
        if e is None:
            return []
        return [("Copy the serial", lambda: QGuiApplication.clipboard().setText(e.item.serial)),
                ("Open the Certificates page (renew from there)", self.open_certificates)]

    def open_certificates(self) -> None:
        self.services.window.go_to("Certificates")

    def show_chart(self, on: bool) -> None:
        """Built when first asked for: the charting library stays out of start-up."""
        if on and self.chart is None:
            from smki_desktop.gui import charts

            self.chart = charts.ExpiryChart()
            self.box_layout.addWidget(self.chart)
        if self.chart is not None:
            self.chart.setVisible(on)
            self._draw_chart()
        self.chart_btn.setText("Hide &chart" if on else "Show &chart")

    def _draw_chart(self) -> None:
        rep = self.report
        if rep is None or self.chart is None:
            return
        self.chart.show_counts(len(rep.expired),
                               expiry.by_month(rep, self.services.ctx.clock.now()))

    def _window_changed(self) -> None:
        days = self.days.value()
        if self.report is None or days == self.report.window_days:
            return
        PageOp(self, self.services, expiry.set_window_days, self.services.ctx, days,
               name="Expiry window").changes("settings") \
            .success(lambda _e: self.refresh()) \
            .failure(lambda text, _e: self.summary.setText(text)).run()

    def refresh(self) -> None:
        """Read the report again (on the job runner); `show_report` fills the table in."""
        self.read.run()

    def show_report(self, rep: expiry.ExpiryReport) -> None:
        self.report = rep
        if not self.days.hasFocus():  # not under the officer's typing
            self.days.setValue(rep.window_days)
        rows = [*rep.expired, *rep.expiring]
        self.table.setRowCount(len(rows))
        for r, e in enumerate(rows):
            cells = [f"{e.not_after:%Y-%m-%d}", "expired" if e.expired else str(e.days_left),
                     e.item.kind, e.item.serial, f"{e.item.subject} ({e.item.usage})"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if e.expired:
                    item.setForeground(qcolor("error"))
                self.table.setItem(r, c, item)
        self.table.setVisible(bool(rows))
        if self.chart is not None:
            self._draw_chart()
        summary = (f"{len(rep.expired)} expired, {len(rep.expiring)} expiring within "
                   f"{rep.window_days} days." if rows else
                   f"Nothing expires within {rep.window_days} days and nothing has expired.")
        if rep.problems:  # what the audit log does not vouch for: said, never hidden
            shown = rep.problems[:SHOWN_PROBLEMS]
            more = len(rep.problems) - len(shown)
            summary += "\n" + "\n".join(shown) + (f"\n…and {more} more." if more else "")
        self.summary.setText(summary)
