"""One page operation: the single way a page runs a user action's service call.

Modelled on Anki's `aqt.operations` (CollectionOp): a page builds a `PageOp` around a service
function, says what to do on success, which controls to disable while it runs and what kinds
of thing it changes, and runs it on the job runner::

    PageOp(self, self.services, key_service.generate_key, ctx, usage, name="Generate key") \\
        .busy(self.generate_btn).changes("keys") \\
        .success(self._generated).failure(self._show_message).run()

While it runs: the given controls are disabled, the page shows the busy cursor, the window's
status line says what is working (the job runner's `busy_changed`). Progress reported by the
service (its `progress=` parameter) reaches `.progress(...)`; `cancel()` asks the service to
stop. At the end, on the GUI thread:

- success: the success callback, then the window refreshes the other built pages that show what
  the operation changed (`GuiServices.changed`);
- cancelled (a `core.errors.Cancelled`, or any failure after the user pressed Cancel): the
  cancel callback, or a status line "… cancelled; nothing was changed." — never an error box;
- failure: the failure callback with `gui.texts.error_text(exc)`, or by default an error box
  titled with the operation's name.

The controls and the cursor are restored first, whatever the outcome. Nothing here runs on the
job's thread except the service function itself.

A read the officer did not ask for (a Dashboard summary, a chart's counts, a badge) is a
`.background()` op: no busy cursor, and a failure without a callback is said on the status
line rather than in an error box. `BackgroundRead` wraps one for what a page shows, so that
neither a page nor the window reads the store on the GUI thread at start, on a timer or when
a page is shown (a team store that does not answer would hold the window until its timeout).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from smki_desktop.core.errors import Cancelled, StoreUnreachable
from smki_desktop.gui.jobs import Job
from smki_desktop.gui.qt import QApplication, Qt, QWidget, isValid
from smki_desktop.gui.services import GuiServices
from smki_desktop.gui.texts import error_text

Outcome = Callable[[Any], None]
Failure = Callable[[str, BaseException], None]
Progress = Callable[[int, int, str], None]
LOADING = "Loading…"  # a page's message line while its first read is under way


class MessageLine(Protocol):
    """A page's message line: a QLabel, or an OutcomeLine (gui/widgets/outcome.py)."""

    def text(self) -> str: ...

    def setText(self, text: str) -> None: ...

    def clear(self) -> None: ...


class PageOp:
    """A service call run as a job on behalf of a page (see the module docstring)."""

    def __init__(self, page: QWidget, services: GuiServices, fn: Callable[..., Any],
                 *args: Any, name: str, **kwargs: Any) -> None:
        self.page, self.services = page, services
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.name = name
        self.job: Job | None = None
        self.started = False
        self.outcome = ""  # "", then "done", "failed" or "cancelled"
        self._widgets: list[QWidget] = []
        self._was_enabled: list[bool] = []
        # keyboard focus: the page's control that had it when the busy state disabled it, and
        # where it was parked meanwhile (see _park_focus, _keep_focus)
        self._focus_before: QWidget | None = None
        self._focus_parked: QWidget | None = None
        self._busy_hook: Callable[[bool], None] | None = None
        self._on_success: Outcome | None = None
        self._on_failure: Failure | None = None
        self._on_cancel: Outcome | None = None
        self._on_progress: Progress | None = None
        self._changes: frozenset[str] = frozenset()
        self._error_title = name
        self._background = False

    # -- building ---------------------------------------------------------------------------
    def busy(self, *widgets: QWidget, hook: Callable[[bool], None] | None = None) -> PageOp:
        """Disable these controls while the operation runs (each gets its own state back);
        `hook(True/False)` for a page whose controls follow more rules than that."""
        self._widgets.extend(widgets)
        if hook is not None:
            self._busy_hook = hook
        return self

    def background(self) -> PageOp:
        """A read the officer did not ask for: no busy cursor; a failure without a callback
        goes to the status line."""
        self._background = True
        return self

    def success(self, callback: Outcome) -> PageOp:
        self._on_success = callback
        return self

    def failure(self, callback: Failure) -> PageOp:
        """Show a failure the page's own way (a message line): `callback(text, exc)` with the
        text from `error_text`. Without it, the failure is shown in an error box."""
        self._on_failure = callback
        return self

    def error_title(self, title: str) -> PageOp:
        """The error box's title when it is not the operation's name ("Could not ...")."""
        self._error_title = title
        return self

    def cancelled(self, callback: Outcome) -> PageOp:
        self._on_cancel = callback
        return self

    def progress(self, callback: Progress) -> PageOp:
        self._on_progress = callback
        return self

    def changes(self, *kinds: str) -> PageOp:
        """What the operation changes ("keys", "certificates", ...: gui.services.CHANGES)."""
        self._changes = self._changes | frozenset(kinds)
        return self

    # -- running ----------------------------------------------------------------------------
    def run(self) -> Job:
        self.started = True  # running from here: the busy hook already sees it so
        self._set_busy(True)
        self.job = self.services.jobs.submit(
            self.fn, *self.args, on_done=self._done, on_error=self._error,
            on_progress=self._progress if self._on_progress is not None else None,
            name=self.name, **self.kwargs)
        return self.job

    @property
    def running(self) -> bool:
        return self.started and not self.outcome

    def cancel(self) -> None:
        """Ask the service to stop (it checks `progress.cancelled`)."""
        if self.running and self.job is not None:
            self.job.cancel()

    # -- the end (GUI thread) ---------------------------------------------------------------
    def _page_alive(self) -> bool:
        return bool(isValid(self.page))

    def _progress(self, done: int, total: int, text: str) -> None:
        if self._on_progress is not None and self._page_alive():
            self._on_progress(done, total, text)

    def _done(self, result: Any) -> None:
        self.outcome = "done"
        if not self._page_alive():
            return
        self._set_busy(False)
        try:
            if self._on_success is not None:
                self._on_success(result)
        except StoreUnreachable as exc:
            # the page read the store on the GUI thread as the job ended, and the team store
            # had gone: the banner says so; what the page showed stays
            self.services.unreachable(exc)
        finally:
            self._notify()

    def _error(self, exc: BaseException) -> None:
        asked = self.job is not None and self.job.progress.cancelled
        self.outcome = "cancelled" if isinstance(exc, Cancelled) or asked else "failed"
        if not self._page_alive():
            return
        self._set_busy(False)
        try:
            if self.outcome == "cancelled":
                if self._on_cancel is not None:
                    self._on_cancel(exc)
                else:
                    self.services.status(f"{self.name} cancelled; nothing was changed.")
            elif self._on_failure is not None:
                self._on_failure(error_text(exc), exc)
            elif self._background:
                if isinstance(exc, StoreUnreachable):
                    self.services.unreachable(exc)
                self.services.failed(f"{self.name}: {error_text(exc)}")
            else:
                self.services.error(self._error_title, exc)
        finally:
            self._notify()  # a batch may have changed part of its work before it stopped

    def _notify(self) -> None:
        if self._changes:
            self.services.changed(self._changes, origin=self.page)

    def _set_busy(self, busy: bool) -> None:
        if busy:
            focused = QApplication.focusWidget()
            if focused is None or not self.page.isAncestorOf(focused):
                focused = self.page.focusWidget()  # a dialog of the page has the keyboard
            self._focus_before = focused if focused is not None and \
                self.page.isAncestorOf(focused) else None
            self._was_enabled = [w.isEnabled() for w in self._widgets]
            for w in self._widgets:
                w.setEnabled(False)
            if not self._background:
                self.page.setCursor(Qt.CursorShape.BusyCursor)
        else:
            for w, enabled in zip(self._widgets, self._was_enabled, strict=True):
                if isValid(w):
                    w.setEnabled(enabled)
            if not self._background:
                self.page.unsetCursor()
        if self._busy_hook is not None:
            self._busy_hook(busy)
        if busy:
            self._park_focus()
        else:
            self._keep_focus()

    def _park_focus(self) -> None:
        """The focused control was disabled for the work: Qt would move the keyboard on to the
        next control (where a key press acts on something else) and then, as more are greyed,
        to nothing. The page itself holds it meanwhile."""
        before = self._focus_before
        if before is None or not isValid(before) or before.isEnabled() \
                or QApplication.focusWidget() is before:
            self._focus_before = None
            return
        self.page.setFocus(Qt.FocusReason.OtherFocusReason)
        self._focus_parked = self.page

    def _keep_focus(self) -> None:
        """The control the officer was on has the keyboard again when the work ends, unless the
        officer has moved it meanwhile (it is no longer where it was parked)."""
        before, parked = self._focus_before, self._focus_parked
        self._focus_before = self._focus_parked = None
        if before is None or not isValid(before) or not (before.isEnabled()
                                                         and before.isVisible()):
            return
        now = QApplication.focusWidget()
        if now is None or now is parked:
            before.setFocus(Qt.FocusReason.OtherFocusReason)



