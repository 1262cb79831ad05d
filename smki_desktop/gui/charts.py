"""Charts drawn with pyqtgraph (Qt itself; a declared dependency): the CSR forecast against the
history it comes from. Each chart sits beside its figures (a tab away) and is built from the
same service data the table shows; no chart is the only place a number appears."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg

from smki_desktop.core.forecast import Category, Forecast, Month, month_key
from smki_desktop.gui.qt import QVBoxLayout, QWidget

HISTORY = (96, 125, 139)  # blue grey: what was sent
FORECAST = (242, 169, 0)  # amber: the baseline forecast
PLANNED = (198, 40, 40)  # red: months with a plan


class ForecastChart(QWidget):
    """Monthly totals: history (and the current month so far) then the forecast months."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("forecastChart")
        self.setAccessibleName("Chart: CSRs per month, history and forecast")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setAccessibleName("CSRs per month")
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(y=True, alpha=0.25)
        self.plot.setLabel("left", "CSRs per month")
        self.plot.addLegend(offset=(10, 10))
        lay.addWidget(self.plot)
        self.values: list[tuple[str, int, str]] = []  # (month, total, kind): what is drawn

    def show_forecast(self, f: Forecast, history: dict[Month, dict[Category, int]],
                      past: Sequence[Month]) -> None:
        self.plot.clear()
        self.values = []
        for m in past:
            self.values.append((month_key(m), sum(history.get(m, {}).values()), "history"))
        for mf in f.months:
            self.values.append((month_key(mf.month), mf.total,
                                "planned" if any(mf.planned.values()) else "forecast"))
        for kind, colour, name in (("history", HISTORY, "Sent (history)"),
                                   ("forecast", FORECAST, "Forecast (recent average)"),
                                   ("planned", PLANNED, "Planned")):
            xs = [i for i, v in enumerate(self.values) if v[2] == kind]
            if xs:
                self.plot.addItem(pg.BarGraphItem(
                    x=xs, height=[self.values[i][1] for i in xs], width=0.7,
                    brush=pg.mkBrush(*colour), pen=pg.mkPen(None), name=name))
        axis = self.plot.getAxis("bottom")
        axis.setTicks([[(i, v[0][2:]) for i, v in enumerate(self.values)]])
        self.plot.setXRange(-0.6, len(self.values) - 0.4, padding=0)
        top = max((v[1] for v in self.values), default=0)
        self.plot.setYRange(0, max(top * 1.15, 1), padding=0)


class ExpiryChart(QWidget):
    """How many certificates and credentials expire in each of the coming months (and how
    many have expired), from the expiry watch's report."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("expiryChart")
        self.setAccessibleName("Chart: certificates and credentials by expiry month")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(y=True, alpha=0.25)
        self.plot.setLabel("left", "expiring")
        self.plot.setMinimumHeight(160)
        lay.addWidget(self.plot)
        self.values: list[tuple[str, int]] = []

    def show_counts(self, expired: int, by_month: Sequence[tuple[str, int]]) -> None:
        self.plot.clear()
        self.values = [("expired", expired), *by_month]
        xs = list(range(len(self.values)))
        brushes = [pg.mkBrush(*PLANNED)] + [pg.mkBrush(*FORECAST)] * len(by_month)
        self.plot.addItem(pg.BarGraphItem(x=xs, height=[v[1] for v in self.values], width=0.7,
                                          brushes=brushes, pen=pg.mkPen(None)))
        self.plot.getAxis("bottom").setTicks([[(i, v[0][2:] if i else v[0])
                                               for i, v in enumerate(self.values)]])
        self.plot.setYRange(0, max(max((v[1] for v in self.values), default=0) * 1.2, 1),
                            padding=0)


OUTCOMES = (("issued", (46, 125, 50), ("issued",)),
            ("waiting", FORECAST, ("packaged", "pending", "queued", "submitted")),
            ("refused", PLANNED, ("error", "anomaly", "ineligible", "mismatch", "rejected")))


class BatchChart(QWidget):
    """Device CSR batches over time, each a stacked bar: issued, still waiting, refused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchChart")
        self.setAccessibleName("Chart: device batches and their outcomes over time")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(y=True, alpha=0.25)
        self.plot.setLabel("left", "Device CSRs")
        self.plot.addLegend(offset=(10, 10))
        self.plot.setMinimumHeight(180)
        lay.addWidget(self.plot)
        self.values: list[tuple[str, dict[str, int]]] = []

    def show_batches(self, batches: Sequence[tuple[str, dict[str, int]]]) -> None:
        """`batches`: (created date, per-status counts) in time order."""
        self.plot.clear()
        self.values = []
        for created, counts in batches:
            grouped = {name: sum(n for s, n in counts.items() if s in states)
                       for name, _c, states in OUTCOMES}
            self.values.append((created, grouped))
        base = [0] * len(self.values)
        xs = list(range(len(self.values)))
        for name, colour, _states in OUTCOMES:
            heights = [v[1][name] for v in self.values]
            if any(heights):
                self.plot.addItem(pg.BarGraphItem(x=xs, y0=list(base), height=heights,
                                                  width=0.7, brush=pg.mkBrush(*colour),
                                                  pen=pg.mkPen(None), name=name))
                base = [b + h for b, h in zip(base, heights, strict=True)]
        self.plot.getAxis("bottom").setTicks([[(i, v[0][5:10]) for i, v in
                                               enumerate(self.values)]])
        self.plot.setYRange(0, max(max(base, default=0) * 1.15, 1), padding=0)
