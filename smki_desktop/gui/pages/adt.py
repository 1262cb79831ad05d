"""ADT page: create an ADT file from the profile's template or open one, edit it in a table
with every validation finding shown in place (cell colour and tooltip, and a list that jumps to
the cell), save it, sign it with the ARO's file-signing credential, verify a signature, record
the SRO's confirmation and write the delivery package.

Signing, verifying, confirming and packaging run in the job runner (the key store or a token
may ask for a PIN, files may be large); validation of the table runs at once after an edit
(a few milliseconds for thousands of rows).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import Issue, ValidationReport, render_csv, validate
from smki_desktop.core.errors import SmkiError
from smki_desktop.crypto.describe import certificate_summary
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QColor,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.gui.widgets.file_signing import fill_file_signing_keys
from smki_desktop.services import adt as adt_service

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

ISSUE_ROLE = 0x0100 + 7  # Qt.ItemDataRole.UserRole + 7: the Issue behind a list entry


def _colour(severity: str) -> Any:
    return QColor("#F4C7C3") if severity == "error" else QColor("#FFF2CC")


class Page(QWidget):
    title = "ADT"
    order = 50
    shows = frozenset({"adt"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.profile: Profile = adt_service.active_profile(self.ctx, "adt-file")
        self.path: Path | None = None
        self.report: ValidationReport | None = None
        self.busy = False
        self.last_result: Any = None
        self._loading = False
        self.dirty = False  # the table has edits not saved to a file
        self.discard_box: QMessageBox | None = None

        layout = QVBoxLayout(self)
        self.hint = QLabel(f"Anomaly Detection Threshold file — profile {self.profile.ref} "
                           f"({self.profile.status}). Create one from the template or open a "
                           "CSV; findings are shown in the table.")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)

        bar = QHBoxLayout()
        self.new_btn = QPushButton("&New from template")
        self.open_btn = QPushButton("&Open…")
        self.save_btn = QPushButton("&Save")
        self.save_as_btn = QPushButton("Save &as…")
        self.add_row_btn = QPushButton("Add &row")
        self.del_row_btn = QPushButton("&Delete row")
        for b in (self.new_btn, self.open_btn, self.save_btn, self.save_as_btn,
                  self.add_row_btn, self.del_row_btn):
            bar.addWidget(b)
        bar.addStretch(1)
        layout.addLayout(bar)

        sign_bar = QHBoxLayout()
        self.key_combo = QComboBox()
        self.key_combo.setMinimumWidth(280)
        self.smsr_edit = QLineEdit()
        self.smsr_edit.setPlaceholderText("SMSR reference")
        self.smsr_edit.setToolTip("The Service Management Service Request reference the DCC "
                                  "gave for this ADT submission (optional)")
        self.smsr_edit.setAccessibleName("Service Request reference (SMSR)")
        self.smsr_edit.setMinimumWidth(160)
        self.sign_btn = QPushButton("S&ign…")
        self.verify_btn = QPushButton("&Verify…")
        self.decision_combo = QComboBox()
        self.decision_combo.addItem("ADTs apply", "apply")
        self.decision_combo.addItem("Will be resubmitted", "resubmit")
        self.resubmitter_edit = QLineEdit()
        self.resubmitter_edit.setPlaceholderText("Who resubmits")
        self.confirm_btn = QPushButton("SRO &confirm")
        self.deliver_btn = QPushButton("Deli&ver package…")
        key_label = QLabel("File-signing &key:")
        key_label.setBuddy(self.key_combo)
        sign_bar.addWidget(key_label)
        sign_bar.addWidget(self.key_combo, 1)
        sign_bar.addWidget(self.smsr_edit)
        for b in (self.sign_btn, self.verify_btn):
            sign_bar.addWidget(b)
        layout.addLayout(sign_bar)
        sro_bar = QHBoxLayout()
        sro_bar.addWidget(QLabel("SRO confirmation:"))
        sro_bar.addWidget(self.decision_combo)
        sro_bar.addWidget(self.resubmitter_edit, 1)
        sro_bar.addWidget(self.confirm_btn)
        sro_bar.addWidget(self.deliver_btn)
        layout.addLayout(sro_bar)
        self.history = QLabel("")
        self.history.setWordWrap(True)
        layout.addWidget(self.history)

        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(self.profile.columns))
        self.table.setHorizontalHeaderLabels(list(self.profile.column_names))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        for i, col in enumerate(self.profile.columns):
            header = self.table.horizontalHeaderItem(i)
            if header is not None:
                header.setToolTip(col.doc)
        wire_row_actions(self.table, lambda: [("Add row", self.add_row),
                                              ("Delete selected rows", self.delete_row)],
                         lambda: None)
        split.addWidget(self.table)
        self.issues = QListWidget()
        self.issues.setObjectName("adtFindings")
        self.issues.setAccessibleName("Findings in the file (select one to go to its cell)")
        split.addWidget(self.issues)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        self.validation = QLabel("")
        self.validation.setWordWrap(True)
        layout.addWidget(self.validation)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)

        self._revalidate = QTimer(self)
        self._revalidate.setSingleShot(True)
        self._revalidate.setInterval(250)
        self._revalidate.timeout.connect(self.validate_now)

        self.new_btn.clicked.connect(lambda: self.unless_unsaved(self.new_from_template))
        self.open_btn.clicked.connect(lambda: self.unless_unsaved(self._choose_open))
        self.save_btn.clicked.connect(lambda: self.save())
        self.save_as_btn.clicked.connect(self._choose_save_as)
        self.add_row_btn.clicked.connect(self.add_row)
        self.del_row_btn.clicked.connect(self.delete_row)
        self.sign_btn.clicked.connect(self.request_sign)
        self.verify_btn.clicked.connect(self._choose_verify)
        self.confirm_btn.clicked.connect(self.request_confirm)
        self.deliver_btn.clicked.connect(lambda: self.deliver())
        self.table.itemChanged.connect(self._edited)
        self.issues.itemActivated.connect(self._jump)
        self.issues.itemClicked.connect(self._jump)
        self.refresh()

    # -- state ------------------------------------------------------------------------------
    def refresh(self) -> None:
        fill_file_signing_keys(self.key_combo, self.ctx)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_key = bool(self.key_combo.currentData())
        valid = self.report is not None and self.report.ok
        self.sign_btn.setEnabled(not self.busy and has_key and valid and self.path is not None)
        for b in (self.confirm_btn, self.deliver_btn):
            b.setEnabled(not self.busy and self.path is not None)
        self.verify_btn.setEnabled(not self.busy)

    def rows(self) -> list[list[str]]:
        out = []
        for r in range(self.table.rowCount()):
            row = []
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                row.append(item.text() if item is not None else "")
            out.append(row)
        return out

    def set_rows(self, rows: list[list[str]] | list[tuple[str, ...]]) -> None:
        self._loading = True
        try:
            self.table.setRowCount(len(rows))
            for r, row in enumerate(rows):
                for c in range(self.table.columnCount()):
                    self.table.setItem(r, c, QTableWidgetItem(row[c] if c < len(row) else ""))
        finally:
            self._loading = False
        self.validate_now()

    def current_bytes(self) -> bytes:
        return render_csv(self.profile, self.rows())

    # -- actions ----------------------------------------------------------------------------
    def has_unsaved(self) -> bool:
        return self.dirty and self.table.rowCount() > 0

    def unless_unsaved(self, then: Any) -> None:
        """Before the table is replaced: with edits not saved, ask (Keep editing is the
        default; Save; Discard)."""
        if not self.has_unsaved():
            then()
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved ADT edits",
                          "The table has edits that are not saved to a file. Save them first, "
                          "or discard them?", parent=self)
        box.setObjectName("adtDiscardBox")
        keep = box.addButton("&Keep editing", QMessageBox.ButtonRole.RejectRole)
        save = box.addButton("&Save", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("&Discard", QMessageBox.ButtonRole.DestructiveRole)
        for b, name in ((keep, "keepEditing"), (save, "save"), (discard, "discard")):
            b.setObjectName(name)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        self.discard_box = box

        def answered(_r: int) -> None:
            clicked = box.clickedButton()
            if clicked is save:
                if self.save() is not None and not self.dirty:
                    then()
            elif clicked is discard:
                self.dirty = False
                then()

        box.finished.connect(answered)
        box.open()

    def new_from_template(self) -> None:
        from smki_desktop.core.adt.validate import template_rows

        party = self.ctx.party()
        self.path = None
        self.set_rows(template_rows(self.profile, party.eui_ranges[0].first if party else None))
        self.dirty = True  # not in a file yet
        self.services.status("New ADT file from the template: edit it, save it, then sign it.")

    def open_file(self, path: Path) -> None:
        """Load a CSV into the table (read and checked in the job runner). Findings refer to
        the file's own lines; a file that cannot be read as rows (encoding, BOM) is shown as
        findings only."""
        profile, ctx = self.profile, self.ctx

        def load(p: Path) -> ValidationReport:
            # the editor needs the rows; the file's bytes are not held besides them
            return adt_service.validate_file(ctx, p, "adt-file", profile, keep_rows=True)

        def done(report: ValidationReport) -> None:
            self.path = Path(path)
            self.set_rows([list(r.values) for r in report.rows])
            self.dirty = False
            # the file's own findings (encoding, header, blank lines) are shown as read
            self._show(report)

        self._run(load, Path(path), done=done, name="Open ADT file")

    def save(self, path: Path | None = None, overwrite: bool = True) -> Path | None:
        target = Path(path) if path else self.path
        if target is None:
            self._choose_save_as()
            return self.path
        try:
            adt_service.save_edited(self.ctx, target, self.rows(), overwrite=overwrite)
        except SmkiError as exc:
            self.services.error("Save ADT file", exc)
            return None
        self.path = target
        self.dirty = False
        self.validate_now()
        self.services.status(f"Saved {target}.")
        return target

    def show_history(self) -> list[dict[str, Any]]:
        """The open file's signing, confirmation and delivery events, shown under the bar."""
        if self.path is None or not self.path.is_file():
            self.history.setText("")
            return []
        try:
            events = adt_service.history(self.ctx, str(self.path))
        except (SmkiError, OSError):
            events = []
        self.history.setText("History: " + "; ".join(
            f"{e['at'][:19]} {e['event']}" for e in events) if events else
            "History: not signed yet.")
        return events

    def add_row(self) -> None:
        self.table.insertRow(self.table.rowCount())
        self.dirty = True
        self._revalidate.start()

    def delete_row(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            self.table.removeRow(r)
        self.dirty = self.dirty or bool(rows)
        self._revalidate.start()

    def validate_now(self) -> ValidationReport:
        self._revalidate.stop()
        report = validate(self.current_bytes(), self.profile,
                          adt_service.party_ranges(self.ctx))
        self._show(report)
        return report

    def request_sign(self) -> None:
        """The Sign button: a summary of what will be signed and of the existing outputs it
        replaces (a few file look-ups), then `sign()` on confirmation; the officer's answer is
        the service's `overwrite`."""
        if self.path is None:
            self.services.error("Sign", "Save the file first: the signature covers the saved "
                                        "file's exact bytes.")
            return
        in_the_way = adt_service.outputs_in_the_way(self.ctx, self.path)
        facts = [("File", str(self.path)), ("Rows", f"{self.table.rowCount():,}"),
                 ("Signing credential", self.key_combo.currentText()),
                 ("Service Request (SMSR)", self.smsr_edit.text().strip() or "none")]
        if in_the_way:
            facts.append(("Replaces", ", ".join(p.name for p in in_the_way)))
        ask_confirmation(
            self, lambda: self.sign(overwrite=bool(in_the_way)), title="Sign the ADT file",
            env=self.ctx.env, action="&Replace and sign" if in_the_way else "&Sign",
            what="Sign this Anomaly Detection Threshold file with your file-signing "
                 "credential. The signature covers the file exactly as saved.", facts=facts,
            warning="The existing signature, manifest and manifest signature of this file are "
                    "replaced." if in_the_way else "")

    def request_confirm(self) -> None:
        """The SRO confirm button: a summary of the decision that will be signed."""
        if self.path is None:
            return
        decision = self.decision_combo.currentData()
        resubmitter = self.resubmitter_edit.text().strip()
        ask_confirmation(
            self, lambda: self.confirm(decision, resubmitter),
            title="Sign the SRO confirmation", env=self.ctx.env, action="&Sign confirmation",
            what="Sign the SRO's confirmation for this ADT file.",
            facts=[("File", str(self.path)), ("Decision", self.decision_combo.currentText()),
                   ("Resubmitted by", resubmitter or "—"),
                   ("Signing credential", self.key_combo.currentText())])

    def sign(self, overwrite: bool = False) -> None:
        """Sign the saved file; existing outputs are replaced only with `overwrite` (the
        officer's answer), as the service rules for both faces."""
        if self.path is None:
            self.services.error("Sign", "Save the file first: the signature covers the saved "
                                        "file's exact bytes.")
            return
        if self.current_bytes() != self.path.read_bytes():
            saved = self.save(self.path)
            if saved is None:
                return
        key = self.key_combo.currentData()
        self._run(adt_service.sign_file, self.ctx, self.path, key,
                  smsr=self.smsr_edit.text().strip() or None, overwrite=overwrite,
                  done=self._signed, name="Sign ADT file")

    def verify(self, path: Path, sig: Path | None = None) -> None:
        self._run(adt_service.verify_file, self.ctx, path, sig, done=self._verified,
                  name="Verify signature")

    def confirm(self, decision: str = "apply", resubmitter: str = "") -> None:
        if self.path is None:
            return
        self._run(adt_service.confirm, self.ctx, self.path, self.key_combo.currentData() or "",
                  decision=decision, resubmitter=resubmitter,
                  smsr=self.smsr_edit.text().strip() or None, done=self._confirmed,
                  name="SRO confirmation")

    def deliver(self) -> None:
        if self.path is None:
            return
        self._run(adt_service.deliver, self.ctx, self.path, overwrite=True,
                  done=self._delivered, name="Delivery package")

    # -- job plumbing -------------------------------------------------------------------------
    def _run(self, fn: Any, *args: Any, done: Any, name: str, **kwargs: Any) -> None:
        self.summary.setText(f"{name}…")

        def ok(result: Any) -> None:
            self.last_result = result
            done(result)
            self.show_history()
            self._update_buttons()

        def failed(text: str, exc: BaseException) -> None:
            self.last_result = exc
            self.summary.setText(f"{name} failed: {text}")
            self._update_buttons()
            if not isinstance(exc, SmkiError):
                self.services.error(name, exc)

        PageOp(self, self.services, fn, *args, name=name, **kwargs) \
            .busy(hook=self._set_busy).changes("adt").success(ok).failure(failed).run()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._update_buttons()

    def _signed(self, res: adt_service.SignResult) -> None:
        warn = (" " + " ".join(res.warnings)) if res.warnings else ""
        self.summary.setText(
            f"Signed and verified ({self.ctx.env.label}). SHA-256 {res.sha256}\n"
            f"Signature {res.signature.name}, manifest {res.manifest.name}.{warn}")
        self.services.status(f"Signed {res.file.name}.")

    def _verified(self, res: adt_service.VerifyResult) -> None:
        env = res.manifest.environment.label if res.manifest else "unknown (no manifest)"
        signer = certificate_summary(res.verified.signer_certificate)
        when = res.verified.signing_time
        self.summary.setText(
            f"Signature valid, made by {signer}"
            + (f" at {when:%Y-%m-%d %H:%M} UTC" if when else "")
            + f". SHA-256 {res.sha256}; environment {env}; chain "
            + ("checked to a trust anchor" if res.verified.trusted else "not checked") + ".")

    def _confirmed(self, res: adt_service.ConfirmResult) -> None:
        warn = (" " + " ".join(res.warnings)) if res.warnings else ""
        self.summary.setText(f"SRO confirmation ({res.confirmation.decision}) signed: "
                             f"{res.document.name}.{warn}")

    def _delivered(self, res: adt_service.DeliveryResult) -> None:
        self.summary.setText(f"Delivery package {res.package} (SHA-256 {res.sha256}).")

    # -- findings in place --------------------------------------------------------------------
    def _show(self, report: ValidationReport) -> None:
        self.report = report
        self._loading = True
        try:
            for r in range(self.table.rowCount()):
                for c in range(self.table.columnCount()):
                    item = self.table.item(r, c)
                    if item is not None:
                        item.setBackground(QColor(0, 0, 0, 0))
                        item.setToolTip(self.profile.columns[c].doc)
            for issue in report.issues:
                self._mark(issue)
        finally:
            self._loading = False
        self.issues.clear()
        for issue in report.issues:
            entry = QListWidgetItem(("⚠ " if issue.severity == "warning" else "✖ ") + str(issue))
            entry.setData(ISSUE_ROLE, issue)
            self.issues.addItem(entry)
        if report.truncated:
            self.issues.addItem(QListWidgetItem("… " + report.omitted_text()))
        self.validation.setText(report.summary())
        self._update_buttons()

    def _mark(self, issue: Issue) -> None:
        if issue.row_index < 0 or issue.row_index >= self.table.rowCount():
            return
        cols = [issue.column_index - 1] if issue.column_index else \
            list(range(self.table.columnCount()))
        for c in cols:
            item = self.table.item(issue.row_index, c)
            if item is None:
                item = QTableWidgetItem("")
                self.table.setItem(issue.row_index, c, item)
            item.setBackground(_colour(issue.severity))
            item.setToolTip(f"{issue.message} [{issue.rule}]")

    def cell_issue_text(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        return item.toolTip() if item is not None else ""

    def _jump(self, entry: QListWidgetItem) -> None:
        issue = entry.data(ISSUE_ROLE)
        if isinstance(issue, Issue) and issue.row_index >= 0:
            self.table.setCurrentCell(issue.row_index, max(issue.column_index - 1, 0))

    def _edited(self, _item: QTableWidgetItem) -> None:
        if not self._loading:
            self.dirty = True
            self._revalidate.start()

    # -- dialogs ------------------------------------------------------------------------------
    def _choose_open(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open ADT file", "", "CSV (*.csv);;All (*)")
        if name:
            self.open_file(Path(name))

    def _choose_save_as(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save ADT file", "adt.csv", "CSV (*.csv)")
        if name:
            self.save(Path(name))

    def _choose_verify(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "File to verify", "", "All (*)")
        if name:
            self.verify(Path(name))
