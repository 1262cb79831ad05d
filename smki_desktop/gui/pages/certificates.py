"""Certificates page: the certificates of this environment with filters (role, usage, EUI,
status), details as a readable tree (subject decoded as role and EUI, validity, fingerprints,
chain, acceptance findings one by one, key and CSR), export as PEM, DER or chain and copy (menu,
right-click, double-click), import (file or paste, in the background) with the acceptance
result shown, and the Organisation CSR wizard. "Show superseded" lists apart, in a section of
its own that offers no action, the certificates a genuine one with their issuer and serial
replaced (kept for the audit trail, never in use: services/cert_supersede.py): each row names
what replaced it by role and serial, and the selected row's details (subject, issuer, why, the
audit record of its supersession) show under the list, sized to be read on a 1024x700 screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.errors import InputError, SmkiError, StoreUnreachable
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.gui.controllers.certificates_revoke import RevokeController
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QShortcut,
    QSize,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import select_on_focus
from smki_desktop.gui.texts import error_text
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.gui.widgets.details import DetailsTree, wire_row_actions
from smki_desktop.gui.widgets.field_check import FieldCheck
from smki_desktop.gui.widgets.findings import FindingsList
from smki_desktop.gui.widgets.outcome import OutcomeLine
from smki_desktop.gui.widgets.reason import ReasonDialog
from smki_desktop.services import cert_rejection, cert_supersede, cert_view, renewal
from smki_desktop.services import certificates as cert_service
from smki_desktop.services.view_rows import Row, Section

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

COLUMNS = ["Serial", "Role", "EUI", "Usage", "Status", "Not after", "Issuer"]
EMPTY_NOTE = ("No certificates in this environment yet: import one (Import file…, Paste…), or "
              "make an Organisation key and CSR; what the DCC issues for your requests "
              "arrives here.")
NO_MATCH_NOTE = "No certificate matches these filters."
def role_words(code: str) -> str:
    """A Remote Party Role code as the Role column shows it: "supplier (02)"; one that is no
    role code, as it is."""
    try:
        return f"{RemotePartyRole.from_ou(code).name_text} ({code})" if code else ""
    except InputError:
        return code


SUPERSEDED_COLUMNS = ["Serial", "Superseded (UTC)", "Replaced by"]
SUPERSEDED_MIN_HEIGHT = 300  # the note, a header and three rows, and the details under them
SUPERSEDED_TITLE = "Superseded certificates: NOT in use, kept for the audit trail"
SUPERSEDED_NOTE = ("Each was recorded here first, but did not verify under this environment's "
                   "trust anchors (it may be forged); the certificate the DCC issued with its "
                   "issuer and serial, which does, replaced it. None of these is used, "
                   "exported or revoked.")
NO_SUPERSEDED_NOTE = "No superseded certificates in this environment."
SUPERSEDED_PICK = "Select a superseded certificate above for its details"


class PasteDialog(QDialog):
    """The certificate's text, pasted. Tab leaves the text for the buttons (a certificate has
    no tab characters), Ctrl+Enter imports from the text, an empty paste is named here."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Paste a certificate")
        self.setMinimumWidth(520)
        box = QVBoxLayout(self)
        label = QLabel("&Certificate: its PEM text (-----BEGIN CERTIFICATE-----…), or the "
                       "Base64 of its DER")
        label.setWordWrap(True)
        box.addWidget(label)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("PEM or Base64")
        self.text.setTabChangesFocus(True)
        label.setBuddy(self.text)
        box.addWidget(self.text)
        self.fields = FieldCheck()  # an empty paste is named under the text, not imported
        box.addWidget(self.fields.label(self.text))  # its one field
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Import")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        box.addWidget(buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self._accept)

    def _accept(self) -> None:
        if self.fields.passes(lambda: _pasted(self.text.toPlainText())):
            self.accept()


def _pasted(text: str) -> str:
    if not text.strip():
        raise InputError("Certificate: nothing pasted yet — paste the certificate's PEM text "
                         "or its Base64.")
    return text


def read_certificate_view(ctx: AppContext, want: dict[str, Any]) -> tuple[Any, list[Any]]:
    """The certificate asked for and its details, as sections (a job: no Qt here)."""
    rec = want["record"]
    return rec, list(cert_view.certificate_view(ctx, rec))


