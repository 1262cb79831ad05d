"""The one background job runner: a thread pool whose results come back as Qt signals on the
GUI thread. Every keyring, token, network, file and batch operation goes through it.

A job must not call into Qt (see docs/DEVELOPING.md, "Qt belongs to the GUI thread"). With
`SMKI_QT_THREAD_GUARD=1` (the test suite sets it) each job runs under a profile hook that
records any call into a PySide6 object other than emitting a signal, and any import of a module
that builds Qt types (PySide6, pyqtgraph, our `gui` modules); the GUI tests fail on either.
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
import traceback
from collections.abc import Callable
from types import FrameType, ModuleType
from typing import Any

from smki_desktop.gui.qt import QObject, QRunnable, QThreadPool, Signal, Slot, isValid
from smki_desktop.services.context import release_thread_connections

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
                 release: Callable[[Job], None]) -> None:
        super().__init__()
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress
        self._release = release
        self.job: Job | None = None
        self.finished.connect(self._done)
        self.failed.connect(self._error)
        self.progressed.connect(self._progress)

    @Slot(object)
    def _done(self, result: Any) -> None:
        try:
            if self._on_done is not None and _receiver_alive(self._on_done):
                self._on_done(result)
        finally:
            if self.job is not None:
                self._release(self.job)

    @Slot(object)
    def _error(self, exc: BaseException) -> None:
        try:
            if self._on_error is not None and _receiver_alive(self._on_error):
                self._on_error(exc)
        finally:
            if self.job is not None:
                self._release(self.job)

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
                # (before the result is reported, so that whoever waits on it finds them back)
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


class JobRunner(QObject):
    busy_changed = Signal(bool, str)

    def __init__(self, max_threads: int = 4) -> None:
        super().__init__()
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self._running: list[Job] = []

    def submit(self, fn: Callable[..., Any], *args: Any,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[int, int, str], None] | None = None,
               name: str = "", **kwargs: Any) -> Job:
        relay = _Relay(on_done, on_error, on_progress, self._release)
        job = Job(fn, args, kwargs, relay, name or getattr(fn, "__name__", "job"))
        relay.job = job
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

    def wait(self, msecs: int = 30000) -> bool:
        return bool(self.pool.waitForDone(msecs))
