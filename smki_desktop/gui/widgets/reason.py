"""A one-line reason, required before an act that is recorded with it."""

from __future__ import annotations

from smki_desktop.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)


class ReasonDialog(QDialog):
    """Why (required: it goes into the audit log): a key archived or deleted, a certificate
    rejected."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setAccessibleName("Reason")
        self.reason.setPlaceholderText("e.g. replaced by a new key; test key no longer needed")
        form.addRow("&Reason", self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._ok)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _ok(self) -> None:
        if not self.reason.text().strip():
            self.reason.setPlaceholderText("A reason is required")
            self.reason.setFocus()
            return
        self.accept()
