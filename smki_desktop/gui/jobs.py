"""The one background job runner: a thread pool whose results come back as Qt signals on the
GUI thread. Every keyring, token, network, file and batch operation goes through it.

A job must not call into Qt (see docs/DEVELOPING.md, "Qt belongs to the GUI thread"), and no Qt
object may be destroyed on a job's thread either: a QObject destroyed off its own thread cannot
stop its timers ("QBasicTimer::stop: Failed. Possibly trying to stop from a different thread"),
which stay registered to freed memory until the GUI thread's next tick crashes the process. Two
ways that used to happen are closed here: each job's relay is deleted on the GUI thread
(`deleteLater`, its callbacks dropped so that a PageOp and its job are no reference cycle), and
Python's cyclic garbage collector, which otherwise runs on whatever thread allocates when a
threshold is crossed (often a job), collects on the GUI thread while jobs run
(`GuiThreadCollector`; a widget whose constructor raised is such garbage). With
`SMKI_QT_THREAD_GUARD=1` (the test suite sets it) each job runs under a profile hook that
records any call into a PySide6 object other than emitting a signal, and any import of a module
that builds Qt types (PySide6, pyqtgraph, our `gui` modules); the GUI tests fail on either.
"""

from __future__ import annotations

import gc
import inspect
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType, ModuleType
from typing import Any

from smki_desktop.gui.qt import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot, isValid

#: calls into Qt made by jobs off the GUI thread, as "job name: Qt callable" (guard on only)
QT_CALLS_OFF_GUI_THREAD: list[str] = []

_current = threading.local()


def current_job_name() -> str:
    """The name of the job running on this thread ("" off a job), so that a question asked
    from inside a job (a token PIN) can say what it is for."""
    return str(getattr(_current, "name", ""))


class JobProgress:
    """The `ProgressSink` handed to a job: thread-safe progress and cancellation."""

    def __init__(self, relay: _Relay) -> None:
        self._relay = relay
        self._cancel = threading.Event()

    def progress(self, done: int, total: int, text: str = "") -> None:
        self._relay.progressed.emit(done, total, text)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits, the slots run on the GUI thread."""

    finished = Signal(object)
    failed = Signal(object)
    progressed = Signal(int, int, str)

    def __init__(self, on_done: Callable[[Any], None] | None,
                 on_error: Callable[[BaseException], None] | None,
                 on_progress: Callable[[int, int, str], None] | None,
                 release: Callable[[Job], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress
        self._release = release
        self.job: Job | None = None
        self.finished.connect(self._done)
        self.failed.connect(self._error)
        self.progressed.connect(self._progress)

    @Slot(object)
    def _done(self, result: Any) -> None:
        self._work_ended()
        try:
            if self._on_done is not None and _receiver_alive(self._on_done):
                self._on_done(result)
        finally:
            self._retire()

    @Slot(object)
    def _error(self, exc: BaseException) -> None:
        self._work_ended()
        try:
            if self._on_error is not None and _receiver_alive(self._on_error):
                self._on_error(exc)
        finally:
            self._retire()

    def _work_ended(self) -> None:
        """The work is over before its outcome is handed on: what the outcome opens (a wizard
        waiting for the officer, an error box) is not "Working: …" on the status line."""
        job, self.job = self.job, None
        if job is not None:
            self._release(job)

    def _retire(self) -> None:
        """The outcome is delivered: forget the callbacks (a PageOp holds its job, whose relay
        held the PageOp's methods: a cycle only the garbage collector would free) and have Qt
        delete this relay here, on the GUI thread, whichever thread drops the job last."""
        self._on_done = self._on_error = self._on_progress = None
        self.deleteLater()

    @Slot(int, int, str)
    def _progress(self, done: int, total: int, text: str) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total, text)


def _receiver_alive(callback: Callable[..., Any]) -> bool:
    """False when the callback is a method of a widget that was deleted while the job ran (a
    page closed, an environment switched): its result has nowhere to go."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or bool(isValid(owner))


class Job(QRunnable):
    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                 relay: _Relay, name: str) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.relay = relay
        self.name = name
        self.progress = JobProgress(relay)
        if _accepts_progress(fn):
            self.kwargs = {**kwargs, "progress": self.progress}

    def cancel(self) -> None:
        self.progress.cancel()

    def run(self) -> None:
        guard = os.environ.get("SMKI_QT_THREAD_GUARD") == "1"
        if guard:
            sys.setprofile(_qt_call_guard(self.name))
        _current.name = self.name
        try:
            try:
                result = self.fn(*self.args, **self.kwargs)
            finally:
                # the pool's thread lives on, idle: its team store connections go back now
                # (before the result is reported, so that whoever waits on it finds them back).
                # Imported here, on the job's thread: the window's shell is shown before the
                # context and its store modules are loaded (the first job opens the context).
                from smki_desktop.services.context import release_thread_connections

                release_thread_connections()
        except BaseException as exc:  # reported on the GUI thread
            _current.name = ""
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            if guard:
                sys.setprofile(None)
            self.relay.failed.emit(exc)
        else:
            _current.name = ""
            if guard:
                sys.setprofile(None)
            self.relay.finished.emit(result)


