"""Keys page: this environment's keys, generating a new one (dialog, in the background), and
each key as one object: its details, its CSRs and the certificates and credentials issued for
it, its public key; archive or delete with a reason (refused while a live certificate depends
on the key), from buttons, the right-click menu, or double-click for the details."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.errors import SmkiError
from smki_desktop.core.keys import KeyInfo, KeyType, KeyUsage
from smki_desktop.gui import texts
from smki_desktop.gui.page_op import PageOp
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
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.texts import error_text
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.gui.widgets.details import DetailsTree, wire_row_actions
from smki_desktop.gui.widgets.key_backup import KeyBackupDialog
from smki_desktop.gui.widgets.reason import ReasonDialog
from smki_desktop.services import csr as csr_service
from smki_desktop.services import key_backup, key_lifecycle
from smki_desktop.services import keys as key_service
from smki_desktop.services.view_rows import Row, Section

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

COLUMNS = ["Label", "Usage", "Type", "Location", "Created", "Flags", "Backup", "Key id"]

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


class CsrForKeyDialog(QDialog):
    """Role and EUI for an Organisation CSR made with a key already on the Keys page."""

    def __init__(self, key: KeyInfo, ctx: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Organisation CSR with key {key.short_id}")
        form = QFormLayout(self)
        party = ctx.party()
        self.role = QLineEdit()
        self.role.setPlaceholderText("role code or name, e.g. 02 or supplier")
        self.role.setAccessibleName("Remote Party Role")
        self.eui = QLineEdit(str(party.eui_ranges[0].first) if party else "")
        self.eui.setAccessibleName("Entity EUI-64")
        self.cn = QLineEdit()
        self.cn.setPlaceholderText("optional")
        self.cn.setAccessibleName("Common name (optional)")
        form.addRow(QLabel(f"Key: {key.label} ({key.usage.value})"))
        form.addRow("&Role", self.role)
        form.addRow("&EUI-64", self.eui)
        form.addRow("&Common name", self.cn)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Make CSR")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


class Page(QWidget):
    title = "Keys"
    order = 10
    shows = frozenset({"keys", "certificates"})

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
        lay.addWidget(self.message)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setSizes([400, 200])
        lay.addWidget(split, 1)
        self.refresh()

    def refresh(self) -> None:
        self.keys = key_service.list_keys(self.services.ctx)
        backups = key_backup.backup_status(self.services.ctx)
        self.table.setRowCount(len(self.keys))
        for row, k in enumerate(self.keys):
            backup = backups.get(k.key_id) or (
                "none possible (token)" if key_backup.exportable_problem(k) else "NO BACKUP")
            vals = [k.label, k.usage.value, k.key_type.value, k.location.value,
                    k.created.strftime("%Y-%m-%d %H:%M"), ", ".join(k.flags), backup, k.key_id]
            for col, v in enumerate(vals):
                item = QTableWidgetItem(v)
                if v == "NO BACKUP":
                    item.setToolTip("This key has no backup: a lost keyring or data folder "
                                    "loses it. Use Back up… to make one.")
                self.table.setItem(row, col, item)
        if not self.keys:
            self.details.show_sections([Section("No keys", (Row(
                "", "No keys in this environment yet. Generate one to start."),))])
        elif not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)
        else:
            self.show_details()  # the same row, with what changed (label, CSRs, flags)

    def selected(self) -> KeyInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.keys[rows[0].row()] if rows else None

    def show_details(self) -> None:
        k = self.selected()
        if k is None:
            return
        try:
            obj = key_lifecycle.key_object(self.services.ctx, k.key_id)
        except SmkiError as exc:
            self.message.setText(error_text(exc))
            return
        live = {c.serial for c in obj.live}
        key_rows = (Row("Label", k.label), Row("Key id", k.key_id),
                    Row("Usage", f"{k.usage.value} — {USAGE_HELP[k.usage]}"),
                    Row("Type", k.key_type.value), Row("Environment", k.environment.label),
                    Row("Location", f"{k.location.value} ({k.location_ref})"),
                    Row("Created", k.created.strftime("%Y-%m-%d %H:%M UTC")),
                    Row("Flags", ", ".join(k.flags) or "none", problem=bool(k.flags)))
        csrs = tuple(Row(f"CSR {c.csr_id}", f"{c.family} {c.usage}, made {c.created[:10]}, "
                         f"{c.status}") for c in obj.csrs) or (Row("CSRs", "none yet"),)
        certs = tuple(Row(f"{c.kind.capitalize()} {c.serial}",
                          f"{c.subject} — {c.status}, until {c.not_after[:10] or '?'}"
                          + (" (in use)" if c.serial in live else ""))
                      for c in obj.certificates) or (Row("Certificates", "none yet"),)
        self.details.show_sections([
            Section("Key", key_rows), Section("Requests (CSRs) made with it", csrs),
            Section("Certificates and credentials issued for it", certs),
            Section("Public key", (Row("PEM", key_service.public_pem(k).decode()
                                       .replace("\n", " ").strip()),))],
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
        if k is not None and k.usage in (KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT):
            actions.append(("Make an Organisation CSR with this key…", self.ask_csr))
        return [*actions, ("Archive…", lambda: self.ask_retire("archive")),
                ("Delete…", lambda: self.ask_retire("delete"))]

    def ask_relabel(self) -> None:
        k = self.selected()
        if k is None:
            return
        dlg = ReasonDialog(f"Relabel key {k.short_id}", self)
        dlg.reason.setText(k.label)
        dlg.reason.setAccessibleName("New label")
        self.reason_dialog = dlg
        dlg.accepted.connect(lambda: self._job(
            key_lifecycle.relabel_key, k.key_id, dlg.reason.text(),
            done=lambda r: f"Key {r.key_id[:16]} is now labelled {r.label!r}.",
            name="relabel key"))
        dlg.open()

    def ask_csr(self) -> None:
        """A key made here, used for an Organisation CSR: role and EUI asked, then made."""
        k = self.selected()
        if k is None:
            return
        dlg = CsrForKeyDialog(k, self.services.ctx, self)
        self.csr_dialog = dlg
        dlg.accepted.connect(lambda: self._job(
            csr_service.create_org_csr, k.key_id, dlg.role.text().strip(),
            dlg.eui.text().strip(), dlg.cn.text().strip() or None,
            done=lambda r: (f"Organisation CSR {r.csr_id} made with key {r.key.short_id}: "
                            "submit it from the Requests page."),
            name="CSR with this key"))
        dlg.open()

    def _job(self, fn: Callable[..., object], *args: object, done: Callable[[Any], str],
             name: str) -> None:
        def ok(res: Any) -> None:
            self.message.setText(done(res))
            self.refresh()

        self._op(fn, self.services.ctx, *args, name=name).success(ok).run()

    def _op(self, fn: Callable[..., object], *args: object, name: str) -> PageOp:
        """A key operation: it changes keys; a failure is said on the message line."""
        return PageOp(self, self.services, fn, *args, name=name).changes("keys") \
            .failure(lambda text, _exc: self.message.setText(text))

    def ask_retire(self, action: str) -> None:
        """Archive or delete: the reason first, then the summary (what, which key, the
        environment, what depends on it), then the service in the background."""
        k = self.selected()
        if k is None:
            self.message.setText("Select a key first.")
            return
        dlg = ReasonDialog(f"{action.capitalize()} key {k.short_id}", self)
        self.reason_dialog = dlg

        def reasoned() -> None:
            reason = dlg.reason.text().strip()
            obj = key_lifecycle.key_object(self.services.ctx, k.key_id)
            what = ("Archive this key: it is kept but offered for no new work."
                    if action == "archive" else
                    "Delete this key's private key. This cannot be undone: nothing it "
                    "signed can be signed again with it.")
            ask_confirmation(
                self, lambda: self.retire(action, k.key_id, reason),
                title=f"{action.capitalize()} a key", env=self.services.ctx.env,
                action=f"&{action.capitalize()} key", what=what,
                facts=[("Key", f"{k.label} ({k.short_id})"), ("Usage", k.usage.value),
                       ("Reason", reason), ("CSRs made with it", str(len(obj.csrs))),
                       ("Certificates issued for it", str(len(obj.certificates))),
                       ("Still in use", str(len(obj.live)))],
                warning=("A live certificate depends on this key: the service will refuse."
                         if obj.live else ""))

        dlg.accepted.connect(reasoned)
        dlg.open()

    def retire(self, action: str, key_id: str, reason: str) -> None:
        fn = key_lifecycle.archive_key if action == "archive" else key_lifecycle.delete_key

        def done(res: key_lifecycle.KeyRetired) -> None:
            self.message.setText(f"Key {res.key_id[:16]} "
                                 f"{'archived' if action == 'archive' else 'deleted'}: "
                                 f"{res.reason}")
            self.refresh()

        self._op(fn, self.services.ctx, key_id, reason, name=f"key {action}").success(done).run()

    def copy_id(self) -> None:
        k = self.selected()
        if k is not None:
            QGuiApplication.clipboard().setText(k.key_id)
            self.services.status(f"Copied key id {k.short_id}…")

    def open_backup(self) -> None:
        k = self.selected()
        if k is None:
            return
        problem = key_backup.exportable_problem(k)
        if problem:
            self.services.error("This key cannot be backed up", problem)
            return
        self.backup_dialog = KeyBackupDialog(k, self)
        dlg = self.backup_dialog
        dlg.accepted.connect(lambda: self.backup(k, dlg.target(), dlg.by_shares.isChecked(),
                                                 dlg.threshold.value(), dlg.count.value()))
        dlg.open()

    def backup(self, key: KeyInfo, target: Path, shares: bool, threshold: int,
               count: int) -> None:
        def done(result: key_backup.BackupResult) -> None:
            self.refresh()
            self.services.status(f"Backed up key {key.short_id}: {result.files[0]}")
            if result.warning:
                self.services.error("Separate the shares now", result.warning)

        op = (PageOp(self, self.services, key_backup.backup_with_shares, self.services.ctx,
                     key.key_id, target, threshold, count, name="back up key") if shares else
              PageOp(self, self.services, key_backup.backup_with_passphrase, self.services.ctx,
                     key.key_id, target, name="back up key"))
        op.busy(self.backup_button).changes("keys").success(done) \
            .error_title("Could not back up the key").run()

    def open_generate(self) -> None:
        dlg = GenerateKeyDialog(self)
        dlg.accepted.connect(lambda: self.generate(dlg.chosen_usage(), dlg.label.text().strip()))
        dlg.open()

    def generate(self, usage: KeyUsage, label: str, key_type: KeyType | None = None):  # type: ignore[no-untyped-def]
        self.services.status(f"Generating a {usage.value} key…", 0)

        def done(result: key_service.KeyGenerated) -> None:
            self.refresh()
            for row, k in enumerate(self.keys):
                if k.key_id == result.key.key_id:
                    self.table.selectRow(row)
            self.services.status(f"Generated key {result.key.short_id} ({label}).")

        return PageOp(self, self.services, key_service.generate_key, self.services.ctx, usage,
                      label, key_type, name="generate key") \
            .busy(self.generate_button).changes("keys").success(done) \
            .error_title("Could not generate the key").run()
