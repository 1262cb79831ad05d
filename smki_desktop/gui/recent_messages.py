"""The status line's "Recent messages" dialog (gui/status_line.py): imported when the officer
first opens it, so that the window's start does not make its Qt types (a dialog, its button box,
a plain-text view)."""

from __future__ import annotations

from smki_desktop.gui.qt import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout, QWidget


class MessagesDialog(QDialog):
    """The recent messages, newest first, whole and selectable (Escape or Close closes it)."""

    def __init__(self, parent: QWidget, said: list[str]) -> None:
        """`said`: the messages as said (`Said.line()`), oldest first."""
        super().__init__(parent)
        self.setObjectName("recentMessages")
        self.setWindowTitle("Recent messages")
        self.setAccessibleName("Recent status messages")
        self.resize(640, 360)
        lay = QVBoxLayout(self)
        self.list = QPlainTextEdit()
        self.list.setObjectName("recentMessagesText")
        self.list.setAccessibleName("Recent messages, newest first")
        self.list.setReadOnly(True)
        self.list.setTabChangesFocus(True)  # Tab reaches Close
        self.list.setPlainText("\n\n".join(reversed(said)) or "No messages yet.")
        lay.addWidget(self.list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.list.setFocus()

    def text(self) -> str:
        return self.list.toPlainText()
