"""Checking a dialog's fields before it closes. OK (or Enter) runs the same check the service
applies; an `InputError` is shown just under the field it names (told by the error's `hint`),
focus goes to that field and the dialog stays open with everything entered. The service still
checks again when the work runs: this only stops a dialog closing on input it would refuse."""

from __future__ import annotations

from collections.abc import Callable

from smki_desktop.core.errors import InputError
from smki_desktop.gui.qt import QLabel, QWidget
from smki_desktop.gui.tones import text_style


class FieldCheck:
    """The error labels of one dialog's fields, and the check run when it is accepted."""

    def __init__(self) -> None:
        self.fields: list[tuple[QWidget, tuple[str, ...], QLabel]] = []

    def label(self, field: QWidget, *hints: str) -> QLabel:
        """The (hidden) error label for `field`, to put just under it; `hints` are the
        `InputError` hints that name this field (the first field added takes any other)."""
        error = QLabel("")
        error.setObjectName("fieldError")
        error.setStyleSheet(text_style("error"))
        error.setWordWrap(True)
        error.setVisible(False)
        self.fields.append((field, hints, error))
        return error

    def clear(self) -> None:
        for field, _hints, error in self.fields:
            error.setText("")
            error.setVisible(False)
            field.setAccessibleDescription("")

    def show(self, field: QWidget, message: str) -> None:
        """The message under `field` (also its accessible description), focus on it."""
        self.clear()
        for f, _hints, error in self.fields:
            if f is field:
                error.setText(message)
                error.setVisible(True)
        field.setAccessibleDescription(message)
        field.setFocus()

    def passes(self, check: Callable[[], object]) -> bool:
        """Run `check`; on an `InputError` show it at its field and answer False."""
        try:
            check()
        except InputError as exc:
            field = next((f for f, hints, _e in self.fields if exc.hint in hints),
                         self.fields[0][0])
            self.show(field, exc.message)
            return False
        self.clear()
        return True

    def errors(self) -> list[str]:
        """The messages shown (for tests and screen readers)."""
        return [e.text() for _f, _h, e in self.fields if e.text()]
