"""A one-line reason, required before an act that is recorded with it. OK runs the service's
own check of the reason: an empty one is refused in the dialog, under the field."""

from __future__ import annotations

from collections.abc import Callable

from smki_desktop.core.errors import InputError
from smki_desktop.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QWidget,
)
from smki_desktop.gui.widgets.field_check import FieldCheck


def any_reason(reason: str) -> str:
    """The check when the caller names none: a reason that is not empty."""
    if not reason.strip():
        raise InputError("Reason: say why (it is recorded).", hint="field.reason")
    return reason.strip()


class ReasonDialog(QDialog):
    """Why (required: it goes into the audit log): a key archived or deleted, a certificate
    rejected. `check` is the service's rule for the text (raises `InputError`); `field` and
    `example` name the one line when it is not a reason (a key's new label)."""

    def __init__(self, title: str, parent: QWidget | None = None, *,
                 check: Callable[[str], object] = any_reason, field: str = "&Reason",
                 example: str = "e.g. replaced by a new key; test key no longer needed"
                 ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        # the title (with the key's id) and the placeholder shown whole
        self.setMinimumWidth(480)
        self.check = check
        self.fields = FieldCheck()
        form = QFormLayout(self)
        self.reason = QLineEdit()
        self.reason.setObjectName("reason")
        self.reason.setAccessibleName(field.replace("&", ""))
        self.reason.setPlaceholderText(example)
        form.addRow(field, self.reason)
        self.error = self.fields.label(self.reason, "field.reason", "field.label")
        form.addRow("", self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        if self.fields.passes(lambda: self.check(self.reason.text())):
            super().accept()
