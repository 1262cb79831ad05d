"""Certificates page: the certificates of this environment with filters (role, usage, EUI,
status), details with every profile field decoded, import (file or paste, in the background)
with the acceptance result shown, and the Organisation CSR wizard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.errors import SmkiError
from smki_desktop.gui.controllers.certificates_revoke import RevokeController
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.services import certificates as cert_service

if TYPE_CHECKING:
    from smki_desktop.gui.main_window import GuiServices

COLUMNS = ["Serial", "Role", "EUI", "Usage", "Status", "Not after", "Issuer"]


class PasteDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Paste a certificate")
        box = QVBoxLayout(self)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("PEM or Base64")
        box.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box.addWidget(buttons)


class Page(QWidget):
    title = "Certificates"
    order = 20

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.records: list[cert_service.CertRecord] = []
        self.last_result: cert_service.ImportResult | None = None
        filters = QHBoxLayout()
        self.f_role = QLineEdit()
        self.f_role.setPlaceholderText("role (supplier, 02)")
        self.f_usage = QComboBox()
        for label, value in (("any usage", ""), ("signing", "signing"),
                             ("key agreement", "key-agreement")):
            self.f_usage.addItem(label, value)
        self.f_eui = QLineEdit()
        self.f_eui.setPlaceholderText("EUI-64")
        self.f_status = QComboBox()
        self.f_status.addItem("any status", "")
        for s in cert_service.STATUSES:
            self.f_status.addItem(s, s)
        for w in (self.f_role, self.f_usage, self.f_eui, self.f_status):
            filters.addWidget(w)
        self.f_role.textChanged.connect(self.refresh)
        self.f_eui.textChanged.connect(self.refresh)
        self.f_usage.currentIndexChanged.connect(self.refresh)
        self.f_status.currentIndexChanged.connect(self.refresh)
        actions = QHBoxLayout()
        self.import_button = QPushButton("&Import file…")
        self.paste_button = QPushButton("&Paste…")
        self.wizard_button = QPushButton("&New Organisation key and CSR…")
        self.import_button.clicked.connect(self.import_file)
        self.paste_button.clicked.connect(self.import_paste)
        self.wizard_button.clicked.connect(self.open_wizard)
        for b in (self.import_button, self.paste_button, self.wizard_button):
            actions.addWidget(b)
        actions.addStretch(1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self.show_details)
        self._add_revoke_action(actions)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        box = QVBoxLayout(self)
        box.addLayout(actions)
        box.addLayout(filters)
        box.addWidget(self.result_label)
        box.addWidget(split)
        self.refresh()

    def refresh(self) -> None:
        try:
            self.records = cert_service.list_certificates(
                self.services.ctx, role=self.f_role.text().strip() or None,
                usage=self.f_usage.currentData() or None, eui=self.f_eui.text().strip() or None,
                status=self.f_status.currentData() or None)
        except SmkiError:  # a filter being typed
            return
        self.table.setRowCount(len(self.records))
        for i, r in enumerate(self.records):
            for j, v in enumerate([r.serial, r.role or "", r.eui or r.device_eui or "",
                                   r.usage or "", r.status, (r.not_after or "")[:10],
                                   r.issuer]):
                self.table.setItem(i, j, QTableWidgetItem(v))

    def show_details(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        if not rows:
            return
        rec = self.records[min(rows)]
        self.details.setPlainText(json.dumps(cert_service.certificate_details(rec), indent=2))

    def _import(self, data: bytes, what: str) -> None:
        def done(result: cert_service.ImportResult) -> None:
            self.last_result = result
            self.result_label.setText(result.message)
            self.refresh()

        def failed(exc: BaseException) -> None:
            self.result_label.setText(str(getattr(exc, "message", exc)))

        self.services.jobs.submit(cert_service.import_certificate, self.services.ctx, data,
                                  what=what, on_done=done, on_error=failed, name="cert import")

    def import_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import a certificate")
        if name:
            try:
                data = Path(name).read_bytes()
            except OSError as exc:
                self.result_label.setText(f"{name}: {exc.strerror or exc}")
                return
            self._import(data, name)

    def import_paste(self) -> None:
        dlg = PasteDialog(self)
        if dlg.exec():
            self._import(dlg.text.toPlainText().encode(), "pasted certificate")

    # -- revoke (issue 11): a context-menu entry and a button, one controller ---------------
    def _add_revoke_action(self, actions: QHBoxLayout) -> None:
        self.revoker = RevokeController(self.services, self,
                                        lambda text: self.result_label.setText(text))
        self.revoke_button = QPushButton("Re&voke…")
        self.revoke_button.setToolTip("Request revocation of the selected certificate(s); an "
                                      "SRO approves it in Approvals")
        self.revoke_button.clicked.connect(self.revoke_selected)
        actions.insertWidget(actions.count() - 1, self.revoke_button)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)

    def _context_menu(self, pos: Any) -> None:
        menu = QMenu(self)
        act = menu.addAction("Revoke…")
        act.setEnabled(bool(self.table.selectedItems()))
        act.triggered.connect(self.revoke_selected)
        menu.popup(self.table.viewport().mapToGlobal(pos))
        self.context_menu = menu

    def revoke_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        self.revoker.open([self.records[r] for r in rows if r < len(self.records)])

    def open_wizard(self) -> None:
        from smki_desktop.gui.wizards.org_csr import OrgCsrWizard

        OrgCsrWizard(self.services, self).exec()
        self.refresh()
