"""The Qt runtime as the app uses it. No binding that corrupts the interpreter
(PySide6-Essentials 6.12.0 dropped one reference to None on every call of a void Qt method, which
aborts Python 3.11 after a few thousand calls: the dependency pin keeps it out, a test catches
it); jobs do not call Qt; and no Qt object is destroyed on a job's thread."""

import sys


def test_void_qt_calls_keep_none_refcount(qtbot) -> None:
    from smki_desktop.gui.qt import QLabel

    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(500):
        label.setText("x")
    assert before - sys.getrefcount(None) < 50


def test_qt_types_are_created_lazily_as_pyside_ships_them() -> None:
    """Building every Qt type up front (PYSIDE6_OPTION_LAZY=0) cost ~0.2 s of each start; it
    was a guard against a job touching Qt, which the job guard now catches in the tests (see
    tests/gui/test_qt_guard_imports.py). In lazy mode QtWidgets holds a few dozen names after
    import, eager about 200."""
    import subprocess

    # the GUI's own import path, in a clean interpreter (nothing else imported first)
    probe = ("import smki_desktop.gui.app, PySide6.QtWidgets as w; "
             "print(sum(isinstance(v, type) for v in vars(w).values()))")
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYSIDE6_OPTION_LAZY"}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert int(out) < 100


def test_a_job_calling_qt_is_caught_and_progress_signals_are_not(qtbot) -> None:
    """The guard that keeps Qt on the GUI thread: a job that calls a Qt method is recorded
    (the GUI conftest fails the test on it); reporting progress through the job's signal is
    the sanctioned way and is not."""
    from smki_desktop.gui import jobs
    from smki_desktop.gui.qt import QColor

    runner = jobs.JobRunner()
    results: list[object] = []

    def polite(progress) -> int:  # type: ignore[no-untyped-def]
        for i in range(3):
            progress.progress(i, 3, "working")
        return 42

    def rude() -> str:
        return str(QColor("#b00020").name())

    runner.submit(polite, on_done=results.append, name="polite")
    qtbot.waitUntil(lambda: runner.running == 0, timeout=10000)
    assert results == [42] and jobs.QT_CALLS_OFF_GUI_THREAD == []
    runner.submit(rude, on_done=results.append, name="rude")
    qtbot.waitUntil(lambda: runner.running == 0, timeout=10000)
    assert results[-1] == "#b00020"
    caught = list(jobs.QT_CALLS_OFF_GUI_THREAD)
    jobs.QT_CALLS_OFF_GUI_THREAD.clear()
    assert len(caught) == 1 and caught[0].startswith("rude: QColor.name"), caught


def test_a_result_for_a_deleted_widget_is_dropped(qtbot) -> None:
    """A page closed (or an environment switched) while its job ran: the result has nowhere to
    go and is dropped, rather than written into a deleted label (pytest-qt fails the test on
    the RuntimeError that raised)."""
    import threading

    import shiboken6

    from smki_desktop.gui import jobs
    from smki_desktop.gui.qt import QLabel

    class Page(QLabel):
        def got(self, result: object) -> None:
            self.setText(str(result))

    runner = jobs.JobRunner()
    page = Page()
    release = threading.Event()
    runner.submit(lambda: release.wait(10) and "done", on_done=page.got, name="slow")
    shiboken6.delete(page)
    assert not shiboken6.isValid(page)
    release.set()
    qtbot.waitUntil(lambda: runner.running == 0, timeout=10000)


def test_garbage_is_collected_on_the_gui_thread_while_jobs_run(qtbot) -> None:
    """The store banner test's segfault (issue 16): a half-built Settings section (its
    constructor raised) was cyclic garbage, Python's collector ran on a job's thread because the
    job crossed an allocation threshold there, the section's widgets were destroyed on that
    thread with their timers still registered, and the GUI thread's next timer tick crashed.
    Here a job allocates well past every threshold with a widget left in a reference cycle
    (without running timers, so that a regression fails here rather than crashing the run): no
    collection runs on the job's thread, the automatic collector is back once the runner is
    idle, and the widget is destroyed on the GUI thread."""
    import gc
    import threading

    from smki_desktop.gui import jobs
    from smki_desktop.gui.qt import QLabel, QWidget

    class Holder(QWidget):
        pass

    destroyed_on: list[str] = []
    w = Holder()
    QLabel("in a cycle", w)
    w.cycle = [w]  # type: ignore[attr-defined]  # reachable only through itself once dropped
    w.destroyed.connect(lambda: destroyed_on.append(threading.current_thread().name))
    collected_on: list[str] = []

    def note(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            collected_on.append(threading.current_thread().name)

    def allocate() -> int:
        keep = [[i, [i]] for i in range(200_000)]  # gc-tracked: generation 0 fills many times
        return len(keep)

    runner = jobs.JobRunner()
    results: list[object] = []
    qtbot.waitUntil(gc.isenabled, timeout=10000)  # earlier tests' runners are idle
    gc.callbacks.append(note)
    try:
        del w
        runner.submit(allocate, on_done=results.append, name="allocate")
        qtbot.waitUntil(lambda: runner.running == 0, timeout=20000)
        qtbot.waitUntil(gc.isenabled, timeout=10000)
        gc.collect()  # the widget may have reached an old generation before the job began
    finally:
        gc.callbacks.remove(note)
    assert results == [200_000]
    main = threading.main_thread().name
    assert collected_on and set(collected_on) == {main}, collected_on
    assert destroyed_on == [main]
