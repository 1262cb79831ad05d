"""The modal dialog that asks for a token PIN or a passphrase (gui/passphrases.py shows it).

Its own module so that the main window, which creates the passphrase provider at start, does not
build the dialog's Qt types (dialog, form, line edit, button box) before anything is asked.
"""

from __future__ import annotations

from smki_desktop.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    Qt,
    QVBoxLayout,
    QWidget,
)


class PassphraseDialog(QDialog):
    """A small modal dialog: what is asked (the token's name is in the prompt), what for, one
    password field (two when the value must be typed again), OK and Cancel."""

    def __init__(self, prompt: str, purpose: str, confirm: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("passphraseDialog")
        self.setWindowTitle(prompt)
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        layout = QVBoxLayout(self)
        self.question = QLabel(prompt + (f"\n\nNeeded to: {purpose}." if purpose else ""))
        self.question.setWordWrap(True)
        layout.addWidget(self.question)
        form = QFormLayout()
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName(prompt)
        form.addRow("&PIN or passphrase", self.secret)
        self.again: QLineEdit | None = None
        if confirm:
            self.again = QLineEdit()
            self.again.setEchoMode(QLineEdit.EchoMode.Password)
            form.addRow("&Again", self.again)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.secret.setFocus()

    def take(self) -> tuple[str, bool]:
        """The value typed (and whether the two entries differ), clearing the fields."""
        value = self.secret.text()
        differs = self.again is not None and self.again.text() != value
        self.secret.clear()
        if self.again is not None:
            self.again.clear()
        return value, differs
