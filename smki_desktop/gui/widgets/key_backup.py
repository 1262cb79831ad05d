"""The Keys page's "Back up…" dialog: a passphrase file, or M-of-N SLIP-39 shares into a new
folder, one share per named custodian. The backup runs as a job through
`services.key_backup` (the passphrase is asked in the passphrase dialog, typed twice).

OK checks the fields as the service would (`key_backup.check_custodians` for the names): a
refusal stays in the dialog, under the field it concerns, and nothing is written. A refusal
from the service itself (a passphrase too short, a file already there) opens the dialog again,
as it was filled in, with the reason above its buttons (`refused`)."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyInfo
from smki_desktop.gui.folders import last_folder, remember_folder, titled
from smki_desktop.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tones import text_style
from smki_desktop.gui.widgets.field_check import FieldCheck
from smki_desktop.services import key_backup

MAX_SHARES = 16
# the custodians' names scroll past this height, so that 16 of them fit a 1024x700 screen
NAMES_MAX_HEIGHT = 240


def _custodian_label(i: int) -> str:
    """"Custodian &1:" … "Custodian &9:" (Alt+digit), then no mnemonic for 10-16."""
    return f"Custodian &{i}:" if i <= 9 else f"Custodian {i}:"


class KeyBackupDialog(QDialog):
    def __init__(self, key: KeyInfo, parent: QWidget | None = None,
                 env_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.env_dir = env_dir  # where the folder last used is remembered (none: not at all)
        self.setWindowTitle(titled(f"Back up key '{key.label}' ({key.usage.value})",
                                   key.environment))
        self.setMinimumWidth(520)
        self.fields = FieldCheck()
        form = QFormLayout(self)
        about = QLabel(f"Key '{key.label}' ({key.usage.value}), {key.environment.label} "
                       "environment. The backup can be restored into this environment only.")
        about.setTextFormat(Qt.TextFormat.PlainText)  # a label is shown as typed, never HTML
        about.setWordWrap(True)
        form.addRow(about)
        self.by_passphrase = QRadioButton("Under a &passphrase (one encrypted file)")
        self.by_shares = QRadioButton("Split into SLIP-39 &shares among custodians")
        self.by_passphrase.setChecked(True)
        form.addRow(self.by_passphrase)
        form.addRow(self.by_shares)

        self.threshold = QSpinBox()
        self.threshold.setRange(2, MAX_SHARES)
        self.threshold.setValue(3)
        self.threshold.setAccessibleName("Shares needed (M)")
        self.count = QSpinBox()
        self.count.setRange(2, MAX_SHARES)
        self.count.setValue(5)
        self.count.setAccessibleName("Shares made (N)")
        form.addRow("Shares &needed (M):", self.threshold)
        self.threshold_error = self.fields.label(self.threshold, "field.threshold")
        form.addRow("", self.threshold_error)
        form.addRow("Shares &made (N):", self.count)

        # one name per share: a row per custodian (all 16 made, the first N shown), in a
        # scroll area; each row's error label sits just under its field
        self.custodian_fields: list[QLineEdit] = []
        self.custodian_labels: list[QLabel] = []
        self.custodian_rows: list[QWidget] = []
        self.names = names = QWidget()
        names_form = QFormLayout(names)
        names_form.setContentsMargins(4, 4, 4, 4)
        for i in range(1, MAX_SHARES + 1):
            field = QLineEdit()
            field.setObjectName(f"custodian{i}")
            field.setAccessibleName(f"Custodian {i}")
            field.setPlaceholderText("the name of the person who keeps this share")
            row = QWidget()
            rows = QVBoxLayout(row)
            rows.setContentsMargins(0, 0, 0, 0)
            rows.setSpacing(2)
            rows.addWidget(field)
            rows.addWidget(self.fields.label(field, "field.custodians"))
            label = QLabel(_custodian_label(i))
            label.setBuddy(field)
            names_form.addRow(label, row)
            self.custodian_fields.append(field)
            self.custodian_labels.append(label)
            self.custodian_rows.append(row)
        self.names_scroll = QScrollArea()
        self.names_scroll.setWidget(names)
        self.names_scroll.setWidgetResizable(True)
        self.names_scroll.setFrameShape(QFrame.Shape.StyledPanel)
        self.names_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.names_scroll.setMaximumHeight(NAMES_MAX_HEIGHT)
        self.names_title = QLabel("Custodians (each share goes to a different person; "
                                  "their name is written on their share):")
        self.names_title.setWordWrap(True)
        form.addRow(self.names_title)
        form.addRow(self.names_scroll)

        self.path = QLineEdit()
        self.path.setAccessibleName("Write to")
        self.path.setPlaceholderText("a new file (passphrase) or a new folder (shares)")
        self.browse = QPushButton("Br&owse…")
        self.browse.clicked.connect(self.choose_target)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(self.browse)
        write_to = QLabel("&Write to:")
        write_to.setBuddy(self.path)  # Alt+W still goes to the path, beside its Browse…
        form.addRow(write_to, where)
        form.addRow("", self.fields.label(self.path, "field.path"))
        self.refusal = QLabel("")
        self.refusal.setObjectName("backupRefusal")
        self.refusal.setTextFormat(Qt.TextFormat.PlainText)
        self.refusal.setWordWrap(True)
        self.refusal.setStyleSheet(text_style("error", bold=True))
        self.refusal.setVisible(False)
        form.addRow(self.refusal)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Back up")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

        self.by_shares.toggled.connect(self._follow_choice)
        self.count.valueChanged.connect(self._follow_count)
        self._follow_count()
        self._follow_choice()

    def _follow_count(self) -> None:
        """A name field for each of the N shares."""
        n = self.count.value()
        for i, (label, row) in enumerate(zip(self.custodian_labels, self.custodian_rows,
                                             strict=True)):
            label.setVisible(i < n)
            row.setVisible(i < n)
        # the area as tall as its rows, up to NAMES_MAX_HEIGHT (then it scrolls)
        self.names.adjustSize()
        frame = 2 * self.names_scroll.frameWidth()
        self.names_scroll.setMinimumHeight(min(self.names.sizeHint().height() + frame,
                                               NAMES_MAX_HEIGHT))

    def _follow_choice(self) -> None:
        """M, N and the custodians' names only for shares."""
        shares = self.by_shares.isChecked()
        for w in (self.threshold, self.count):
            w.setEnabled(shares)
        self.names_title.setVisible(shares)
        self.names_scroll.setVisible(shares)
        if not shares:
            self.fields.clear()
        self.adjustSize()

    def custodians(self) -> list[str]:
        """The names typed for the N shares, in share order."""
        return [f.text() for f in self.custodian_fields[:self.count.value()]]

    def choose_target(self) -> None:
        """A file (passphrase) or a new folder in a chosen one (shares), from a dialog that
        opens where this environment's last backup went and names the environment."""
        purpose = "key-backup"
        start = last_folder(self.env_dir, purpose) if self.env_dir else Path.home()
        env = self.key.environment
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.key.label)
        if self.by_shares.isChecked():
            folder = QFileDialog.getExistingDirectory(
                self, titled("Folder for the backup shares", env), str(start))
            chosen = Path(folder) / f"{name}-shares" if folder else None
        else:
            path, _ = QFileDialog.getSaveFileName(
                self, titled(f"Back up key '{self.key.label}' to", env),
                str(start / f"{name}.backup"))
            chosen = Path(path) if path else None
        if chosen is None:
            return
        if self.env_dir:
            remember_folder(self.env_dir, purpose, chosen.parent)
        self.path.setText(str(chosen))

    def target(self) -> Path:
        return Path(self.path.text().strip())

    def _check_custodians(self) -> bool:
        """The service's check of the names, one more name at a time: a refusal is shown
        under the first name that makes it (the empty one, the one given a second time)."""
        names = self.custodians()
        for i in range(len(names)):
            try:
                key_backup.check_custodians(names[:i + 1])
            except InputError as exc:
                field = self.custodian_fields[i]
                self.fields.show(field, exc.message)
                self.names_scroll.ensureWidgetVisible(field)
                return False
        return True

    def refused(self, text: str) -> None:
        """The service refused the backup: say why, above the buttons (shown again next)."""
        self.refusal.setText(f"Not backed up: {text}")
        self.refusal.setVisible(True)
        self.adjustSize()  # tall enough for the reason

    def _accept(self) -> None:
        self.fields.clear()
        self.refusal.setVisible(False)
        if self.by_shares.isChecked():
            if self.threshold.value() > self.count.value():
                self.fields.show(self.threshold, "Shares: M cannot be more than N.")
                return
            if not self._check_custodians():
                return
        if not self.path.text().strip():
            self.fields.show(self.path, "Write to: give a file or folder name.")
            return
        self.accept()