def read_certificates(ctx: AppContext, query: dict[str, str | None]) -> list[Any]:
    """The certificates the filters select (a job: no Qt here)."""
    return list(cert_service.list_certificates(
        ctx, role=query.get("role"), usage=query.get("usage"), eui=query.get("eui"),
        status=query.get("status")))


def read_superseded(ctx: AppContext) -> list[Any]:
    """The superseded certificates (a job: no Qt here)."""
    return list(cert_supersede.list_superseded(ctx))


def superseded_sections(r: cert_supersede.SupersededCertificate) -> list[Section]:
    """A superseded certificate's details: what it was, what replaced it, and the audit
    trail's numbers (secondary: an officer names certificates by serial and role)."""
    audit = (f"audit record {r.audit_record}" if r.audit_record is not None
             else "none the audit log proves")
    was = Section("Superseded certificate (NOT in use)", (
        Row("Serial", r.serial), Row("Why", r.reason, problem=True),
        Row("Status then", r.previous_status),
        Row("Superseded (UTC)", r.superseded_at[:19].replace("T", " ")),
        Row("Subject", r.subject), Row("Issuer", r.issuer), Row("SHA-256", r.sha256)))
    rep = r.replaced_by
    if rep is None:
        by = Section("Replaced by", (Row("Certificate", cert_supersede.NO_REPLACEMENT),))
    else:
        by = Section("Replaced by", tuple(x for x in (
            Row("Role", rep.role_text() or "(none in its subject)"), Row("Serial", rep.serial),
            Row("Subject", rep.subject), Row("Status now", rep.status)) if x.value))
    trail = Section("Audit trail", (Row("Supersession", audit),
                                    Row("Certificate records", f"{r.cert_id}, replaced by "
                                                               f"{r.superseded_by}")))
    return [was, by, trail]


class FittingSplitter(QSplitter):
    """A splitter that asks for no more than its minimum height: the page fits the window
    whenever it can (its frame's scroll area sizes a page with wrapped text to the height it
    prefers, and the panes' preferred heights made a 1024x700 page scroll), the panes
    sharing what there is; it scrolls only below their minimum heights."""

    def sizeHint(self) -> QSize:
        return self.minimumSizeHint().expandedTo(QSize(super().sizeHint().width(), 0))


