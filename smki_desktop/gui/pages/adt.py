"""ADT page: create an ADT file from the profile's template or open one, edit it in a table
with every validation finding shown in place (cell colour and tooltip, and a list that jumps to
the cell), save it, sign it with the ARO's file-signing credential, verify a signature, record
the SRO's confirmation and write the delivery package.

The page builds the widgets and holds the open file's state; each user action is a small
controller in `gui/controllers/adt_*.py` (see `adt_view`), which runs its slow work (the key
store or a token may ask for a PIN, files may be large) as a `PageOp`. The table is a Qt
model/view (`gui/adt_table.py`): a file of 100,000 rows is shown without a widget per cell.
Validation runs on the job runner, when a file is opened and a moment after each edit.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import ValidationReport, render_csv
from smki_desktop.core.errors import SmkiError
from smki_desktop.core.eui import EuiRange
from smki_desktop.gui import texts
from smki_desktop.gui.adt_table import AdtModel, AdtTable, FindingsList
from smki_desktop.gui.controllers.adt_confirm import SroConfirm
from smki_desktop.gui.controllers.adt_deliver import DeliverPackage
from smki_desktop.gui.controllers.adt_edit import EditTable
from smki_desktop.gui.controllers.adt_open import OpenFile
from smki_desktop.gui.controllers.adt_sign import SignFile
from smki_desktop.gui.controllers.adt_validate import ShowFindings
from smki_desktop.gui.controllers.adt_verify import VerifySignature
from smki_desktop.gui.page_op import BackgroundRead
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import fit_columns, select_on_focus
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.gui.widgets.file_signing import fill_file_signing_keys, read_file_signing_keys
from smki_desktop.gui.widgets.outcome import OutcomeLine
from smki_desktop.services import adt as adt_service

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext


def read_adt_state(ctx: AppContext) -> tuple[list[tuple[str, str]], list[EuiRange] | None]:
    """The file-signing keys and the Party's EUI ranges (a job: no Qt here)."""
    return read_file_signing_keys(ctx), adt_service.party_ranges(ctx)


