"""App start to main window shown and idle, next to a bare PySide6 QMainWindow as PySide ships
it (target: ratio <= 1.5). Each is a fresh process that, as soon as its event loop is idle after
show(), writes the wall-clock time and its CPU time and quits; "start to idle" is that time less
the moment the process was started. Runs alternate (bare, app, bare, app, ...) so that the
machine's load hits both alike, and the figures are medians. Both use PySide's lazy type
creation. Further lines: the same to the end of the process (the exit included), the CPU time
to idle (less sensitive to other processes on the machine), the bare window building every
Qt type up front (how the app used to start), and the app's start to its Dashboard filled in:
the window shows its shell first and opens the environment (store, key store) on the job runner
after the first idle, so the Dashboard's facts arrive after that moment (gui/main_window.py)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import Figure

BARE = """
import sys, time
from PySide6.QtWidgets import QApplication, QMainWindow
from PySide6.QtCore import QTimer
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.resize(1180, 760); w.show()
def idle():
    sys.stdout.write(f"idle-at {time.time():.6f} cpu {time.process_time():.6f}\\n")
    sys.stdout.flush()
    app.quit()
QTimer.singleShot(0, idle)
app.exec()
"""


# The app started as `--quit-after-idle` does, but it quits when the Dashboard shows the facts
# read from the opened environment (its `facts`), and says when as "ready-at".
FILLED = """
import sys, time
from smki_desktop.gui import app
from smki_desktop.gui.qt import QApplication, QTimer
def filled(qapp):
    windows = [w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow"]
    page = windows[0].pages[0] if windows and windows[0].ready else None
    if page is not None and getattr(page, "facts", None) is not None:
        sys.stdout.write(f"ready-at {time.time():.6f} cpu {time.process_time():.6f}\\n")
        sys.stdout.flush()
        qapp.quit()
    else:
        QTimer.singleShot(1, lambda: filled(qapp))
app._report_idle = filled
app.main(["--data-dir", sys.argv[1], "--no-first-run", "--quit-after-idle"])
"""


def _time(cmd: list[str], env: dict[str, str], mark: str = "idle-at"
          ) -> tuple[float, float, float]:
    """(start to the mark, start to exit, CPU time to the mark), in seconds."""
    t0 = time.time()
    out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True,
                         timeout=120).stdout
    t_exit = time.time() - t0
    line = next(x for x in out.splitlines() if x.startswith(f"{mark} "))
    _, at, _, cpu = line.split()
    return float(at) - t0, t_exit, float(cpu)


def run(quick: bool = False) -> list[Figure]:
    n = 5 if quick else 15
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    with tempfile.TemporaryDirectory() as root:
        app_cmd = [sys.executable, "-m", "smki_desktop", "--data-dir", root, "--no-first-run",
                   "--quit-after-idle"]
        _time(app_cmd, env)  # the first start creates the database; measure warm starts
        bare_env = {k: v for k, v in env.items() if k != "PYSIDE6_OPTION_LAZY"}
        eager_env = dict(env, PYSIDE6_OPTION_LAZY="0")
        bare, eager, app, filled = [], [], [], []
        for _ in range(n):  # interleaved so that machine load hits all alike
            bare.append(_time([sys.executable, "-c", BARE], bare_env))
            eager.append(_time([sys.executable, "-c", BARE], eager_env))
            app.append(_time(app_cmd, env))
            filled.append(_time([sys.executable, "-c", FILLED, root], env, "ready-at"))

    def med(xs: list[tuple[float, float, float]], i: int) -> float:
        return statistics.median(x[i] for x in xs) * 1000

    b, a = med(bare, 0), med(app, 0)
    load = os.getloadavg()[0]
    return [Figure("start to main window idle (median)", a, "ms", b,
                   "bare PySide6 QMainWindow", "ratio <= 1.5", a / b <= 1.5),
            Figure("  the same, to the end of the process", med(app, 1), "ms", med(bare, 1),
                   "bare QMainWindow"),
            Figure("  the same, CPU time to idle", med(app, 2), "ms", med(bare, 2),
                   "bare QMainWindow"),
            Figure("  the same, against a bare window with eager Qt types", a, "ms",
                   med(eager, 0), "bare QMainWindow, PYSIDE6_OPTION_LAZY=0"),
            Figure("  start to the Dashboard filled in (environment opened, its facts shown)",
                   med(filled, 0), "ms", b, "bare QMainWindow idle"),
            Figure("  the same, CPU time", med(filled, 2), "ms", med(bare, 2),
                   "bare QMainWindow idle"),
            Figure(f"  machine load during the {n} alternating runs of each (1-minute load "
                   "average at the end)", load, "")]
