"""App start to main window shown and idle, next to a bare PySide6 QMainWindow as PySide ships
it (target: ratio <= 1.5). Each is a fresh process that quits as soon as its event loop is idle
after show(). Both use PySide's lazy type creation (the app used to build every Qt type up
front; a second line shows the bare window doing that, for comparison with old figures)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import Figure

BARE = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
from PySide6.QtCore import QTimer
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.resize(1180, 760); w.show()
QTimer.singleShot(0, app.quit)
app.exec()
"""


def _time(cmd: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=120)
    return time.perf_counter() - t


def run(quick: bool = False) -> list[Figure]:
    n = 3 if quick else 7
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    with tempfile.TemporaryDirectory() as root:
        app_cmd = [sys.executable, "-m", "smki_desktop", "--data-dir", root, "--no-first-run",
                   "--quit-after-idle"]
        _time(app_cmd, env)  # first run creates the database; measure warm starts
        bare_env = {k: v for k, v in env.items() if k != "PYSIDE6_OPTION_LAZY"}
        eager_env = dict(env, PYSIDE6_OPTION_LAZY="0")
        bare, eager, app = [], [], []
        for _ in range(n):  # interleaved so that machine load hits all alike
            bare.append(_time([sys.executable, "-c", BARE], bare_env))
            eager.append(_time([sys.executable, "-c", BARE], eager_env))
            app.append(_time(app_cmd, env))
    b, e, a = statistics.median(bare), statistics.median(eager), statistics.median(app)
    return [Figure("start to main window idle (median)", a * 1000, "ms", b * 1000,
                   "bare PySide6 QMainWindow", "ratio <= 1.5", a / b <= 1.5),
            Figure("  the same, against a bare window with eager Qt types", a * 1000, "ms",
                   e * 1000, "bare QMainWindow, PYSIDE6_OPTION_LAZY=0")]
