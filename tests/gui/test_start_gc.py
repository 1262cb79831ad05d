"""The start pauses Python's cyclic garbage collection until the main window is shown
(gui/app.py: ~40 walks over the ~30,000 objects PySide's import and the shell make, 10-15 ms of
a 2-core machine's start), then freezes what the start made and gives the collection back:
never to a job's thread (tests/gui/test_qt_runtime.py has why)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

# The app started as `--quit-after-idle` does; at the first idle it notes the collector's state
# and waits for the opening job to end (the job runner's collector then gives the automatic
# collection back), then says what it saw.
SCRIPT = """
import gc, sys
from smki_desktop.gui import app
from smki_desktop.gui.qt import QApplication, QTimer
seen = {}
def wait_for_collection(qapp, tries=400):
    if gc.isenabled() or tries == 0:
        seen["enabled_later"] = gc.isenabled()
        qapp.quit()
    else:
        QTimer.singleShot(50, lambda: wait_for_collection(qapp, tries - 1))
def at_idle(qapp):
    seen["frozen"] = gc.get_freeze_count()
    wait_for_collection(qapp)
app._report_idle = at_idle
app.main(["--data-dir", sys.argv[1], "--no-first-run", "--quit-after-idle"])
print("gc", seen["frozen"], seen["enabled_later"])
"""


def test_the_start_freezes_what_it_made_and_collection_comes_back(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    _, frozen, enabled_later = r.stdout.splitlines()[-1].split()
    assert int(frozen) > 10_000  # the start's modules, types and widgets
    assert enabled_later == "True"


def test_collection_paused_while_a_job_runs_goes_to_the_gui_threads_collector(qtbot) -> None:
    """Were a job already running when the window is shown, the automatic collection is not
    simply turned back on (it would then run on whichever thread crosses a threshold): the job
    runner's collector takes it, collects on the GUI thread, and gives it back once idle."""
    from smki_desktop.gui import app, jobs

    class Window:
        def __init__(self, runner: jobs.JobRunner) -> None:
            self.jobs = runner

    qtbot.waitUntil(gc.isenabled, timeout=10000)  # earlier tests' runners are idle
    runner = jobs.JobRunner()
    release = threading.Event()
    try:
        runner.submit(lambda: release.wait(10), name="slow")
        gc.disable()  # as the start leaves it: the submit above found it on, so it is the
        collector = jobs.gui_thread_collector()  # collector's already; hand it back to test
        collector.owns = False
        app._collect_again(Window(runner), freeze=False)  # type: ignore[arg-type]
        assert not gc.isenabled() and collector.owns
        release.set()
        qtbot.waitUntil(lambda: runner.running == 0, timeout=10000)
        qtbot.waitUntil(gc.isenabled, timeout=10000)
    finally:
        release.set()
        runner.wait(10000)
        gc.enable()
