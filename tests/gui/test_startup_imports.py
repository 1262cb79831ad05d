"""Fast start (issue 15): the first window pays only for its shell (the environment's banner,
menus, sidebar and the first page's frame); the environment's context is opened and the
Dashboard built on the job runner afterwards (tests/gui/test_startup_open.py). A fresh process
opens the main window until its event loop is idle, then lists what was loaded: none of the
heavy modules that other pages or actions use (X.509 and ASN.1 parsing, the chart library and
numpy) may be among them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("cryptography.x509", "asn1crypto", "pyqtgraph", "numpy", "smki_desktop.services.crossing")

# What is loaded when the event loop is first idle: after that the app quits, and while it
# does, timers set to fire after the first paint may start their jobs (their imports are not
# the start's).
SCRIPT = """
import json, sys
from smki_desktop.gui import app
report = app._report_idle
at_idle = []
def _report(qapp):
    at_idle.append(list(sys.modules))  # in the order they were first imported
    report(qapp)
app._report_idle = _report
app.main(["--data-dir", sys.argv[1], "--no-first-run", "--quit-after-idle"])
print(json.dumps(at_idle[0]))
"""


def test_first_window_loads_no_heavy_module(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("idle-at "), r.stdout  # the window was up and idle
    loaded = json.loads(lines[-1])
    assert "smki_desktop.gui.main_window" in loaded
    heavy = [m for m in loaded if m.startswith(HEAVY)]
    assert not heavy, f"loaded at start although the first page does not need them: {heavy}"


# Light, but not needed before the first idle: the shell makes no dataclass (~0.5 ms each to
# create on Python 3.11, and `dataclasses` itself to import), shows no help text (`html`) and
# builds the recent messages dialog, with its Qt types, only when it is opened.
NOT_AT_START = ("dataclasses", "html", "datetime", "smki_desktop.gui.recent_messages",
                "smki_desktop.gui.help_texts")


def test_the_first_window_makes_no_dataclass_and_no_dialog(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    loaded = json.loads(r.stdout.splitlines()[-1])
    early = [m for m in loaded if m in NOT_AT_START]
    assert not early, f"loaded at start although the first window does not need them: {early}"


def test_the_first_windows_qt_free_modules_come_before_pyside(tmp_path: Path) -> None:
    """PySide's import hook reads the source of every module that imports after PySide is
    loaded (gui/app.py): the Qt-free modules the window's shell needs are imported before it.
    (The context's modules are imported by the job that opens it, once the shell is built.)"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    order = json.loads(r.stdout.splitlines()[-1])
    pyside = order.index("PySide6")
    early = ["smki_desktop.core.environment", "smki_desktop.core.errors",
             "smki_desktop.gui.env_memory", "smki_desktop.services.data_root", "pkgutil"]
    late = [m for m in early if order.index(m) > pyside]
    assert not late, f"imported after PySide: {late}"


# Whether PySide's `Qt` namespace was built by the time the event loop is first idle:
# gui/qt.py hands out a stand-in and keeps PySide's own only once a name in it is used.
QT_SCRIPT = """
import sys
from smki_desktop.gui import app
report = app._report_idle
built = []
def _report(qapp):
    built.append("Qt" in vars(sys.modules["smki_desktop.gui.qt"]))
    widgets = vars(sys.modules["PySide6.QtWidgets"])  # with lazy types: those made so far
    built.append(sorted(n for n in sys.argv[2].split(",") if isinstance(widgets.get(n), type)))
    report(qapp)
app._report_idle = _report
app.main(["--data-dir", sys.argv[1], "--no-first-run", "--quit-after-idle"])
print("qt-namespace-built", built[0])
print("types-built", ",".join(built[1]))
"""

# Qt types the first window does not show: PySide makes each (with its enums) when first used,
# 0.1-1 ms apiece; the recent messages dialog, the page help and the tables make them later.
NOT_SHOWN = ("QDialog", "QDialogButtonBox", "QPlainTextEdit", "QHeaderView", "QTableView",
             "QTableWidget", "QMessageBox")


def _qt_at_idle(tmp_path: Path) -> list[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", QT_SCRIPT, str(tmp_path), ",".join(NOT_SHOWN)],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("idle-at "), r.stdout
    return lines[-2:]


def test_the_first_window_does_not_build_the_qt_namespace(tmp_path: Path) -> None:
    """PySide builds its whole `Qt` namespace (about 90 enums, 15-30 ms of a 2-core machine's
    start) the first time a name in it is used: the shell sets its enum properties by name
    (`qt.set_enum_property`) and the status line touches no `Qt` name until a message is
    said. (The status line's Messages button once built it at every start: ~18 ms.)"""
    assert _qt_at_idle(tmp_path)[0] == "qt-namespace-built False", \
        "something on the start path used a name in PySide's `Qt` namespace"


def test_the_first_window_makes_no_qt_type_it_does_not_show(tmp_path: Path) -> None:
    assert _qt_at_idle(tmp_path)[1] == "types-built ", "made at start although not shown"
