"""The window's status line: a short message about what just happened on the page shown, and
the recent ones kept for reading again.

A message belongs to the page it was said on: the window clears it when the officer moves to
another page or environment (`clearMessage`), where it no longer applies. A message too long
for the line (a 1024-px screen) is cut with "…" and whole in its tooltip; every message, with
the time and the page it was said on, stays in "Recent messages" (the button at the right of
the line, the Help menu, or Ctrl+Shift+M), a read-only list that can be selected and copied.

`showMessage`, `currentMessage` and `clearMessage` keep QStatusBar's names (and give the whole
text), so the window and the tests call them as before; Qt's own temporary message (drawn
clipped, without "…") is not used.

A failure is never said like a success: a message that starts with "Failed", "Could not",
"Refused" or "Cannot" (`widgets.outcome.is_failure`; `GuiServices.failed` makes one) has the
style's warning icon before it and the `error` tone, and a screen reader hears "Failed" first.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any, NamedTuple

from smki_desktop.gui.qt import (
    QLabel,
    QSizePolicy,
    QStatusBar,
    Qt,
    QTimer,
    QToolButton,
    QWidget,
    set_enum_property,
)
from smki_desktop.gui.widgets.outcome import dress_icon, dress_text, icon_label, is_failure

if TYPE_CHECKING:
    from smki_desktop.gui.recent_messages import MessagesDialog

HISTORY = 20  # messages kept for "Recent messages" (the window's lifetime, never on disk)


class Said(NamedTuple):
    """One message as said: when (local time), where (environment · page) and what. (A named
    tuple, not a dataclass: the window's shell makes none, ~0.5 ms each to create.)"""

    at: str
    where: str
    text: str

    def line(self) -> str:
        return f"{self.at}  {self.where}\n{self.text}"


class MessageLabel(QLabel):
    """The message itself: as wide as the line leaves it, cut with "…" when longer (the whole
    text in its tooltip and accessible description); a click opens the recent messages."""

    def __init__(self, on_click: Any) -> None:
        super().__init__("")
        self.setObjectName("statusMessage")
        self.whole = ""
        self._on_click = on_click
        # the layout gives it the room left; its text never widens the window
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)

    def say(self, text: str, kind: str = "") -> None:
        self.whole = text
        self.setToolTip(text)
        self.setAccessibleName("Status message")
        self.setAccessibleDescription(text if kind != "failed" or text.lower().startswith(
            "failed") else f"Failed: {text}")
        dress_text(self, kind)
        self._fit()

    def _fit(self) -> None:
        if not self.whole:  # no message (as at start): nothing to cut, and no need to build
            self.setText("")  # PySide's whole `Qt` namespace for its elide mode (~15 ms)
            return
        room = max(self.contentsRect().width(), 40)
        self.setText(self.fontMetrics().elidedText(self.whole, Qt.TextElideMode.ElideRight,
                                                   room))

    def cut(self) -> bool:
        """The text shown is shorter than the message (it ends with "…")."""
        return self.text() != self.whole

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._fit()

    def mousePressEvent(self, event: Any) -> None:
        self._on_click()


class StatusLine(QStatusBar):
    """The status bar with page-bound, readable messages (see the module's docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusLine")
        self.said: deque[Said] = deque(maxlen=HISTORY)
        self.where = ""  # the environment and page shown: the window keeps it current
        self.idle: QWidget | None = None  # shown while no message is (the officer line)
        self.dialog: MessagesDialog | None = None
        self._current = ""  # the message as said (the label shows it on one line)
        self.message = MessageLabel(self.open_recent)
        self.message.setVisible(False)
        self.icon = icon_label()  # a failure's warning icon, before its message
        self.addWidget(self.icon)
        self.addWidget(self.message, 1)
        self.kind = ""  # "failed" while the message shown says that something failed
        self.recent_button = QToolButton()
        self.recent_button.setObjectName("recentMessagesButton")
        self.recent_button.setText("Messages")
        self.recent_button.setAccessibleName("Recent messages")
        self.recent_button.setToolTip("The recent messages, whole (Ctrl+Shift+M)")
        # by name: Qt.FocusPolicy would build PySide's whole `Qt` namespace at start (~15 ms)
        set_enum_property(self.recent_button, "focusPolicy", "StrongFocus")
        self.recent_button.clicked.connect(self.open_recent)
        self.addPermanentWidget(self.recent_button)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clearMessage)

    def set_idle(self, widget: QWidget) -> None:
        """The widget the line shows when no message is (added before the message)."""
        self.idle = widget
        self.insertWidget(0, widget)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # type: ignore[override]
        """Say `text` until `timeout` ms pass (0: until cleared) or the page changes."""
        if not text.strip():
            self.clearMessage()
            return
        self._current = text
        self.said.append(Said(time.strftime("%H:%M:%S"), self.where, text.strip()))
        if self.idle is not None:
            self.idle.setVisible(False)
        self.message.setVisible(True)
        self.kind = "failed" if is_failure(text) else ""
        dress_icon(self.icon, self.kind)
        # on one line; whole in the recent messages
        self.message.say(" ".join(text.split()), self.kind)
        if timeout > 0:
            self._timer.start(timeout)
        else:
            self._timer.stop()

    def currentMessage(self) -> str:  # type: ignore[override]
        return self._current

    def clearMessage(self) -> None:  # type: ignore[override]
        self._timer.stop()
        self._current = ""
        self.kind = ""
        self.message.say("")
        self.message.setVisible(False)
        dress_icon(self.icon, "")
        if self.idle is not None:
            self.idle.setVisible(True)

    def open_recent(self) -> None:
        """The recent messages, in a dialog of their own (opened, not run: nothing waits; its
        module is imported when first asked for, not at start)."""
        from smki_desktop.gui.recent_messages import MessagesDialog

        if self.dialog is not None:
            self.dialog.close()
        dlg = MessagesDialog(self.window(), [s.line() for s in self.said])
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dlg.finished.connect(lambda _r: self._closed(dlg))
        self.dialog = dlg
        dlg.open()

    def _closed(self, dlg: MessagesDialog) -> None:
        if self.dialog is dlg:
            self.dialog = None
