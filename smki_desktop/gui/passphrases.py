"""The GUI's `PassphraseProvider`: a token PIN or a passphrase asked in a modal dialog.

Questions come from background jobs (the token is opened inside a job). The job thread may not
touch Qt, so it only emits a signal carrying the question and waits on a `threading.Event`; the
GUI thread shows the dialog and hands the answer back. Cancelling fails the job with a
`Cancelled` that says so, before anything is made. The answer is handed over once and dropped:
it is never logged, kept on the provider or left in the dialog.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from smki_desktop.core.errors import Cancelled, InputError
from smki_desktop.gui.jobs import current_job_name
from smki_desktop.gui.qt import QObject, QWidget, Signal, Slot

if TYPE_CHECKING:
    from smki_desktop.gui.passphrase_dialog import PassphraseDialog


class _Question:
    """One question asked from a job, answered on the GUI thread (a plain class, not a
    dataclass: the window's start makes none, ~0.5 ms each to create)."""

    __slots__ = ("answer", "answered", "confirm", "mismatch", "prompt", "purpose")

    def __init__(self, prompt: str, confirm: bool, purpose: str) -> None:
        self.prompt = prompt
        self.confirm = confirm
        self.purpose = purpose
        self.answered = threading.Event()
        self.answer: str | None = None
        self.mismatch = False


class GuiPassphrases(QObject):
    """Create on the GUI thread; `ask` may be called from any job."""

    _asked = Signal(object)

    def __init__(self, parent_window: QWidget | None = None) -> None:
        super().__init__()
        self._window = parent_window
        self._pending: set[_Question] = set()
        self._lock = threading.Lock()
        self.dialog: PassphraseDialog | None = None  # the one showing (tests answer it)
        self._asked.connect(self._show)

    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        q = _Question(prompt, confirm, current_job_name())
        if threading.current_thread() is threading.main_thread():
            self._run_modal(q)  # asked on the GUI thread itself: answer in a local loop
        else:
            with self._lock:
                self._pending.add(q)
            try:
                self._asked.emit(q)  # the only Qt call made off the GUI thread
                q.answered.wait()
            finally:
                with self._lock:
                    self._pending.discard(q)
        answer, q.answer = q.answer, None
        if q.mismatch:
            raise InputError(f"{prompt}: the two entries differ; nothing was done.")
        if answer is None:
            raise Cancelled(f"{prompt}: cancelled; nothing was done.")
        return answer

    def cancel_all(self) -> None:
        """Answer every open question with Cancel (the window is closing or switching)."""
        with self._lock:
            pending = list(self._pending)
        for q in pending:
            q.answered.set()
        if self.dialog is not None:
            self.dialog.reject()

    # -- GUI thread --------------------------------------------------------------------------
    def _dialog_for(self, q: _Question) -> PassphraseDialog:
        # the dialog's module is loaded when something is first asked, not at start
        from smki_desktop.gui.passphrase_dialog import PassphraseDialog

        return PassphraseDialog(q.prompt, q.purpose, q.confirm, self._parent())

    def _parent(self) -> QWidget | None:
        """The window the officer is using: ceremony mode is a window of its own, often
        full screen, and a PIN dialog over the main window opened behind it, unseen, while
        the step waited for it. The main window when none of ours is active."""
        from smki_desktop.gui.qt import QApplication

        active = QApplication.activeWindow()
        if active is not None and active.isVisible() and active is not self.dialog:
            return active
        return self._window

    def _run_modal(self, q: _Question) -> None:
        dlg = self._dialog_for(q)
        self.dialog = dlg
        try:
            if dlg.exec() == dlg.DialogCode.Accepted.value:
                q.answer, q.mismatch = dlg.take()
            else:
                dlg.take()
        finally:
            self.dialog = None
            dlg.deleteLater()

    @Slot(object)
    def _show(self, q: _Question) -> None:
        if q.answered.is_set():  # cancelled before it could be shown
            return
        dlg = self._dialog_for(q)
        self.dialog = dlg

        def finished(code: int) -> None:
            if code == dlg.DialogCode.Accepted.value:
                q.answer, q.mismatch = dlg.take()
            else:
                dlg.take()
            if self.dialog is dlg:
                self.dialog = None
            dlg.deleteLater()
            q.answered.set()

        dlg.finished.connect(finished)
        dlg.show()
        dlg.activateWindow()