class Page(QWidget):
    title = "ADT"
    order = 50
    shows = frozenset({"adt"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        # the packaged default until the version in use is read (a setting in the store)
        self.profile: Profile = adt_service.load_profile("adt-file", None)
        self.path: Path | None = None
        self.report: ValidationReport | None = None
        self.busy = False
        self.last_result: Any = None
        self.loading = False
        self.party_ranges: list[EuiRange] | None = None  # the Party's, once read
        self.dirty = False  # the table has edits not saved to a file
        self.discard_box: QMessageBox | None = None
        self.findings = ShowFindings(self)
        self.opener = OpenFile(self, self.findings.show)
        self.editor = EditTable(self)
        self.signer = SignFile(self)
        self.verifier = VerifySignature(self)
        self.confirmer = SroConfirm(self)
        self.deliverer = DeliverPackage(self)

        layout = QVBoxLayout(self)
        self.hint = QLabel()
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
        self.decision_combo.setAccessibleName("SRO's decision")
        self.resubmitter_edit = QLineEdit()
        self.resubmitter_edit.setPlaceholderText("Who resubmits")
        self.resubmitter_edit.setAccessibleName("Who resubmits the file")
        self.confirm_btn = QPushButton("SRO &confirm")
        self.deliver_btn = QPushButton("Deliver &package…")
        key_label = QLabel("File-signing &key:")
        key_label.setBuddy(self.key_combo)
        sign_bar.addWidget(key_label)
        sign_bar.addWidget(self.key_combo, 1)
        sign_bar.addWidget(self.smsr_edit)
        for b in (self.sign_btn, self.verify_btn):
            sign_bar.addWidget(b)
        layout.addLayout(sign_bar)
        sro_bar = QHBoxLayout()
        decision_label = QLabel("SRO confir&mation:")
        decision_label.setBuddy(self.decision_combo)
        sro_bar.addWidget(decision_label)
        sro_bar.addWidget(self.decision_combo)
        sro_bar.addWidget(self.resubmitter_edit, 1)
        sro_bar.addWidget(self.confirm_btn)
        sro_bar.addWidget(self.deliver_btn)
        layout.addLayout(sro_bar)
        # the outcome of the last action, under the buttons that ask for it: at the foot of
        # the page it was below the fold of a 1024x700 window
        self.summary = OutcomeLine(collapse=True)  # each takes room only while it says something
        layout.addWidget(self.summary)
        self.history = OutcomeLine(collapse=True)
        layout.addWidget(self.history)

        split = QSplitter(Qt.Orientation.Vertical)
        self.model = AdtModel(self)
        self.table = AdtTable(self.model)
        self.table.setAccessibleName("ADT file rows (type in a cell, or F2, to edit it)")
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        fit_columns(self.table)  # the page frame fits only QTableWidgets: a view is ours
        self.use_profile(self.profile)
        BackgroundRead(self, services, adt_service.active_profile, self.ctx, "adt-file",
                       name="ADT profile in use", show=self._profile_read).run()
        wire_row_actions(self.table, lambda: [("Add row", self.add_row),
                                              ("Delete selected rows", self.delete_row)],
                         lambda: None)
        split.addWidget(self.table)
        self.issues = FindingsList()  # each finding wrapped, a few lines high at the least
        self.issues.setObjectName("adtFindings")
        self.issues.setAccessibleName("Findings in the file (select one to go to its cell)")
        split.addWidget(self.issues)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        self.validation = QLabel("")
        self.validation.setWordWrap(True)
        layout.addWidget(self.validation)

        self._revalidate = QTimer(self)
        self._revalidate.setSingleShot(True)
        self._revalidate.setInterval(250)
        self._revalidate.timeout.connect(self._validate_later)

        self.new_btn.clicked.connect(lambda: self.unless_unsaved(self.new_from_template))
        self.open_btn.clicked.connect(lambda: self.unless_unsaved(self.opener.choose))
        self.save_btn.clicked.connect(lambda: self.save())
        self.save_as_btn.clicked.connect(self.editor.choose_save_as)
        self.add_row_btn.clicked.connect(self.add_row)
        self.del_row_btn.clicked.connect(self.delete_row)
        self.sign_btn.clicked.connect(self.request_sign)
        self.verify_btn.clicked.connect(self.verifier.choose)
        self.confirm_btn.clicked.connect(self.request_confirm)
        self.deliver_btn.clicked.connect(lambda: self.deliver())
        self.model.edited.connect(self._edited)
        # Enter or a double-click on a finding takes the keyboard to its cell; a click or the
        # arrow keys select the cell and leave the keyboard in the list
        self.issues.itemActivated.connect(lambda entry: self.findings.jump(entry, focus=True))
        self.issues.itemClicked.connect(self._jump)
        self.issues.currentItemChanged.connect(self._finding_selected)
        self.update_buttons()  # nothing loaded: nothing to save, sign, confirm or deliver
        self.refresh()

    # -- state ------------------------------------------------------------------------------
    def use_profile(self, profile: Profile) -> None:
        """Lay the table and the hint out for this file profile."""
        self.profile = profile
        layout = texts.file_layout("ADT", profile.version, profile.status)
        self.hint.setText(f"Anomaly Detection Threshold file — {layout}. Create one from the "
                          "template or open a CSV; findings are shown in the table.")
        self.hint.setToolTip(f"Profile {profile.ref}")
        # the columns are fitted to the headers and the first rows (`fit_columns`) as the model
        # is reset: sized here, before the page's font is settled, they were cut ("Jser ID")
        self.model.set_columns(profile.column_names, [col.doc for col in profile.columns])

    def _profile_read(self, profile: Profile) -> None:
        """The version in use, read from the store: taken while no file is open here (a file
        opened meanwhile keeps the profile it was read with)."""
        if profile.ref != self.profile.ref and self.path is None \
                and self.table.rowCount() == 0:
            self.use_profile(profile)

    def widget(self) -> QWidget:
        """The page, as the parent of its controllers' dialogs."""
        return self

    def refresh(self) -> None:
        """The file-signing keys and the Party's EUI ranges (for the checks made after an
        edit) are read on the job runner; the chooser follows."""
        BackgroundRead.kept(self, "keys_read", self.services, read_adt_state, self.ctx,
                            name="File-signing keys", show=self._show_keys).run()

    def _show_keys(self, read: tuple[list[tuple[str, str]], list[EuiRange] | None]) -> None:
        keys, ranges = read
        fill_file_signing_keys(self.key_combo, keys)
        self.party_ranges = ranges
        self.update_buttons()

    def has_document(self) -> bool:
        """A file is open or being made (with nothing, Save wrote a header-only file)."""
        return self.path is not None or self.table.rowCount() > 0

    def update_buttons(self) -> None:
        has_key = bool(self.key_combo.currentData())
        valid = self.report is not None and self.report.ok
        self.save_btn.setEnabled(not self.busy and self.dirty and self.has_document())
        self.save_as_btn.setEnabled(not self.busy and self.has_document())
        self.sign_btn.setEnabled(not self.busy and has_key and valid and self.path is not None)
        # the SRO's steps take a valid file as saved; they need not have signed it here (an
        # SRO confirms, and a package is made, from a file an ARO signed on another
        # workstation): delivery takes its signature beside it, the service checks it again
        saved = valid and not self.dirty and self.path is not None
        self.confirm_btn.setEnabled(not self.busy and has_key and saved)
        self.deliver_btn.setEnabled(not self.busy and saved and self.path is not None
                                    and adt_service.default_paths(self.path)[0].is_file())
        self.verify_btn.setEnabled(not self.busy)

    def rows(self) -> list[list[str]]:
        """The table's rows, each as many cells as there are columns (read from the model)."""
        return self.model.rows()

    def set_rows(self, rows: list[list[str]] | list[tuple[str, ...]],
                 report: ValidationReport | None = None, rendered: bytes | None = None) -> None:
        """Put rows in the table; `report` is their findings when already checked (a file
        read on the job runner), else they are checked now (the 3-row template)."""
        self.loading = True
        try:
            # rows read from a file are tuples already: taken as they are (no copy)
            self.model.set_rows(rows if not rows or isinstance(rows[0], tuple)  # type: ignore[arg-type]
                                else [tuple(r) for r in rows])
        finally:
            self.loading = False
        if rendered is not None:  # the rows as the file's bytes, rendered with them
            self.model.keep_rendered(self.model.version, rendered)
        if report is None:
            self.validate_now()
        else:
            self.findings.show(report)

    def current_bytes(self) -> bytes:
        """The table as the file's bytes: rendered on the job runner when the file was read
        or checked, and kept until the next change; else rendered here."""
        cached = self.model.cached_bytes()
        if cached is None:
            cached = render_csv(self.profile, self.rows())
            self.model.keep_rendered(self.model.version, cached)
        return cached

    def has_unsaved(self) -> bool:
        return self.dirty and self.table.rowCount() > 0

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
            f"{texts.plain_time(e['at'])} — {self._event_text(e)}" for e in events) if events else
            "History: not signed yet.")
        return events

    def _event_text(self, event: dict[str, Any]) -> str:
        """An event as the history line says it. The history is of the file's content: an
        event recorded for another file with the same bytes names that file (a copy of the
        sample file was not signed before it existed)."""
        assert self.path is not None
        here = self.path.resolve()
        if event["event"] == "signed":
            where = event.get("path") or ""
            return "signed" if not where or Path(where) == here else \
                f"signed as {where} (same content)"
        where = event.get("document") or event.get("package") or ""
        beside = Path(where).parent == here.parent and \
            Path(where).name.startswith(here.name + ".")
        return event["event"] if not where or beside else \
            f"{event['event']} ({where}, same content)"

    def revalidate_soon(self) -> None:
        self._revalidate.start()

    def validate_now(self) -> ValidationReport:
        """Check the table at once, on this thread (the page checks after an edit on the job
        runner: `revalidate_soon`)."""
        self._revalidate.stop()
        return self.findings.validate_now()

    def _validate_later(self) -> None:
        self.findings.validate_later()

    def _edited(self) -> None:
        if not self.loading:
            self.findings.generation += 1  # a check under way is of the rows before this
            self.dirty = True
            self.update_buttons()  # at once: the table is no longer the file that was signed
            self._revalidate.start()

    # -- actions: one controller each (gui/controllers/adt_*.py); these names stay the page's
    # own for the keyboard, the window (unsaved edits at quit) and the tests
    def unless_unsaved(self, then: Any) -> None:
        self.opener.unless_unsaved(then)

    def new_from_template(self) -> None:
        self.opener.new_from_template()

    def open_file(self, path: Path) -> None:
        self.opener.open_file(path)

    def save(self, path: Path | None = None, overwrite: bool = True) -> Path | None:
        return self.editor.save(path, overwrite)

    def add_row(self) -> None:
        self.editor.add_row()

    def delete_row(self) -> None:
        self.editor.delete_row()

    def request_sign(self) -> None:
        self.signer.request()

    def sign(self, overwrite: bool = False) -> None:
        self.signer.sign(overwrite)

    def verify(self, path: Path, sig: Path | None = None) -> None:
        self.verifier.verify(path, sig)

    def request_confirm(self) -> None:
        self.confirmer.request()

    def confirm(self, decision: str = "apply", resubmitter: str = "") -> None:
        self.confirmer.confirm(decision, resubmitter)

    def deliver(self) -> None:
        self.deliverer.deliver()

    def cell_issue_text(self, row: int, col: int) -> str:
        return self.findings.cell_issue_text(row, col)

    def _jump(self, entry: QListWidgetItem) -> None:
        self.findings.jump(entry)

    def _finding_selected(self, entry: QListWidgetItem | None, _old: object) -> None:
        if entry is not None:
            self.findings.jump(entry)
