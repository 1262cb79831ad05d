"""CSR forecasts: count the local request history, keep the user's plans, build the 8-month
forecast and export it (CSV, PDF).

History sources (`store/repos/forecasts.py`; both tables ship with every installation):
- Device CSRs: `device_csrs` (month of `created`); a CSR with a `batch_id` counts as batched,
  one without as single (ad hoc).
- Organisation CSRs: `csr_requests` (rows with `family='organisation'`, month of `created`).
Rows of the other environment are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError
from smki_desktop.core.forecast import Category, Forecast, Month, build, month_key, parse_month
from smki_desktop.services.context import AppContext
from smki_desktop.services.officers import load_policy
from smki_desktop.store.atomic import write_recorded
from smki_desktop.store.repos import forecasts as forecasts_repo

DEVICE_HISTORY = "Device CSRs sent or packaged"
ORG_HISTORY = "Organisation CSRs made"
#: the history sources (store identifiers, shown by `smki forecast --json`)
HISTORY_SOURCES = ("device_csrs", "csr_requests")
#: what each history source is, in words
SOURCE_LABELS = {"device_csrs": DEVICE_HISTORY, "csr_requests": ORG_HISTORY}


@dataclass(frozen=True)
class History:
    counts: dict[Month, dict[Category, int]]
    sources: list[str]
    missing: list[str]

    @property
    def source_labels(self) -> list[str]:
        """The sources in words, for people (no table names)."""
        return [SOURCE_LABELS.get(s, s) for s in self.sources]

    @property
    def missing_labels(self) -> list[str]:
        """What has no history yet, in words."""
        have = set(self.source_labels)
        return [label for label in (DEVICE_HISTORY, ORG_HISTORY) if label not in have]


@dataclass(frozen=True)
class Exported:
    path: Path
    audit: AuditEntry


def _month_of(text: str) -> Month | None:
    try:
        return int(text[0:4]), int(text[5:7])
    except (ValueError, TypeError, IndexError):
        return None


def history(ctx: AppContext) -> History:
    counts: dict[Month, dict[Category, int]] = defaultdict(lambda: defaultdict(int))
    for r in forecasts_repo.device_csr_months(ctx.db, ctx.env.value):
        m = _month_of(r.month)
        if m:
            cat = Category.DEVICE_BATCHED if r.batched else Category.DEVICE_SINGLE
            counts[m][cat] += r.count
    for r in forecasts_repo.org_csr_months(ctx.db, ctx.env.value):
        m = _month_of(r.month)
        if m:
            counts[m][Category.ORGANISATION] += r.count
    return History({m: dict(v) for m, v in counts.items()}, list(HISTORY_SOURCES), [])


def plans(ctx: AppContext) -> dict[Month, dict[Category, int]]:
    out: dict[Month, dict[Category, int]] = defaultdict(dict)
    for r in forecasts_repo.plans(ctx.db, ctx.env.value):
        out[parse_month(r.month)][Category(r.category)] = r.count
    return dict(out)


def parse_category(text: str) -> Category:
    norm = text.strip().lower()
    aliases = {"single": Category.DEVICE_SINGLE, "batched": Category.DEVICE_BATCHED,
               "org": Category.ORGANISATION}
    if norm in aliases:
        return aliases[norm]
    try:
        return Category(norm)
    except ValueError:
        raise InputError(f"category: {text!r}; use device-single, device-batched or "
                         "organisation.") from None


def set_plan(ctx: AppContext, month: str, category: Category, count: int | None) -> AuditEntry:
    """Set (or with None clear) the planned number of CSRs for a month and category."""
    m = month_key(parse_month(month))
    if count is not None and count < 0:
        raise InputError(f"count: {count} is negative.")
    with ctx.audit.change():
        forecasts_repo.set_plan(ctx.db, ctx.env.value, m, category.value, count,
                                ctx.clock.now().isoformat())
        return ctx.audit.record("forecast.plan", {"month": m, "category": category.value,
                                                  "count": count})


def build_forecast(ctx: AppContext) -> tuple[Forecast, History]:
    pol = load_policy()
    now = ctx.clock.now()
    h = history(ctx)
    f = build((now.year, now.month), h.counts, plans(ctx), months=pol.forecast_months,
              history_months=pol.forecast_history_months, ratio=pol.forecast_warning_ratio)
    return f, h


def export(ctx: AppContext, path: Path, *, overwrite: bool = False) -> Exported:
    """Write the forecast as CSV or PDF (by the file's suffix), atomically."""
    f, _h = build_forecast(ctx)
    suffix = Path(path).suffix.lower()
    data: bytes
    if suffix == ".csv":
        data = f.to_csv().encode("utf-8")
    elif suffix == ".pdf":
        from smki_desktop.render.pdf import render_forecast

        party = ctx.party()
        data = render_forecast(f, env=ctx.env, organisation=party.name if party else "")
    else:
        raise InputError(f"Output file: {path} must end in .csv or .pdf.", hint="field.out")
    # recorded before the file is put in place (store/atomic.write_recorded)
    out, entry = write_recorded(Path(path), data, lambda p: ctx.audit.record(
        "forecast.export", {"path": str(p), "format": suffix[1:], "warnings": len(f.warnings)},
        {"forecast": data}), overwrite=overwrite)
    return Exported(out, entry)