class SupersededSection(QGroupBox):
    """The superseded certificates, apart from the live ones and with no action on them: a
    row says what it was and what replaced it (its role and serial); the selected row's
    details, under the list, add its subject, issuer, why, and the audit record of its
    supersession. Tall enough to read at 1024x700 (the page scrolls rather than squeeze it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(SUPERSEDED_TITLE, parent)
        self.setObjectName("supersededSection")
        self.setMinimumHeight(SUPERSEDED_MIN_HEIGHT)
        self.records: list[cert_supersede.SupersededCertificate] = []
        self.note = QLabel(SUPERSEDED_NOTE)
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(SUPERSEDED_COLUMNS))
        self.table.setObjectName("supersededTable")
        self.table.setAccessibleName("Superseded certificates (not in use)")
        self.table.setHorizontalHeaderLabels(SUPERSEDED_COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(110)  # a header and three rows
        select_on_focus(self.table)
        # copies only: a superseded certificate is never exported, used or revoked from here
        wire_row_actions(self.table, self.row_actions, lambda: self.details.setFocus())
        self.details = DetailsTree("supersededDetails")
        self.details.setAccessibleName("Superseded certificate details")
        self.details.setMinimumHeight(90)
        self.table.itemSelectionChanged.connect(self._show_details)
        self.split = FittingSplitter(Qt.Orientation.Vertical)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.table)
        self.split.addWidget(self.details)
        self.split.setSizes([50, 50])
        box = QVBoxLayout(self)
        box.addWidget(self.note)
        box.addWidget(self.split, 1)

    def _selected(self) -> cert_supersede.SupersededCertificate | None:
        row = self.table.currentRow()
        return self.records[row] if 0 <= row < len(self.records) else None

    def _show_details(self) -> None:
        """The selected row's details (the selection, not the current cell: selecting on focus
        announces the selection before the current row moves)."""
        rows = sorted({i.row() for i in self.table.selectedItems()})
        r = self.records[rows[0]] if rows and rows[0] < len(self.records) else None
        if r is None:
            self.details.clear()
            if self.records:
                self.details.show_sections([Section(SUPERSEDED_PICK)])
        else:
            self.details.show_sections(superseded_sections(r))

    def row_actions(self) -> list[tuple[str, Callable[[], None]]]:
        r = self._selected()
        if r is None:
            return []
        clip = QGuiApplication.clipboard()
        return [("Copy serial", lambda: clip.setText(r.serial)),
                ("Copy SHA-256 of the superseded certificate", lambda: clip.setText(r.sha256))]

    def show_records(self, records: list[cert_supersede.SupersededCertificate]) -> None:
        self.records = records
        self.note.setText(SUPERSEDED_NOTE if records else NO_SUPERSEDED_NOTE)
        self.table.setRowCount(len(records))
        for i, r in enumerate(records):
            audit = (f"audit record {r.audit_record}" if r.audit_record is not None
                     else "no audit record the log proves")
            replaced = (r.replaced_by.short() if r.replaced_by is not None
                        else cert_supersede.NO_REPLACEMENT)
            cells = [(r.serial, f"Superseded, not in use ({r.previous_status} then): serial "
                                f"{r.serial}; subject {r.subject}; issuer {r.issuer}"),
                     (r.superseded_at[:19].replace("T", " "), f"Superseded: {audit}; why: "
                                                              f"{r.reason}"),
                     (replaced, f"Replaced by {r.replaced_by_words()} ({audit})")]
            for j, (text, tip) in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.table.setItem(i, j, item)
        self._show_details()


class Page(QWidget):
    title = "Certificates"
    order = 20
    shows = frozenset({"certificates", "keys", "requests", "approvals"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.records: list[cert_service.CertRecord] = []
        self.last_result: cert_service.ImportResult | None = None
        self.last_import: cert_service.FileImport | None = None
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
        for w, name in ((self.f_role, "Filter by role"), (self.f_usage, "Filter by usage"),
                        (self.f_eui, "Filter by EUI-64"), (self.f_status, "Filter by status")):
            w.setAccessibleName(name)
            filters.addWidget(w)
        self.f_role.textChanged.connect(self.refresh)
        self.f_eui.textChanged.connect(self.refresh)
        self.f_usage.currentIndexChanged.connect(self.refresh)
        self.f_status.currentIndexChanged.connect(self.refresh)
        self.show_superseded = QCheckBox("Show superse&ded")
        self.show_superseded.setToolTip("List apart the certificates a genuine one replaced "
                                        "(kept for the audit trail, not in use)")
        self.show_superseded.toggled.connect(self._toggle_superseded)
        filters.addWidget(self.show_superseded)
        actions = QHBoxLayout()
        self.import_button = QPushButton("&Import file…")
        self.paste_button = QPushButton("&Paste…")
        self.wizard_button = QPushButton("&New Organisation key and CSR…")
        self.import_button.clicked.connect(self.import_file)
        self.paste_button.clicked.connect(self.import_paste)
        self.wizard_button.clicked.connect(self.open_wizard)
        self.export_button = QPushButton("E&xport…")
        self.export_button.setToolTip("Write the selected certificate as PEM, DER or its "
                                      "chain (PEM)")
        self.copy_button = QPushButton("&Copy PEM")
        self.export_button.clicked.connect(lambda: self.choose_export())
        self.copy_button.clicked.connect(self.copy_pem)
        for b in (self.import_button, self.paste_button, self.wizard_button,
                  self.export_button, self.copy_button):
            actions.addWidget(b)
        actions.addStretch(1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self.show_details)
        wire_row_actions(self.table, self.row_actions, self.focus_details)
        select_on_focus(self.table)
        self._add_revoke_action(actions)
        self.details = DetailsTree("certificateDetails")
        self.result_label = OutcomeLine()  # a failure shows as one (icon, tone, "Failed:")
        self.import_findings = FindingsList("importFindings")  # the last import's, one by one
        split = self.split = FittingSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        self.superseded = SupersededSection()
        self.superseded.hide()
        split.addWidget(self.superseded)
        box = QVBoxLayout(self)
        box.addLayout(actions)
        box.addLayout(filters)
        box.addWidget(self.result_label)
        box.addWidget(self.import_findings)
        box.addWidget(split)
        self.table.itemSelectionChanged.connect(self._update_actions)
        # one table's row at a time: a superseded row selected (same issuer and serial as the
        # live one) must leave nothing for Export, Copy PEM or Revoke to act on
        self.table.itemSelectionChanged.connect(
            lambda: self._only_one(self.table, self.superseded.table))
        self.superseded.table.itemSelectionChanged.connect(
            lambda: self._only_one(self.superseded.table, self.table))
        self.query: dict[str, str | None] = {}  # the filters, as the next read takes them
        self.detail_of: dict[str, Any] = {}  # the certificate the next details read takes
        # a certificate that cannot be read still lists: the failure is said in the line
        self.detail_read = BackgroundRead(
            self, services, read_certificate_view, services.ctx, self.detail_of,
            name="Certificate details", show=self._show_cert_details,
            failed=lambda text, _e: self.result_label.failed(text))
        self.reader = BackgroundRead(self, services, read_certificates, services.ctx,
                                     self.query, name="Certificates", show=self.show_records,
                                     failed=self._read_failed, loading=self.result_label)
        self.superseded_read = BackgroundRead(
            self, services, read_superseded, services.ctx, name="Superseded certificates",
            show=self.superseded.show_records,
            failed=lambda text, _e: self.superseded.note.setText(text))
        self.refresh()
        self._update_actions()

    @staticmethod
    def _only_one(chosen: QTableWidget, other: QTableWidget) -> None:
        if chosen.selectedItems() and other.selectedItems():
            other.clearSelection()

    def _update_actions(self) -> None:
        """Export, Copy PEM and Revoke act on the selected certificate(s): without one they
        are greyed out, not buttons that silently do nothing."""
        has = self.selected() is not None
        for b in (self.export_button, self.copy_button, self.revoke_button):
            b.setEnabled(has)

    def refresh(self) -> None:
        """Read on the job runner with the filters as they are now; shown when it returns."""
        self.query.update(role=self.f_role.text().strip() or None,
                          usage=self.f_usage.currentData() or None,
                          eui=self.f_eui.text().strip() or None,
                          status=self.f_status.currentData() or None)
        self.reader.run()
        if self.show_superseded.isChecked():
            self.superseded_read.run()

    def _toggle_superseded(self, on: bool) -> None:
        """Shown under the live certificates and details, with room for its rows (the
        section's minimum height: a page that cannot hold it scrolls)."""
        self.superseded.setVisible(on)
        if on:
            total = sum(self.split.sizes()) or 600
            self.split.setSizes([total * 30 // 100, total * 15 // 100, total * 55 // 100])
            QTimer.singleShot(0, self, self._scroll_to_superseded)  # once laid out again
            self.superseded_read.run()

    def _scroll_to_superseded(self) -> None:
        """A page taller than the window scrolls (its frame's scroll area): bring the section
        just asked for into view."""
        area = self.parentWidget()
        while area is not None and not isinstance(area, QScrollArea):
            area = area.parentWidget()
        if area is not None and self.superseded.isVisible():
            area.ensureWidgetVisible(self.superseded, 0, 0)

    def _read_failed(self, text: str, exc: BaseException) -> None:
        if not isinstance(exc, SmkiError) or isinstance(exc, StoreUnreachable):
            self.result_label.setText(text)
        # else a filter being typed: the table stays as it was

    def show_records(self, records: list[Any]) -> None:
        self.records = records
        self.table.setRowCount(len(self.records))
        for i, r in enumerate(self.records):
            for j, v in enumerate([r.serial, role_words(r.role or ""), r.eui or r.device_eui or "",
                                   r.usage or "", r.status, (r.not_after or "")[:10],
                                   r.issuer]):
                self.table.setItem(i, j, QTableWidgetItem(v))
        if self.records and not self.table.selectedItems():
            self.table.selectRow(0)  # the details show something at once
        self._explain_empty()

    def _explain_empty(self) -> None:
        """An empty table says why, and what to do; the note goes once a certificate lists
        (other messages are left alone)."""
        filtered = bool(self.f_role.text().strip() or self.f_usage.currentData()
                        or self.f_eui.text().strip() or self.f_status.currentData())
        text = self.result_label.text()
        if self.records:
            if text in (EMPTY_NOTE, NO_MATCH_NOTE):
                self.result_label.clear()
        elif not text or text in (EMPTY_NOTE, NO_MATCH_NOTE):
            self.result_label.setText(NO_MATCH_NOTE if filtered else EMPTY_NOTE)

    def selected(self) -> cert_service.CertRecord | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.records[min(rows)] if rows and min(rows) < len(self.records) else None

    def show_details(self) -> None:
        """The selected certificate's details, read on the job runner."""
        rec = self.selected()
        if rec is None:
            self.details.clear()  # no stale details of a certificate no longer listed
            return
        self.detail_of["record"] = rec
        self.detail_read.run()

    def _show_cert_details(self, read: tuple[Any, list[Any]]) -> None:
        rec, sections = read
        shown = self.selected()
        if shown is None or shown.serial != rec.serial:
            return  # the selection moved on: its own read follows
        self.details.show_sections(sections, collapsed=("Extensions",))

    def focus_details(self) -> None:
        self.show_details()
        self.details.setFocus()

    def row_actions(self) -> list[tuple[str, Callable[[], None]]]:
        if self.selected() is None:
            return []
        return [("Show details", self.focus_details), ("Copy PEM", self.copy_pem),
                ("Export as PEM…", lambda: self.choose_export("pem")),
                ("Export as DER…", lambda: self.choose_export("der")),
                ("Export the chain (PEM)…", lambda: self.choose_export("chain")),
                ("Renew (new key and CSR)…", self.ask_renew),
                ("Record the rejection…", self.ask_reject),
                ("Revoke…", self.revoke_selected)]

    def ask_reject(self) -> None:
        """For a certificate that fails the acceptance check: the reason, the summary, then
        the rejection recorded and the notice for the DCC shown (and copied)."""
        rec = self.selected()
        if rec is None:
            return
        if rec.status != cert_service.TO_BE_REJECTED:
            self.result_label.setText(f"Certificate {rec.serial} is {rec.status}: only a "
                                      "certificate that fails the acceptance check is "
                                      "rejected.")
            return
        dlg = ReasonDialog(f"Reject certificate {rec.serial}", self,
                           check=cert_rejection.check_reason)
        self.reason_dialog = dlg

        def reasoned() -> None:
            reason = dlg.reason.text().strip()
            ask_confirmation(
                self, lambda: self.reject(rec, reason), title="Reject the certificate",
                env=self.services.ctx.env, action="&Record rejection",
                what="Record that this issued certificate is rejected: it will not be used, "
                     "and the notice for the DCC is shown to send.",
                facts=[("Certificate", rec.serial), ("Issuer", rec.issuer),
                       ("Findings", str(len(rec.reasons))), ("Reason", reason)])

        dlg.accepted.connect(reasoned)
        dlg.open()

    def reject(self, rec: cert_service.CertRecord, reason: str) -> None:
        def done(res: cert_rejection.Rejected) -> None:
            QGuiApplication.clipboard().setText(res.notice)
            self.result_label.setText(f"Rejection of {res.serial} recorded; the notice for "
                                      "the DCC is on the clipboard:\n" + res.notice)
            self.refresh()

        self._op(cert_rejection.reject, self.services.ctx, rec.serial, reason, rec.issuer,
                 name="reject certificate").changes("certificates").success(done).run()

    def ask_renew(self) -> None:
        rec = self.selected()
        if rec is None:
            return
        try:
            p = renewal.plan(self.services.ctx, rec.serial, rec.issuer)
        except SmkiError as exc:
            self.result_label.failed(error_text(exc))
            return
        ask_confirmation(
            self, lambda: self.renew(rec), title="Renew the certificate",
            env=self.services.ctx.env, action="&Make key and CSR",
            what="Make a new key and an Organisation CSR for the same role, EUI and usage, "
                 "linked to this certificate. Submit the CSR next (Requests page).",
            facts=[("Certificate", rec.serial), ("Role", p.role), ("EUI", p.eui),
                   ("Usage", p.usage.value), ("Expires", (rec.not_after or "?")[:10])],
            warning=(f"It was renewed before ({len(p.earlier)} time(s)): this makes another "
                     "key and CSR." if p.earlier else ""))

    def renew(self, rec: cert_service.CertRecord) -> None:
        def done(res: renewal.Renewed) -> None:
            self.result_label.setText(
                f"Renewal of {res.old_serial}: new key {res.new_key_id[:16]} and "
                f"Organisation CSR {res.csr.csr_id}. Submit it from the Requests page.")
            self.show_details()

        self._op(renewal.renew, self.services.ctx, rec.serial, rec.issuer,
                 name="renew certificate").changes("keys", "requests").success(done).run()

    def copy_pem(self) -> None:
        rec = self.selected()
        if rec is not None:
            QGuiApplication.clipboard().setText(rec.pem().decode())
            self.services.status(f"Copied certificate {rec.serial} (PEM).")

    def choose_export(self, fmt: str = "pem") -> None:
        rec = self.selected()
        if rec is None:
            self.result_label.setText("Select a certificate first.")
            return
        suffix = {"pem": "pem", "der": "cer", "chain": "chain.pem"}[fmt]
        name, _ = QFileDialog.getSaveFileName(self, f"Export certificate {rec.serial}",
                                              f"{rec.serial}.{suffix}")
        if name:
            self.export(rec, Path(name), fmt)

    def export(self, rec: cert_service.CertRecord, path: Path, fmt: str) -> None:
        """Write in the background (the save dialog has confirmed replacing a file)."""
        def done(res: cert_view.CertExported) -> None:
            self.result_label.setText(f"Wrote certificate {rec.serial} to {res.path} "
                                      f"({fmt.upper()}).")

        self._op(cert_view.export_certificate, self.services.ctx, rec, path, fmt,
                 overwrite=True, name="cert export").success(done).run()

    def _import(self, data: bytes | Path, what: str) -> None:
        """Import every certificate of the file or paste (each with its own verdict, as the
        command line does); the findings are listed under each certificate's "[k of n]"
        (a CA certificate's are not: it is only named, and the profile it fails is a leaf's)."""
        def done(result: cert_service.FileImport) -> None:
            self.last_import = result
            self.last_result = result.worst
            self.result_label.setText(result.message)
            n = len(result.results)
            if n == 1:
                self.import_findings.show_findings(result.worst.findings)
            else:
                self.import_findings.show_groups(
                    [(f"[{i} of {n}] {r.message.splitlines()[0][:90]}", r.findings)
                     for i, r in enumerate(result.results, 1)
                     if r.status != cert_service.CA_CERTIFICATE])
            self.refresh()

        self.import_findings.show_findings([])  # a failed import shows no older findings
        self._op(_import_job, self.services.ctx, data, what=what,
                 name="cert import").changes("certificates").success(done).run()

    def _op(self, fn: Any, *args: Any, name: str, **kwargs: Any) -> PageOp:
        """A certificate job; a failure is said on the result line."""
        return PageOp(self, self.services, fn, *args, name=name, **kwargs) \
            .failure(lambda text, _exc: self.result_label.failed(text))

    def import_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import a certificate")
        if name:
            self._import(Path(name), name)  # read on the job, with the service's size limit

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
        # the right-click menu is the table's row menu (row_actions), where Revoke… is listed

    def revoke_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        self.revoker.open([self.records[r] for r in rows if r < len(self.records)],
                          self.revoke_button)

    def open_wizard(self) -> None:
        """The wizard opens once what it starts from is read (on the job runner)."""
        from smki_desktop.gui.wizards.org_csr import OrgCsrWizard, read_wizard_facts

        def opened(facts: Any) -> None:
            OrgCsrWizard(self.services, self, facts).exec()
            self.refresh()

        PageOp(self, self.services, read_wizard_facts, self.services.ctx,
               name="New Organisation key and CSR").busy(self.wizard_button) \
            .success(opened).run()


def _import_job(ctx: Any, data: bytes | Path, *, what: str) -> cert_service.FileImport:
    """Read a chosen file (bounded, regular files only) and import its certificates."""
    raw = cert_service.read_certificate_file(data) if isinstance(data, Path) else data
    return cert_service.import_certificates(ctx, raw, at=None, what=what)
