"""The Keys page's "Back up…" dialog: a passphrase file, or M-of-N SLIP-39 shares into a new
folder. The backup runs as a job through `services.key_backup` (the passphrase is asked in the
passphrase dialog, typed twice)."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.keys import KeyInfo
from smki_desktop.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    Qt,
    QWidget,
)


class KeyBackupDialog(QDialog):
    def __init__(self, key: KeyInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setWindowTitle(f"Back up key {key.short_id}")
        form = QFormLayout(self)
        about = QLabel(f"Key '{key.label}' ({key.usage.value}), {key.environment.label} "
                       "environment. The backup can be restored into this environment only.")
        about.setTextFormat(Qt.TextFormat.PlainText)  # a label is shown as typed, never HTML
        form.addRow(about)
        self.by_passphrase = QRadioButton("Under a &passphrase (one encrypted file)")
        self.by_shares = QRadioButton("Split into SLIP-39 &shares among custodians")
        self.by_passphrase.setChecked(True)
        form.addRow(self.by_passphrase)
        form.addRow(self.by_shares)
        self.threshold = QSpinBox()
        self.threshold.setRange(2, 16)
        self.threshold.setValue(3)
        self.count = QSpinBox()
        self.count.setRange(2, 16)
        self.count.setValue(5)
        form.addRow("Shares needed (M)", self.threshold)
        form.addRow("Shares made (N)", self.count)
        self.path = QLineEdit()
        self.path.setPlaceholderText("a new file (passphrase) or a new folder (shares)")
        form.addRow("&Write to", self.path)
        self.problem = QLabel()
        self.problem.setStyleSheet("color:#b00020")
        form.addRow(self.problem)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Back up")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def target(self) -> Path:
        return Path(self.path.text().strip())

    def _accept(self) -> None:
        if not self.path.text().strip():
            self.problem.setText("Write to: give a file or folder name.")
            return
        if self.by_shares.isChecked() and self.threshold.value() > self.count.value():
            self.problem.setText("Shares: M cannot be more than N.")
            return
        self.accept()
