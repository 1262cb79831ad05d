"""The one background job runner: a thread pool whose results come back as Qt signals on the
GUI thread. Every keyring, token, network, file and batch operation goes through it."""

from __future__ import annotations

import inspect
import threading
import traceback
from collections.abc import Callable
from typing import Any

from smki_desktop.gui.qt import QObject, QRunnable, QThreadPool, Signal, Slot


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
            if self._on_done is not None:
                self._on_done(result)
        finally:
            if self.job is not None:
                self._release(self.job)

    @Slot(object)
    def _error(self, exc: BaseException) -> None:
        try:
            if self._on_error is not None:
                self._on_error(exc)
        finally:
            if self.job is not None:
                self._release(self.job)

    @Slot(int, int, str)
    def _progress(self, done: int, total: int, text: str) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total, text)


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
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # reported on the GUI thread
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            self.relay.failed.emit(exc)
        else:
            self.relay.finished.emit(result)


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
