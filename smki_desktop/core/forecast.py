"""The CSR forecast an Authorised Subscriber sends the DCC: the next N (8) months, per month,
Device CSRs split single and batched, and Organisation CSRs; built from the local request
history and editable plans. Warns when a month's planned volume exceeds the ratio (150%, MP160)
of the recent monthly average. Pure: history and plans come in as counts.
"""

from __future__ import annotations

import csv
import enum
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass


class Category(enum.Enum):
    DEVICE_SINGLE = "device-single"
    DEVICE_BATCHED = "device-batched"
    ORGANISATION = "organisation"

    @property
    def label(self) -> str:
        return {"device-single": "Device CSRs (single)", "device-batched": "Device CSRs (batched)",
                "organisation": "Organisation CSRs"}[self.value]


Month = tuple[int, int]  # (year, month)


def month_key(m: Month) -> str:
    return f"{m[0]:04d}-{m[1]:02d}"


def parse_month(text: str) -> Month:
    from smki_desktop.core.errors import InputError

    try:
        y, m = text.strip().split("-")
        out = (int(y), int(m))
    except ValueError:
        raise InputError(f"month: {text!r} is not a month; write YYYY-MM.") from None
    if not 1 <= out[1] <= 12 or len(y) != 4:
        raise InputError(f"month: {text!r} is not a month; write YYYY-MM.")
    return out


def add_months(m: Month, n: int) -> Month:
    idx = m[0] * 12 + (m[1] - 1) + n
    return (idx // 12, idx % 12 + 1)


@dataclass(frozen=True)
class MonthForecast:
    month: Month
    values: dict[Category, int]
    planned: dict[Category, bool]  # True where the value is a user's plan, not the baseline

    @property
    def total(self) -> int:
        return sum(self.values.values())


@dataclass(frozen=True)
class ForecastWarning:
    month: Month
    category: Category | None  # None: the month's total
    planned: int
    average: float
    message: str


@dataclass(frozen=True)
class Forecast:
    first_month: Month
    months: tuple[MonthForecast, ...]
    averages: dict[Category, float]
    history_months: tuple[Month, ...]
    warnings: tuple[ForecastWarning, ...]
    ratio: float

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(["month", *(c.value for c in Category), "total", "source"])
        for mf in self.months:
            src = ";".join(c.value for c in Category if mf.planned[c]) or "baseline"
            w.writerow([month_key(mf.month), *(mf.values[c] for c in Category), mf.total,
                        f"planned:{src}" if src != "baseline" else src])
        return buf.getvalue()

    def to_dict(self) -> dict[str, object]:
        return {
            "first_month": month_key(self.first_month),
            "ratio": self.ratio,
            "history_months": [month_key(m) for m in self.history_months],
            "averages": {c.value: round(v, 2) for c, v in self.averages.items()},
            "months": [
                {"month": month_key(mf.month), **{c.value: mf.values[c] for c in Category},
                 "total": mf.total,
                 "planned": [c.value for c in Category if mf.planned[c]]}
                for mf in self.months
            ],
            "warnings": [
                {"month": month_key(w.month),
                 "category": w.category.value if w.category else "total",
                 "planned": w.planned, "average": round(w.average, 2), "message": w.message}
                for w in self.warnings
            ],
        }


def build(current: Month, history: Mapping[Month, Mapping[Category, int]],
          plans: Mapping[Month, Mapping[Category, int]], *, months: int = 8,
          history_months: int = 6, ratio: float = 1.5) -> Forecast:
    """Forecast `months` months starting the month after `current`.

    The recent monthly average per category is taken over the `history_months` complete months
    before `current` (months with no requests count as zero). A month's value is the plan where
    one is set, otherwise the average rounded up. A plan above `ratio` x the average warns (per
    category, and for the month's total); with no history any plan above zero warns.
    """
    hist_window = tuple(add_months(current, -i) for i in range(history_months, 0, -1))
    averages = {
        c: sum(history.get(m, {}).get(c, 0) for m in hist_window) / max(history_months, 1)
        for c in Category
    }
    total_avg = sum(averages.values())
    first = add_months(current, 1)
    rows: list[MonthForecast] = []
    warns: list[ForecastWarning] = []
    for i in range(months):
        m = add_months(first, i)
        plan = plans.get(m, {})
        values: dict[Category, int] = {}
        planned: dict[Category, bool] = {}
        for c in Category:
            if c in plan:
                values[c] = int(plan[c])
                planned[c] = True
            else:
                values[c] = math.ceil(round(averages[c], 6))
                planned[c] = False
            if planned[c]:
                w = _check(m, c, values[c], averages[c], ratio)
                if w:
                    warns.append(w)
        row = MonthForecast(m, values, planned)
        rows.append(row)
        if any(planned.values()):
            w = _check(m, None, row.total, total_avg, ratio)
            if w:
                warns.append(w)
    return Forecast(first, tuple(rows), averages, hist_window, tuple(warns), ratio)


def _check(m: Month, c: Category | None, planned: int, avg: float, ratio: float
           ) -> ForecastWarning | None:
    what = c.label if c else "All CSRs"
    if avg <= 0:
        if planned > 0:
            return ForecastWarning(m, c, planned, avg,
                                   f"{month_key(m)}: {what}: {planned} planned with no recent "
                                   "history; tell the DCC in advance.")
        return None
    if planned > ratio * avg:
        pct = planned / avg * 100
        return ForecastWarning(
            m, c, planned, avg,
            f"{month_key(m)}: {what}: {planned} planned is {pct:.0f}% of the recent monthly "
            f"average {avg:.1f} (above {ratio * 100:.0f}%): notify the DCC.")
    return None
