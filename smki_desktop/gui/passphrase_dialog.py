"""The modal dialog that asks for a token PIN or a passphrase (gui/passphrases.py shows it).

Its own module so that the main window, which creates the passphrase provider at start, does not
build the dialog's Qt types (dialog, form, line edit, button box) before anything is asked.

A new key backup's passphrase has a rule (`key_backup.MIN_PASSPHRASE` characters, and not a
guessable one: `key_backup.passphrase_problem`): the dialog says it under the field and checks it
on OK, staying open with the reason, so that a short
passphrase no longer fails the whole backup after the dialog closed. The window title is the
short name of what is asked ("Backup passphrase", "PIN"), the whole question is in the text.
Two entries that differ are caught the same way, on OK, with the focus back in "Again".
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
from smki_desktop.gui.tones import text_style
from smki_desktop.services.key_backup import BACKUP_PROMPT, MIN_PASSPHRASE, passphrase_problem


def short_title(prompt: str) -> str:
    """What is asked, without whose it is: "Backup passphrase for key 3dcb… (walk key 1)" is
    "Backup passphrase" (a title bar cut the long form to "Backup pass… walk key 1)")."""
    return prompt.split(" for ")[0].split(" of ")[0].strip() or "Passphrase"


class PassphraseDialog(QDialog):
    """A small modal dialog: what is asked (the token's name is in the prompt), what for, one
    password field (two when the value must be typed again), OK and Cancel."""

    def __init__(self, prompt: str, purpose: str, confirm: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("passphraseDialog")
        self.setWindowTitle(short_title(prompt))
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        backup = prompt.startswith(BACKUP_PROMPT)
        if backup:
            self.setMinimumWidth(460)  # the rule and the refusal on two lines at most
        self.min_length = MIN_PASSPHRASE if backup else 0
        self.backup = backup  # a new backup's passphrase: the service's whole rule, checked here
        layout = QVBoxLayout(self)
        self.question = QLabel(prompt + (f"\n\nNeeded to: {purpose}." if purpose else ""))
        self.question.setWordWrap(True)
        layout.addWidget(self.question)
        form = QFormLayout()
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName(prompt)
        form.addRow("&Backup passphrase" if backup else "&PIN or passphrase", self.secret)
        self.rule = QLabel(f"At least {self.min_length} characters; a phrase of several "
                           "words is easiest to type and to remember." if backup else "")
        self.rule.setObjectName("passphraseRule")
        self.rule.setWordWrap(True)
        self.rule.setVisible(backup)
        form.addRow(self.rule)  # the whole width: beside the field it was cut off
        self.again: QLineEdit | None = None
        if confirm:
            self.again = QLineEdit()
            self.again.setEchoMode(QLineEdit.EchoMode.Password)
            form.addRow("&Again", self.again)
        layout.addLayout(form)
        self.problem = QLabel("")
        self.problem.setObjectName("passphraseProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(text_style("error"))
        self.problem.setVisible(False)
        layout.addWidget(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.secret.setFocus()

    def _accept(self) -> None:
        """OK: a passphrase shorter than the rule or guessable (`passphrase_problem`), or typed
        differently in Again, is refused here and the dialog stays open (a mismatch closed it,
        and the whole backup was refused afterwards, to be started again)."""
        n = len(self.secret.text())
        if n < self.min_length:
            self._refuse(f"Too short: at least {self.min_length} characters ({n} typed). "
                         "Type a longer passphrase.", self.secret)
            return
        problem = passphrase_problem(self.secret.text()) if self.backup else ""
        if problem:  # guessable (spaces only, a run, a common password): the service's words
            self._refuse(problem, self.secret)
            return
        if self.again is not None and self.again.text() != self.secret.text():
            self.again.clear()
            self._refuse("The two entries differ: type the same passphrase again here (or "
                         "correct the one above first).", self.again)
            return
        self.problem.setVisible(False)
        self.accept()

    def _refuse(self, text: str, field: QLineEdit) -> None:
        """The reason under the fields (the dialog grows to show it), the focus on `field`."""
        self.problem.setText(text)
        self.problem.setVisible(True)
        field.setAccessibleDescription(text)
        field.setFocus()
        field.selectAll()
        layout = self.layout()
        if layout is not None:
            layout.activate()
            need = layout.totalHeightForWidth(self.width())
            if need > self.height():
                self.resize(self.width(), need)

    def take(self) -> tuple[str, bool]:
        """The value typed (and whether the two entries differ), clearing the fields."""
        value = self.secret.text()
        differs = self.again is not None and self.again.text() != value
        self.secret.clear()
        if self.again is not None:
            self.again.clear()
        return value, differs
