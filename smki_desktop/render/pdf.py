"""Print-ready PDFs with QtGui (QTextDocument laid out page by page onto a QPdfWriter): the
completed nomination forms and the CSR forecast. The environment is printed in the header and
footer of every page. The GUI and the CLI both call these functions; without a running Qt
application an offscreen QGuiApplication is created (no display needed).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Mapping
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.forecast import Category, Forecast, month_key
from smki_desktop.core.forms import FieldSpec, FormSchema, Page, display_value, is_empty
from smki_desktop.render.isolated import render_in_child
from smki_desktop.render.layout import FONT_FAMILY, environment_banner, render_here

__all__ = ["FONT_FAMILY", "environment_banner", "render_pages"]


def render_pages(body_html: str, *, env: Environment, title: str, reference: str = "") -> bytes:
    """Lay `body_html` out on A4 pages; header and footer (with the environment) on each.

    Only the main thread touches Qt's GUI classes; any other thread (a GUI background job) gets
    the same pages from a child process (`render.isolated`)."""
    if threading.current_thread() is not threading.main_thread():
        return render_in_child(body_html, env=env, title=title, reference=reference)
    return render_here(body_html, env=env, title=title, reference=reference)


_CSS = """
h1 { font-size: 15pt; margin-bottom: 2pt; }
h2 { font-size: 11.5pt; margin-top: 12pt; margin-bottom: 3pt; background-color: #e8eef4; }
p.help { font-size: 8pt; color: #444444; margin-top: 0; margin-bottom: 4pt; }
td.label { background-color: #f4f4f4; font-size: 9pt; }
td.value { font-size: 10pt; }
p.meta { font-size: 8.5pt; }
"""


def _e(text: str) -> str:
    return html.escape(text).replace("\n", "<br/>")


def _field_row(f: FieldSpec, val: Any) -> str:
    if f.print_blank:
        return (f'<tr><td class="label" width="35%">{_e(f.label)}</td>'
                f'<td class="value">&nbsp;<br/>&nbsp;<br/>&nbsp;</td></tr>'
                f'<tr><td class="label">Date signed</td><td class="value">&nbsp;</td></tr>')
    if f.type == "bool":
        mark = "☒" if val else "☐"
        return (f'<tr><td class="value" colspan="2">{mark} {_e(f.label)}</td></tr>')
    if f.type == "checklist":
        chosen = set(val or [])
        items = "<br/>".join(f"{'☒' if o.value in chosen else '☐'} {_e(o.label)}"
                             for o in f.options)
        return (f'<tr><td class="label" width="35%">{_e(f.label)}</td>'
                f'<td class="value">{items}</td></tr>')
    if f.type == "choice" and is_empty(val):
        shown = "   ".join(f"☐ {_e(o.label)}" for o in f.options)
    else:
        shown = _e(display_value(f, val)) if not is_empty(val) else "&nbsp;"
    req = " *" if f.required and f.stage == "nomination" else ""
    return (f'<tr><td class="label" width="35%">{_e(f.label)}{req}</td>'
            f'<td class="value">{shown}</td></tr>')


def _page_html(n: int, p: Page, values: Mapping[str, Any]) -> str:
    rows = "".join(_field_row(f, values.get(f.key)) for f in p.fields)
    brk = ' style="page-break-before: always"' if p.stage == "verification" else ""
    return (f"<h2{brk}>{n}. {_e(p.title)}</h2>"
            f'<p class="help">{_e(p.help)}</p>'
            f'<table width="100%" border="1" cellspacing="0" cellpadding="5" '
            f'style="border-collapse: collapse; border-color: #888888">{rows}</table>')


def nomination_html(schema: FormSchema, values: Mapping[str, Any], *, env: Environment,
                    officer_id: str, values_sha256: str, self_nominated: bool = False) -> str:
    parts = [f"<html><head><style>{_CSS}</style></head><body>",
             f"<h1>{_e(schema.title)}</h1>",
             f'<p class="meta">{_e(schema.intro)}</p>',
             f'<p class="meta"><b>Environment: {env.label} SMKI</b> · Register ID: '
             f"{_e(officer_id)} · Form: {_e(schema.form_id)}</p>"]
    if self_nominated:
        parts.append('<p class="meta"><b>Self-nomination:</b> the nominating SRO nominates '
                     "themselves as ARO; recorded as such.</p>")
    for n, p in enumerate(schema.pages, start=1):
        parts.append(_page_html(n, p, values))
    parts.append(f'<p class="meta">* required. Form data SHA-256: {values_sha256}. The signed '
                 "machine-readable record of this form is kept in the officer register.</p>")
    parts.append("</body></html>")
    return "".join(parts)


def render_nomination(schema: FormSchema, values: Mapping[str, Any], *, env: Environment,
                      officer_id: str, values_sha256: str, self_nominated: bool = False) -> bytes:
    body = nomination_html(schema, values, env=env, officer_id=officer_id,
                           values_sha256=values_sha256, self_nominated=self_nominated)
    return render_pages(body, env=env, title=f"{schema.title} ({schema.form_id})",
                        reference=f"Register ID {officer_id}")


# -- forecast -----------------------------------------------------------------------------
def forecast_html(f: Forecast, *, env: Environment, organisation: str = "") -> str:
    head = "".join(f"<th>{_e(c.label)}</th>" for c in Category)
    rows = []
    for m in f.months:
        cells = "".join(
            f"<td align=\"right\">{m.values[c]}{' (plan)' if m.planned[c] else ''}</td>"
            for c in Category)
        rows.append(f"<tr><td>{month_key(m.month)}</td>{cells}"
                    f"<td align=\"right\"><b>{m.total}</b></td></tr>")
    avgs = ", ".join(f"{c.label}: {f.averages[c]:.1f}" for c in Category)
    hist = (f"{month_key(f.history_months[0])} to {month_key(f.history_months[-1])}"
            if f.history_months else "none")
    warns = "".join(f"<li>{_e(w.message)}</li>" for w in f.warnings) or "<li>None.</li>"
    return (
        f"<html><head><style>{_CSS}</style></head><body>"
        f"<h1>CSR forecast{(' — ' + _e(organisation)) if organisation else ''}</h1>"
        f'<p class="meta"><b>Environment: {env.label} SMKI</b> · {len(f.months)} months from '
        f"{month_key(f.first_month)}</p>"
        f'<p class="meta">Recent monthly average ({hist}): {_e(avgs)}.</p>'
        f'<table width="100%" border="1" cellspacing="0" cellpadding="5" '
        f'style="border-collapse: collapse"><tr><th>Month</th>{head}<th>Total</th></tr>'
        f"{''.join(rows)}</table>"
        f"<h2>Warnings (above {f.ratio * 100:.0f}% of the recent monthly average)</h2>"
        f"<ul>{warns}</ul></body></html>"
    )


def render_forecast(f: Forecast, *, env: Environment, organisation: str = "") -> bytes:
    return render_pages(forecast_html(f, env=env, organisation=organisation), env=env,
                        title="CSR forecast")
