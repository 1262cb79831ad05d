"""CSR forecasts: read the local request history defensively from the other components'
tables, keep the user's plans, build the 8-month forecast and export it (CSV, PDF).

History sources (each used only when its table exists; missing ones count as zero and are
reported in `HistorySource.missing`):
- Device CSRs: issue 5's `device_csrs` (month of `created`); a CSR with a `batch_id` counts as
  batched, one without as single (ad hoc).
- Organisation CSRs: issue 3's `csr_requests` (rows with `family='organisation'`, month of
  `created`), or the first other table of `ORG_TABLES` found with a `created` column; rows of
  the other environment are skipped where an `environment` column exists.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError
from smki_desktop.core.forecast import Category, Forecast, Month, build, month_key, parse_month
from smki_desktop.services.context import AppContext
from smki_desktop.services.officers import load_policy
from smki_desktop.store.atomic import write_atomic

ORG_TABLES = ("csr_requests", "org_csrs", "organisation_csrs")
DEVICE_HISTORY = "Device CSRs sent or packaged"
ORG_HISTORY = "Organisation CSRs made"
#: what each history source is, in words (the sources themselves are store identifiers)
SOURCE_LABELS = {"device_csrs": DEVICE_HISTORY, **{t: ORG_HISTORY for t in ORG_TABLES}}


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


def _columns(c: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in c.execute(f'PRAGMA table_info("{table}")')}


def _month_of(text: str) -> Month | None:
    try:
        return int(text[0:4]), int(text[5:7])
    except (ValueError, TypeError, IndexError):
        return None


def history(ctx: AppContext) -> History:
    c = ctx.db.conn()
    tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    counts: dict[Month, dict[Category, int]] = defaultdict(lambda: defaultdict(int))
    sources, missing = [], []
    if "device_csrs" in tables and {"created", "batch_id"} <= _columns(c, "device_csrs"):
        env_cond = " WHERE environment=?" if "environment" in _columns(c, "device_csrs") else ""
        dparams: tuple[str, ...] = (ctx.env.value,) if env_cond else ()
        for r in c.execute("SELECT substr(created,1,7) AS m, batch_id IS NOT NULL AS batched, "
                           f"count(*) AS n FROM device_csrs{env_cond} GROUP BY m, batched",
                           dparams):
            m = _month_of(r["m"])
            if m:
                cat = Category.DEVICE_BATCHED if r["batched"] else Category.DEVICE_SINGLE
                counts[m][cat] += int(r["n"])
        sources.append("device_csrs")
    else:
        missing.append("device CSRs (device_csrs)")
    for t in ORG_TABLES:
        if t in tables and "created" in _columns(c, t):
            cols = _columns(c, t)
            conds: list[str] = []
            params: list[str] = []
            if "environment" in cols:
                conds.append("environment=?")
                params.append(ctx.env.value)
            if "family" in cols:  # issue 3's csr_requests: organisation CSRs only
                conds.append("family='organisation'")
            where = (" WHERE " + " AND ".join(conds)) if conds else ""
            for r in c.execute(f'SELECT substr(created,1,7) AS m, count(*) AS n FROM "{t}"'
                               f"{where} GROUP BY m", params):
                m = _month_of(r["m"])
                if m:
                    counts[m][Category.ORGANISATION] += int(r["n"])
            sources.append(t)
            break
    else:
        missing.append("organisation CSRs (" + " / ".join(ORG_TABLES) + ")")
    return History({m: dict(v) for m, v in counts.items()}, sources, missing)


def plans(ctx: AppContext) -> dict[Month, dict[Category, int]]:
    out: dict[Month, dict[Category, int]] = defaultdict(dict)
    for r in ctx.db.conn().execute("SELECT * FROM forecast_plans WHERE environment=?",
                                   (ctx.env.value,)):
        out[parse_month(r["month"])][Category(r["category"])] = int(r["count"])
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
    with ctx.db.transaction() as c:
        if count is None:
            c.execute("DELETE FROM forecast_plans WHERE month=? AND category=?",
                      (m, category.value))
        else:
            c.execute(
                "INSERT INTO forecast_plans(month, category, environment, count, updated) "
                "VALUES(?,?,?,?,?) ON CONFLICT(month, category) DO UPDATE SET "
                "count=excluded.count, updated=excluded.updated",
                (m, category.value, ctx.env.value, int(count), ctx.clock.now().isoformat()))
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
    out = write_atomic(Path(path), data, overwrite=overwrite)
    entry = ctx.audit.record("forecast.export", {"path": str(out), "format": suffix[1:],
                                                 "warnings": len(f.warnings)},
                             {"forecast": data})
    return Exported(out, entry)
