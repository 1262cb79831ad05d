"""The ADT page stays responsive with a 100,000-row file (the walk that found it frozen for
over 10 s at 1.1 GB): a 5 ms heartbeat timer on the GUI thread records the longest gap in the
event loop while the page opens the file (read and checked on the job runner, the rows handed
to the table's model), next to the same heartbeat on an idle event loop in the same run. Also
printed: the time from opening to the rows shown, the time from an edit to its finding marked
(checked on the job runner) and the longest gap meanwhile, and the time the GUI thread takes
to read the table back as the file's bytes (what Sign and Save read).

`python -m bench adt_gui` (N = 100,000) or `--quick` (N = 10,000).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from bench.bench_devices_gui import Heartbeat, _spin
from bench.common import Figure

OWN = "90-B3-D5-1F-30-01-00-00"


def run(quick: bool = False) -> list[Figure]:
    """Measured in a child process, so that a crash of Qt cannot take the bench run down."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "bench.bench_adt_gui", "child",
                           "10000" if quick else "100000"], cwd=str(root), capture_output=True,
                          text=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
                          timeout=1800)
    lines = proc.stdout.strip().splitlines()
    if not (lines and lines[-1].startswith("[")):
        tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
        raise RuntimeError(f"the GUI benchmark process failed:\n{tail}")
    return [Figure(d["name"], d["value"], d["unit"], d["baseline"], d["baseline_name"],
                   d["target"], d["ok"]) for d in json.loads(lines[-1])]


def _wait(app: object, done: object, limit: float = 300.0) -> float:
    from smki_desktop.gui.qt import QApplication

    t = time.perf_counter()
    while not done() and time.perf_counter() - t < limit:  # type: ignore[operator]
        QApplication.processEvents()
        time.sleep(0.001)
    return time.perf_counter() - t


def _measure(n: int) -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from smki_desktop.core.adt.validate import render_csv
    from smki_desktop.core.environment import Environment
    from smki_desktop.gui.jobs import JobRunner
    from smki_desktop.gui.qt import QApplication
    from smki_desktop.services.context import open_context

    app = QApplication.instance() or QApplication([])
    figs: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        ctx = open_context(Environment.TEST, tmp / "data")
        jobs = JobRunner()
        services = SimpleNamespace(
            ctx=ctx, jobs=jobs, status=lambda *a, **k: None, changed=lambda *a, **k: None,
            unreachable=lambda *a, **k: None,
            error=lambda title, exc: print(f"  error: {title}: {exc}"))
        from smki_desktop.gui.pages.adt import Page

        page = Page(services)  # type: ignore[arg-type]
        page.resize(1024, 600)
        page.show()
        _wait(app, jobs.idle, 30)
        big = tmp / "big.csv"
        rows = [(OWN, "IS", "1.1.1", "HOUR", str(i + 1), str(i + 2)) for i in range(n)]
        big.write_bytes(render_csv(page.profile, rows))
        del rows
        hb = Heartbeat(app)
        hb.start()
        _spin(app, 2.0)
        idle_gap = hb.stop()

        hb.start()
        open_s = (page.open_file(big), _wait(app, lambda: not page.busy and page.path == big))[1]
        open_gap = hb.stop()
        if page.table.rowCount() != n:
            raise RuntimeError(f"the page shows {page.table.rowCount()} rows, not {n}")
        figs.append(Figure(f"ADT page: longest GUI gap opening {n:,} rows ({open_s:.1f} s to "
                           "shown)", open_gap, "ms", idle_gap, "same heartbeat, idle loop",
                           "< 100 ms", open_gap < 100))

        hb.start()
        page.table.item(0, 3).setText("WEEK")
        edit_s = _wait(app, lambda: "WEEK" in page.cell_issue_text(0, 3))
        edit_gap = hb.stop()
        figs.append(Figure(f"ADT page: an edit checked on the job runner ({edit_s:.1f} s to "
                           "its finding), longest GUI gap", edit_gap, "ms", idle_gap,
                           "same heartbeat, idle loop", "< 100 ms", edit_gap < 100))

        t = time.perf_counter()
        data = page.current_bytes()
        read_ms = (time.perf_counter() - t) * 1000
        figs.append(Figure(f"ADT page: the table read back as the file's bytes ({n:,} rows, "
                           f"{len(data) / 2**20:.1f} MiB), on the GUI thread", read_ms, "ms",
                           None, "", "", True))
        page.close()
        jobs.wait(10000)
        ctx.close()
    return figs


if __name__ == "__main__":
    import json
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "child":
        print(json.dumps([f.as_dict() for f in _measure(int(sys.argv[2]))]), flush=True)
    else:
        for f in run(quick="--quick" in sys.argv):
            print(f.line())