class BackgroundRead:
    """What a page shows, read on the job runner (a `.background()` PageOp): `run()` asks,
    `show(result)` fills the page in on the GUI thread. One read at a time; asked again while
    one runs, it reads once more after it, so that the last ask sees the last change. A team
    store that cannot be reached is said by the window's banner; `failed(text, exc)` may say
    more in the page."""

    def __init__(self, page: QWidget, services: GuiServices, fn: Callable[..., Any],
                 *args: Any, name: str, show: Outcome, failed: Failure | None = None,
                 loading: MessageLine | None = None) -> None:
        self.page, self.services = page, services
        self.fn, self.args, self.name = fn, args, name
        self.show, self.failed = show, failed
        self.loading = loading  # a message line that says LOADING until the first answer
        self.op: PageOp | None = None
        self.again = False

    @classmethod
    def kept(cls, page: QWidget, attr: str, services: GuiServices, fn: Callable[..., Any],
             *args: Any, name: str, show: Outcome, failed: Failure | None = None,
             loading: MessageLine | None = None) -> BackgroundRead:
        """The read the page keeps as `attr`, made on first use (a page's constructor may
        refresh before the rest of it is built)."""
        reader = getattr(page, attr, None)
        if not isinstance(reader, cls):
            reader = cls(page, services, fn, *args, name=name, show=show, failed=failed,
                         loading=loading)
            setattr(page, attr, reader)
        return reader

    def run(self) -> None:
        if self.op is not None and self.op.running:
            self.again = True
            return
        self.again = False
        if self.loading is not None and not self.loading.text():
            self.loading.setText(LOADING)
        self.op = PageOp(self.page, self.services, self.fn, *self.args, name=self.name) \
            .background().success(self._shown).failure(self._failed)
        self.op.run()

    def _shown(self, result: Any) -> None:
        try:
            self._loaded()
            self.show(result)
        finally:
            self._next()

    def _failed(self, text: str, exc: BaseException) -> None:
        try:
            self._loaded()
            if isinstance(exc, StoreUnreachable):
                self.services.unreachable(exc)
            if self.failed is not None:
                self.failed(text, exc)
        finally:
            self._next()

    def _loaded(self) -> None:
        if self.loading is not None and isValid(self.loading) \
                and self.loading.text() == LOADING:
            self.loading.clear()
        self.loading = None

    def _next(self) -> None:
        if self.again and isValid(self.page):
            self.run()
