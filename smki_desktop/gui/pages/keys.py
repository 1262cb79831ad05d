"""Keys page: this environment's keys, generating a new one (dialog, in the background), and
a key's details with its public key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smki_desktop.core.errors import SmkiError
from smki_desktop.core.keys import KeyInfo, KeyType, KeyUsage
from smki_desktop.gui import texts
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.services import keys as key_service

if TYPE_CHECKING:
    from smki_desktop.gui.main_window import GuiServices

COLUMNS = ["Label", "Usage", "Type", "Location", "Created", "Flags", "Key id"]

USAGE_HELP = {
    KeyUsage.SIGNING: "Organisation Certificate, digitalSignature (P-256)",
    KeyUsage.KEY_AGREEMENT: "Organisation Certificate, keyAgreement (P-256)",
    KeyUsage.FILE_SIGNING: "your ARO file-signing credential (ADT and quarantine files)",
    KeyUsage.CLIENT_AUTH: "DCC web-service client credential (RSA-2048)",
}


class GenerateKeyDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generate a key")
        form = QFormLayout(self)
        self.usage = QComboBox()
        for u in KeyUsage:
            self.usage.addItem(f"{u.value} — {USAGE_HELP[u]}", u.value)
        self.label = QLineEdit()
        self.label.setPlaceholderText("e.g. supplier DS 2026")
        self.key_type = QLabel()
        self.usage.currentIndexChanged.connect(self._type)
        form.addRow("&Usage", self.usage)
        form.addRow("&Label", self.label)
        form.addRow("Type", self.key_type)
        note = QLabel(texts.KEYRING_HINT)
        note.setWordWrap(True)
        form.addRow(note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Generate")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._type()

    def _type(self) -> None:
        self.key_type.setText(key_service.default_key_type(self.chosen_usage()).value)

    def chosen_usage(self) -> KeyUsage:
        return KeyUsage(self.usage.currentData())

    def _accept(self) -> None:
        if not self.label.text().strip():
            self.label.setFocus()
            self.label.setPlaceholderText("A label is required")
            return
        self.accept()


class Page(QWidget):
    title = "Keys"
    order = 10

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.keys: list[KeyInfo] = []
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.generate_button = QPushButton("&Generate key…")
        self.generate_button.clicked.connect(self.open_generate)
        self.copy_button = QPushButton("&Copy key id")
        self.copy_button.clicked.connect(self.copy_id)
        bar.addWidget(self.generate_button)
        bar.addWidget(self.copy_button)
        bar.addStretch(1)
        lay.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1,
                                                           QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self.show_details)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setObjectName("keyDetails")
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setSizes([400, 200])
        lay.addWidget(split, 1)
        self.refresh()

    def refresh(self) -> None:
        self.keys = key_service.list_keys(self.services.ctx)
        self.table.setRowCount(len(self.keys))
        for row, k in enumerate(self.keys):
            vals = [k.label, k.usage.value, k.key_type.value, k.location.value,
                    k.created.strftime("%Y-%m-%d %H:%M"), ", ".join(k.flags), k.key_id]
            for col, v in enumerate(vals):
                self.table.setItem(row, col, QTableWidgetItem(v))
        self.table.resizeColumnsToContents()
        if not self.keys:
            self.details.setPlainText("No keys in this environment yet. Generate one to start.")
        elif not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)

    def selected(self) -> KeyInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.keys[rows[0].row()] if rows else None

    def show_details(self) -> None:
        k = self.selected()
        if k is None:
            return
        self.details.setPlainText(
            f"Label:       {k.label}\nKey id:      {k.key_id}\nUsage:       {k.usage.value}\n"
            f"Type:        {k.key_type.value}\nEnvironment: {k.environment.label}\n"
            f"Location:    {k.location.value} ({k.location_ref})\n"
            f"Created:     {k.created.isoformat()}\n"
            + (f"Flags:       {', '.join(k.flags)}\n" if k.flags else "")
            + "\n" + key_service.public_pem(k).decode())

    def copy_id(self) -> None:
        k = self.selected()
        if k is not None:
            QGuiApplication.clipboard().setText(k.key_id)
            self.services.status(f"Copied key id {k.short_id}…")

    def open_generate(self) -> None:
        dlg = GenerateKeyDialog(self)
        dlg.accepted.connect(lambda: self.generate(dlg.chosen_usage(), dlg.label.text().strip()))
        dlg.open()

    def generate(self, usage: KeyUsage, label: str, key_type: KeyType | None = None):  # type: ignore[no-untyped-def]
        self.generate_button.setEnabled(False)
        self.services.status(f"Generating a {usage.value} key…", 0)

        def done(result: key_service.KeyGenerated) -> None:
            self.generate_button.setEnabled(True)
            self.refresh()
            for row, k in enumerate(self.keys):
                if k.key_id == result.key.key_id:
                    self.table.selectRow(row)
            self.services.status(f"Generated key {result.key.short_id} ({label}).")

        def failed(exc: BaseException) -> None:
            self.generate_button.setEnabled(True)
            self.services.error("Could not generate the key",
                                exc if isinstance(exc, SmkiError) else repr(exc))

        return self.services.jobs.submit(key_service.generate_key, self.services.ctx, usage,
                                         label, key_type, on_done=done, on_error=failed,
                                         name="generate key")
