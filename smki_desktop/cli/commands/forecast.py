"""`smki forecast [plan|export]`: the 8-month CSR forecast from history and plans."""

from __future__ import annotations

import argparse
from pathlib import Path

from smki_desktop.cli.main import CliApp
from smki_desktop.core.errors import InputError
from smki_desktop.core.forecast import Category, month_key
from smki_desktop.services import forecast as svc


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("forecast", help="the CSR forecast (next 8 months)")
    p.set_defaults(handler=run_show)
    ps = p.add_subparsers(dest="forecast_cmd", metavar="ACTION")
    pl = ps.add_parser("plan", help="set a month's planned CSRs (COUNT 'clear' removes it)")
    pl.add_argument("month", help="YYYY-MM")
    pl.add_argument("category", help="device-single | device-batched | organisation")
    pl.add_argument("count", help="a number, or 'clear'")
    pl.set_defaults(handler=run_plan)
    ex = ps.add_parser("export", help="write the forecast as CSV or PDF")
    ex.add_argument("--out", required=True, help="FILE.csv or FILE.pdf")
    ex.add_argument("--overwrite", action="store_true")
    ex.set_defaults(handler=run_export)


def run_show(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    f, h = svc.build_forecast(ctx)
    lines = [f"CSR forecast ({ctx.env.label}) from {month_key(f.first_month)}; history from: "
             + (", ".join(h.sources) or "none")]
    if h.missing:
        lines.append("No history yet for: " + "; ".join(h.missing))
    lines.append(f"{'month':<8} " + " ".join(f"{c.value:>15}" for c in Category) + "   total")
    for m in f.months:
        lines.append(f"{month_key(m.month):<8} " + " ".join(
            f"{str(m.values[c]) + ('*' if m.planned[c] else ''):>15}" for c in Category)
            + f"   {m.total}")
    lines.append("* planned")
    lines += [f"WARNING: {w.message}" for w in f.warnings]
    data = f.to_dict()
    data.update({"environment": ctx.env.value, "history_sources": h.sources,
                 "history_missing": h.missing})
    app.emit(data, "\n".join(lines))
    return 0


def run_plan(args: argparse.Namespace, app: CliApp) -> int:
    ctx = app.context()
    cat = svc.parse_category(args.category)
    if args.count.strip().lower() == "clear":
        count = None
    else:
        try:
            count = int(args.count)
        except ValueError:
            raise InputError(f"count: {args.count!r} is not a whole number.") from None
    svc.set_plan(ctx, args.month, cat, count)
    return run_show(args, app)


def run_export(args: argparse.Namespace, app: CliApp) -> int:
    res = svc.export(app.context(), Path(args.out), overwrite=args.overwrite)
    app.emit({"path": str(res.path)}, f"Wrote {res.path}")
    return 0
