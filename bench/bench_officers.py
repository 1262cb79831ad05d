"""Officer nominations and forecasts (issue 7), each figure beside a baseline from the same run:

- nomination PDF: our page-by-page rendering (header and footer with the environment on every
  page) of the completed ARO form vs Qt's own one-call `QTextDocument.print_` of the same HTML
  to a `QPdfWriter` (no per-page environment). Target: ratio <= 2 and < 0.5 s per form (the
  wizard's Produce step is interactive).
- forecast history: reading the monthly single/batched Device CSR and Organisation CSR counts
  from N request rows (issue 5's `device_csrs`, issue 3's `csr_requests`) in SQL vs reading the
  rows into Python and counting them there. Target: ratio <= 1 and < 1 s for 200,000 rows.

`python -m bench officers` (N = 200,000 rows, 10 PDFs) or `--quick` (20,000 rows, 3 PDFs).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from bench.common import Figure


def _pdf_figures(n: int) -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from smki_desktop.core.environment import Environment
    from smki_desktop.render import pdf as render
    from smki_desktop.services.nomination import get_form, values_digest

    schema = get_form("aro")
    values = schema.example_values()
    digest = values_digest(schema, values)
    render.render_nomination(schema, values, env=Environment.TEST, officer_id="ARO-0001",
                             values_sha256=digest)  # warm-up: fonts, application object
    t = time.perf_counter()
    for _ in range(n):
        data = render.render_nomination(schema, values, env=Environment.TEST,
                                        officer_id="ARO-0001", values_sha256=digest)
    ours = (time.perf_counter() - t) / n
    html = render.nomination_html(schema, values, env=Environment.TEST, officer_id="ARO-0001",
                                  values_sha256=digest)
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument

    def bare() -> bytes:
        buf_data = QByteArray()
        buf = QBuffer(buf_data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        w = QPdfWriter(buf)
        w.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        doc = QTextDocument()
        doc.setHtml(html)
        doc.print_(w)
        buf.close()
        return bytes(buf_data.data())

    bare()
    t = time.perf_counter()
    for _ in range(n):
        bare()
    base = (time.perf_counter() - t) / n
    f = Figure("nomination PDF (ARO form, env on every page)", ours * 1000, "ms/form", base * 1000,
               "QTextDocument.print_ of the same HTML", "ratio <= 2 and < 500 ms")
    f.ok = (f.ratio or 0) <= 2 and ours < 0.5
    size = Figure("nomination PDF size", len(data) / 1024, "KiB")
    return [f, _pdf_off_main_thread(n, schema, values, digest, ours), size]


def _pdf_off_main_thread(n: int, schema: object, values: object, digest: str,
                         in_process: float) -> Figure:
    """The GUI's Produce step runs on a job thread, where the form is laid out by a child
    process (Qt stays on the GUI thread): the cost of that isolation, beside in-process."""
    import threading

    from smki_desktop.core.environment import Environment
    from smki_desktop.render import pdf as render

    times: list[float] = []

    def work() -> None:
        for _ in range(n):
            t = time.perf_counter()
            render.render_nomination(schema, values, env=Environment.TEST,  # type: ignore[arg-type]
                                     officer_id="ARO-0001", values_sha256=digest)
            times.append(time.perf_counter() - t)

    th = threading.Thread(target=work)
    th.start()
    th.join()
    per = sorted(times)[len(times) // 2]
    f = Figure("nomination PDF from a background job (child process)", per * 1000, "ms/form",
               in_process * 1000, "the same form laid out in-process", "< 500 ms")
    f.ok = per < 0.5
    return f


def _history_figures(rows: int) -> list[Figure]:
    from smki_desktop.core.environment import Environment
    from smki_desktop.services import forecast as fsvc
    from smki_desktop.store.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "bench.sqlite3")
        c = db.conn()
        with db.transaction() as tx:
            tx.execute("INSERT INTO device_batches(id, environment, name, channel, state, total, "
                       "created, updated) VALUES('b','test','b','web-service','completed',0,"
                       "'2026-01-01','2026-01-01')")
            tx.executemany(
                "INSERT INTO device_csrs(environment, key_id, batch_id, file_name, device_eui, "
                "usage, csr, status, created, updated) VALUES('test',?,?,?,?,'signing',x'00',"
                "'issued',?,?)",
                ((f"k{i}", "b" if i % 5 else None, f"f{i}.csr", f"{i:016X}",
                  f"2026-{i % 12 + 1:02d}-15T10:00:00", "x") for i in range(rows)))
            tx.executemany(
                "INSERT INTO csr_requests(environment, key_id, family, usage, der, created) "
                "VALUES('test',?,'organisation','signing',x'00',?)",
                ((f"o{i}", f"2026-{i % 12 + 1:02d}-01") for i in range(rows // 100)))
        ctx = SimpleNamespace(db=db, env=Environment.TEST)
        fsvc.history(ctx)  # type: ignore[arg-type]
        t = time.perf_counter()
        h = fsvc.history(ctx)  # type: ignore[arg-type]
        ours = time.perf_counter() - t
        t = time.perf_counter()
        naive: Counter[tuple[str, bool]] = Counter()
        for r in c.execute("SELECT created, batch_id FROM device_csrs"):
            naive[(r[0][:7], r[1] is not None)] += 1
        for r in c.execute("SELECT created FROM csr_requests WHERE family='organisation'"):
            naive[(r[0][:7], False)] += 1
        base = time.perf_counter() - t
        db.close()
    assert sum(sum(v.values()) for v in h.counts.values()) == rows + rows // 100
    f = Figure(f"forecast history over {rows:,} request rows", ours * 1000, "ms",
               base * 1000, "rows read into Python and counted", "ratio <= 1 and < 1000 ms")
    f.ok = (f.ratio or 0) <= 1 and ours < 1.0
    return [f]


def run(quick: bool) -> list[Figure]:
    return _pdf_figures(3 if quick else 10) + _history_figures(20_000 if quick else 200_000)


if __name__ == "__main__":
    for fig in run(quick=False):
        print(fig.line())
