"""Keys page: this environment's keys, generating a new one (dialog, in the background), and
each key as one object: its details, its CSRs and the certificates and credentials issued for
it, its public key; archive or delete with a reason (refused while a live certificate depends
on the key), from buttons, the right-click menu, or double-click for the details. A key just
made is selected (and scrolled to), so the next action is on it. In Live without a Party
profile, the actions the service would refuse for want of one are disabled, and the page says
why (and where to set it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyInfo, KeyType, KeyUsage
from smki_desktop.gui.controllers.keys_backup import BackUpKey
from smki_desktop.gui.controllers.keys_csr import MakeCsrWithKey
from smki_desktop.gui.controllers.keys_generate import USAGE_HELP, GenerateKey
from smki_desktop.gui.controllers.keys_names import location_text
from smki_desktop.gui.controllers.keys_relabel import RelabelKey
from smki_desktop.gui.controllers.keys_retire import RetireKey
from smki_desktop.gui.jobs import Job
from smki_desktop.gui.page_op import BackgroundRead
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QDialog,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import select_on_focus
from smki_desktop.gui.tones import text_style
from smki_desktop.gui.widgets.details import DetailsTree, wire_row_actions
from smki_desktop.services import key_backup, key_lifecycle
from smki_desktop.services import keys as key_service
from smki_desktop.services.view_rows import Row, Section

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

COLUMNS = ["Label", "Usage", "Type", "Location", "Created", "Flags", "Backup", "Key id"]
NO_PARTY = ("Live makes no key or CSR without a Party profile. Set the Party profile first "
            "(Dashboard → Edit Party profile).")

def read_key_details(ctx: AppContext, want: dict[str, KeyInfo]) -> tuple[KeyInfo, Any, str]:
    """The key asked for, as one object (CSRs, certificates), and its public key (a job)."""
    k = want["key"]
    return (k, key_lifecycle.key_object(ctx, k.key_id),
            key_service.public_pem(k).decode().replace("\n", " ").strip())


def read_keys(ctx: AppContext) -> tuple[list[KeyInfo], dict[str, str], bool]:
    """The keys, their backups, and whether Live lacks the Party profile that making a key
    or a CSR needs (a job: no Qt here)."""
    no_party = ctx.env is Environment.LIVE and ctx.party() is None
    return key_service.list_keys(ctx), key_backup.backup_status(ctx), no_party


class Page(QWidget):
    title = "Keys"
    order = 10
    shows = frozenset({"keys", "certificates", "profile"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.keys: list[KeyInfo] = []
        self.no_party = False  # Live without a Party profile: nothing can be made
        self.to_select: str | None = None  # the key to select when the table is next filled
        self.reason_dialog: QDialog | None = None
        self.backup_dialog: QDialog | None = None
        self.csr_dialog: QDialog | None = None
        self.generator = GenerateKey(self)
        self.backer = BackUpKey(self)
        self.retirer = RetireKey(self)
        self.relabeller = RelabelKey(self)
        self.csr_maker = MakeCsrWithKey(self)
        lay = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.generate_button = QPushButton("&Generate key…")
        self.generate_button.clicked.connect(self.open_generate)
        self.copy_button = QPushButton("&Copy key id")
        self.copy_button.clicked.connect(self.copy_id)
        self.archive_button = QPushButton("&Archive…")
        self.archive_button.setToolTip("Keep the key but offer it for no new work")
        self.archive_button.clicked.connect(lambda: self.ask_retire("archive"))
        self.delete_button = QPushButton("&Delete…")
        self.delete_button.setToolTip("Destroy the private key (refused while a live "
                                      "certificate uses it)")
        self.delete_button.clicked.connect(lambda: self.ask_retire("delete"))
        self.backup_button = QPushButton("&Back up…")
        self.backup_button.clicked.connect(self.open_backup)
        for b in (self.generate_button, self.copy_button, self.backup_button,
                  self.archive_button, self.delete_button):
            bar.addWidget(b)
        bar.addStretch(1)
        lay.addLayout(bar)
        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1,
                                                           QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self.show_details)
        wire_row_actions(self.table, self.row_actions, self.focus_details)
        self.details = DetailsTree("keyDetails")
        self.message = QLabel("")
        self.message.setObjectName("keyMessage")
        self.message.setWordWrap(True)
        self.party_note = QLabel(NO_PARTY)
        self.party_note.setObjectName("keyPartyNote")
        self.party_note.setWordWrap(True)
        self.party_note.setStyleSheet(text_style("error", bold=True))
        self.party_note.setVisible(False)
        lay.addWidget(self.party_note)
        lay.addWidget(self.message)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setSizes([400, 200])
        lay.addWidget(split, 1)
        self.reader = BackgroundRead(self, services, read_keys, services.ctx, name="Keys",
                                     show=self.show_keys, loading=self.message)
        self.detail_of: dict[str, KeyInfo] = {}  # the key whose details the next read takes
        self.detail_read = BackgroundRead(self, services, read_key_details, services.ctx,
                                          self.detail_of, name="Key details",
                                          show=self._show_key_details,
                                          failed=lambda text, _e: self.message.setText(text))
        self.refresh()

    def refresh(self) -> None:
        """Read on the job runner; the table is filled when the read returns."""
        self.reader.run()

    def show_keys(self, read: tuple[list[KeyInfo], dict[str, str], bool]) -> None:
        self.keys, backups, self.no_party = read
        self.party_note.setVisible(self.no_party)
        self.generate_button.setEnabled(not self.no_party)
        self.generate_button.setToolTip(NO_PARTY if self.no_party else "")
        self.table.setRowCount(len(self.keys))
        for row, k in enumerate(self.keys):
            backup = backups.get(k.key_id) or (
                "none possible (token)" if key_backup.exportable_problem(k) else "NO BACKUP")
            vals = [k.label, k.usage.value, k.key_type.value, location_text(k),
                    k.created.strftime("%Y-%m-%d %H:%M"), ", ".join(k.flags), backup, k.short_id]
            for col, v in enumerate(vals):
                item = QTableWidgetItem(v)
                if col == len(vals) - 1:  # the short id fits; the whole one is a tooltip
                    item.setToolTip(f"Key id {k.key_id} (Copy key id copies it)")
                if v == "NO BACKUP":
                    item.setToolTip("This key has no backup: a lost keyring or data folder "
                                    "loses it. Use Back up… to make one.")
                self.table.setItem(row, col, item)
        want, self.to_select = self.to_select, None
        if not self.keys:
            self.details.show_sections([Section("No keys", (Row(
                "", "No keys in this environment yet. " + (
                    "Set the Party profile first (Dashboard → Edit Party profile), then "
                    "generate one." if self.no_party else "Generate one to start.")),))])
        elif want is not None and self._select_row(want):
            pass  # the key just made, selected and scrolled to
        elif not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)
        else:
            self.show_details()  # the same row, with what changed (label, CSRs, flags)

    def selected(self) -> KeyInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.keys[rows[0].row()] if rows else None

    def show_details(self) -> None:
        """The selected key's details, read on the job runner."""
        k = self.selected()
        if k is None:
            return
        self.detail_of["key"] = k
        self.detail_read.run()

    def _show_key_details(self, read: tuple[KeyInfo, Any, str]) -> None:
        k, obj, pem = read
        shown = self.selected()
        if shown is None or shown.key_id != k.key_id:
            return  # the selection moved on: its own read follows
        live = {c.serial for c in obj.live}
        key_rows = (Row("Label", k.label),
                    Row("Usage", f"{k.usage.value} — {USAGE_HELP[k.usage]}"),
                    Row("Type", k.key_type.value), Row("Environment", k.environment.label),
                    Row("Location", location_text(k)),
                    Row("Created", k.created.strftime("%Y-%m-%d %H:%M UTC")),
                    Row("Flags", ", ".join(k.flags) or "none", problem=bool(k.flags)),
                    Row("Key id", k.key_id))
        csrs = tuple(Row(f"CSR {c.csr_id}", f"{c.family} {c.usage}, made {c.created[:10]}, "
                         f"{c.status}") for c in obj.csrs) or (Row("CSRs", "none yet"),)
        certs = tuple(Row(f"{c.kind.capitalize()} {c.serial}",
                          f"{c.subject} — {c.status}, until {c.not_after[:10] or '?'}"
                          + (" (in use)" if c.serial in live else ""))
                      for c in obj.certificates) or (Row("Certificates", "none yet"),)
        self.details.show_sections([
            Section("Key", key_rows), Section("Requests (CSRs) made with it", csrs),
            Section("Certificates and credentials issued for it", certs),
            Section("Public key", (Row("PEM", pem),))],
            collapsed=("Public key",))

    def focus_details(self) -> None:
        self.show_details()
        self.details.setFocus()

    def row_actions(self) -> list[tuple[str, Callable[[], None]]]:
        if self.selected() is None:
            return []
        k = self.selected()
        actions: list[tuple[str, Callable[[], None]]] = [
            ("Show details", self.focus_details), ("Copy key id", self.copy_id),
            ("Relabel…", self.ask_relabel)]
        if k is not None and k.usage in (KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT) \
                and not self.no_party:  # Live refuses a CSR without a Party profile
            actions.append(("Make an Organisation CSR with this key…", self.ask_csr))
        return [*actions, ("Archive…", lambda: self.ask_retire("archive")),
                ("Delete…", lambda: self.ask_retire("delete"))]

    # -- actions: one controller each (gui/controllers/keys_*.py); these names stay the
    # page's own for the buttons, the menus and the tests
    def ask_relabel(self) -> None:
        self.relabeller.ask()

    def ask_csr(self) -> None:
        self.csr_maker.ask()

    def ask_retire(self, action: str) -> None:
        self.retirer.ask(action)

    def retire(self, action: str, key_id: str, reason: str) -> None:
        self.retirer.retire(action, key_id, reason)

    def open_backup(self) -> None:
        self.backer.open()

    def backup(self, key: KeyInfo, target: Path, shares: bool, threshold: int,
               count: int, custodians: list[str] | None = None) -> None:
        self.backer.backup(key, target, shares, threshold, count, custodians)

    def open_generate(self) -> None:
        self.generator.open()

    def generate(self, usage: KeyUsage, label: str, key_type: KeyType | None = None) -> Job:
        return self.generator.generate(usage, label, key_type)

    def widget(self) -> QWidget:
        """The page, as the parent of its controllers' dialogs."""
        return self

    def select_key(self, key_id: str) -> None:
        """Select (and scroll to) this key; one not in the table yet (just made: the table
        is being read again) is selected when the read returns."""
        if not self._select_row(key_id):
            self.to_select = key_id

    def _select_row(self, key_id: str) -> bool:
        for row, k in enumerate(self.keys):
            if k.key_id == key_id:
                self.table.selectRow(row)
                item = self.table.item(row, 0)
                if item is not None:
                    self.table.scrollToItem(item)
                return True
        return False

    def copy_id(self) -> None:
        k = self.selected()
        if k is not None:
            QGuiApplication.clipboard().setText(k.key_id)
            self.services.status(f"Copied key id {k.short_id}…")