def _qt_owner(fn: Any) -> str:
    owner = getattr(fn, "__self__", None)
    if owner is None:
        return str(getattr(fn, "__module__", "") or "")
    if isinstance(owner, ModuleType):
        return owner.__name__
    cls = owner if isinstance(owner, type) else type(owner)
    if cls.__name__ == "SignalInstance":  # emitting a signal is how a job talks to the GUI
        return ""
    return str(getattr(cls, "__module__", "") or "")


# Module bodies that must not run on a job's thread: importing them builds Qt types there, and
# PySide creates its types lazily (on first use), which is not safe against the GUI thread
# doing the same. Matched against the path of the code that runs.
_QT_MODULE_PATHS = (f"{os.sep}PySide6{os.sep}", f"{os.sep}shiboken6{os.sep}",
                    f"{os.sep}pyqtgraph{os.sep}",
                    f"{os.sep}smki_desktop{os.sep}gui{os.sep}")


def _qt_call_guard(job: str) -> Callable[[FrameType, str, Any], None]:
    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_call" and _qt_owner(arg).startswith(("PySide6", "shiboken6")):
            QT_CALLS_OFF_GUI_THREAD.append(
                f"{job}: {getattr(arg, '__qualname__', arg)!s} "
                f"({frame.f_code.co_filename}:{frame.f_lineno})")
        elif event == "call" and frame.f_code.co_name == "<module>" and any(
                p in frame.f_code.co_filename for p in _QT_MODULE_PATHS):
            QT_CALLS_OFF_GUI_THREAD.append(
                f"{job}: imported the Qt module {frame.f_code.co_filename}")
    return hook


def _accepts_progress(fn: Callable[..., Any]) -> bool:
    try:
        return "progress" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class GuiThreadCollector(QObject):
    """While any job may run, Python's automatic cyclic garbage collection is off and this
    timer collects on the GUI thread instead (`collect_young`; Anki's GarbageCollector does the
    same); when every runner is idle and no pool thread is still ending a job, the automatic
    collection is given back. One per process, made on the GUI thread by the first runner."""

    INTERVAL_MS = 200
    FULL_EVERY_S = 60.0

    def __init__(self) -> None:
        super().__init__()
        self.runners: list[JobRunner] = []
        self.held_since = 0.0
        self.owns = False  # automatic collection was on and is off because of us
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)

    def hold(self, runner: JobRunner, *, paused: bool = False) -> None:
        """A job is about to start on `runner` (`paused`: or runs already, while the start
        held the automatic collection off, which is now this collector's to give back)."""
        if runner not in self.runners:
            self.runners.append(runner)
        if not self.owns and (paused or gc.isenabled()):
            gc.disable()
            self.owns = True
            self.held_since = time.monotonic()
        if not self.timer.isActive():
            self.timer.start(self.INTERVAL_MS)

    def tick(self) -> None:
        if self.owns:
            collect_young()
            if time.monotonic() - self.held_since > self.FULL_EVERY_S:
                gc.collect()
                self.held_since = time.monotonic()
        self.runners = [r for r in self.runners if isValid(r) and not r.idle()]
        if not self.runners:
            self.timer.stop()
            if self.owns:  # the automatic collector takes over again, on this thread alone
                self.owns = False
                gc.enable()


def collect_young() -> int:
    """The young generations past their thresholds, as the automatic collector would. The
    oldest is left to it (it collects that only when enough has been promoted since, which
    cannot be read from Python, and a full collection in a large process takes 100 ms or more:
    doing it on every threshold crossing would stall the window), except in a job that runs
    for long, every FULL_EVERY_S."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    found = 0
    for generation in (0, 1):
        if thresholds[generation] == 0 or counts[generation] <= thresholds[generation]:
            return found
        found = gc.collect(generation)
    return found


_collector: GuiThreadCollector | None = None


def gui_thread_collector() -> GuiThreadCollector:
    global _collector
    if _collector is None or not isValid(_collector):
        _collector = GuiThreadCollector()
    return _collector


class JobRunner(QObject):
    busy_changed = Signal(bool, str)

    def __init__(self, max_threads: int = 4) -> None:
        super().__init__()
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self._running: list[Job] = []

    def idle(self) -> bool:
        """No job waiting or running, and no pool thread still ending one."""
        return not self._running and self.pool.activeThreadCount() == 0

    def submit(self, fn: Callable[..., Any], *args: Any,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[int, int, str], None] | None = None,
               name: str = "", **kwargs: Any) -> Job:
        relay = _Relay(on_done, on_error, on_progress, self._release, parent=self)
        job = Job(fn, args, kwargs, relay, name or getattr(fn, "__name__", "job"))
        relay.job = job
        gui_thread_collector().hold(self)
        self._running.append(job)
        self.busy_changed.emit(True, job.name)
        self.pool.start(job)
        return job

    def _release(self, job: Job) -> None:
        if job in self._running:
            self._running.remove(job)
        self.busy_changed.emit(bool(self._running), job.name)

    @property
    def running(self) -> int:
        return len(self._running)

    def running_names(self, exclude: frozenset[str] = frozenset()) -> list[str]:
        """The names of the jobs still running, oldest first, less those in `exclude`."""
        return [j.name for j in self._running if j.name not in exclude]

    def wait(self, msecs: int = 30000) -> bool:
        return bool(self.pool.waitForDone(msecs))
