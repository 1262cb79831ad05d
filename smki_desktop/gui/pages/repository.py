"""Repository page: search the SMKI Repository by subject EUI and role, by device EUI or by
serial, and download the Organisation CRL with its signature checked (in the background)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import select_on_focus
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.services import repository

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

COLUMNS = ["Serial", "Status", "Role", "Usage", "EUI", "Valid to"]


class Page(QWidget):
    title = "Repository"
    order = 70
    shows: frozenset[str] = frozenset()  # searches on demand: nothing to refresh

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.op: PageOp | None = None
        self.results: list[dict[str, Any]] = []
        box = QVBoxLayout(self)
        form = QFormLayout()
        self.eui = QLineEdit()
        self.eui.setPlaceholderText("subject EUI-64, e.g. 90-B3-D5-1F-30-01-00-00")
        self.role = QComboBox()
        self.role.addItem("any role", "")
        for r in RemotePartyRole:
            self.role.addItem(f"{r.name_text} ({r.ou})", r.ou)
        self.device = QLineEdit()
        self.device.setPlaceholderText("device EUI-64, e.g. 00-DB-12-34-56-78-90-01")
        self.serial = QLineEdit()
        self.serial.setPlaceholderText("certificate serial (hex)")
        form.addRow("Subject &EUI", self.eui)
        form.addRow("&Role", self.role)
        form.addRow("&Device EUI", self.device)
        form.addRow("Seria&l", self.serial)
        box.addLayout(form)
        bar = QHBoxLayout()
        self.search_btn = QPushButton("&Search")
        self.crl_btn = QPushButton("Download &CRL")
        bar.addWidget(self.search_btn)
        bar.addWidget(self.crl_btn)
        bar.addStretch(1)
        box.addLayout(bar)
        self.message = QLabel("Search by subject EUI (and role), by device EUI, or by serial.")
        self.message.setWordWrap(True)
        box.addWidget(self.message)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        wire_row_actions(self.table, lambda: [("Copy PEM", self._copy_pem)],
                         lambda: self.pem.setFocus())
        box.addWidget(self.table)
        self.pem = QPlainTextEdit()
        self.pem.setAccessibleName("The selected certificate (PEM)")
        self.pem.setReadOnly(True)
        self.pem.setMaximumHeight(160)
        self.pem.setPlaceholderText("Select a certificate found to see it here (PEM).")
        box.addWidget(self.pem)
        self.search_btn.clicked.connect(self.search)
        self.eui.returnPressed.connect(self.search)
        self.device.returnPressed.connect(self.search)
        self.crl_btn.clicked.connect(self.fetch_crl)
        self.table.itemSelectionChanged.connect(self._show_pem)

    def _copy_pem(self) -> None:
        self._show_pem()
        if self.pem.toPlainText():
            QGuiApplication.clipboard().setText(self.pem.toPlainText())

    @property
    def job(self) -> PageOp | None:
        """The search or download running, if one is."""
        return self.op if self.op is not None and self.op.running else None

    def _op(self, fn: Any, *args: Any, name: str, **kwargs: Any) -> PageOp:
        return PageOp(self, self.services, fn, self.ctx, *args, name=name, **kwargs) \
            .busy(self.search_btn, self.crl_btn).failure(self._failed)

    def search(self) -> None:
        self.message.setText("Searching…")
        self.op = self._op(
            repository.search, subject_eui=self.eui.text().strip() or None,
            role=self.role.currentData() or None, device_eui=self.device.text().strip() or None,
            serial=self.serial.text().strip() or None, name="Repository search") \
            .success(self._found).failure(self._search_failed)
        self.op.run()

    def _found(self, res: repository.SearchResult) -> None:
        self.results = res.as_dict()["results"]
        self.table.setRowCount(len(self.results))
        for row, d in enumerate(self.results):
            cells = [d["serial"], d["status_text"], d["role"] or "-", d["usage"] or "-",
                     d["subject_eui"] or d["device_eui"] or "-", d["not_after"][:10]]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.message.setText(" ".join([f"{len(self.results)} certificate(s) found.",
                                       *res.warnings]))

    def _show_pem(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        self.pem.setPlainText("".join(self.results[r]["pem"] for r in sorted(rows)))

    def fetch_crl(self) -> None:
        self.message.setText("Downloading the Organisation CRL…")
        self.op = self._op(repository.fetch_crl, name="CRL download").success(self._crl)
        self.op.run()

    def _crl(self, res: repository.CrlResult) -> None:
        nxt = f"; next update {res.next_update:%Y-%m-%d %H:%M} UTC" if res.next_update else ""
        self.message.setText(f"CRL from {res.issuer}: signature verified by "
                             f"{res.verified_by}; {len(res.revoked_serials)} revoked{nxt}. "
                             f"Saved to {res.path}.")

    def _failed(self, text: str, _exc: BaseException) -> None:
        self.message.setText(f"Failed: {text}")

    def _search_failed(self, text: str, exc: BaseException) -> None:
        """A failed search has no answer: the last search's rows (and the PEM shown from them)
        go, so the error never sits next to results it did not find."""
        self.table.clearSelection()
        self.table.setRowCount(0)
        self.results = []
        self.pem.clear()
        self._failed(text, exc)
