"""Officers: the SRO/ARO register with its warnings, new nominations (the wizard), drafts, the
verification meeting record, activation, suspension and revocation, keys and the local
profile link. Every change runs as a background job through the officer services."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.errors import SmkiError
from smki_desktop.core.officers import Officer, Verification
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import select_on_focus
from smki_desktop.gui.texts import error_text
from smki_desktop.gui.tones import text_style
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.gui.widgets.dual_control import ActorPicker
from smki_desktop.services import identity, officer_forms, register_view
from smki_desktop.services import nomination as nom
from smki_desktop.services import officers as svc
from smki_desktop.services import register as register_service

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

COLUMNS = ["ID", "Role", "Status", "Name", "Email", "Nominated", "Verified", "Screening",
           "Credentials", "Last use"]


class VerifyDialog(QDialog):
    """The verification meeting record: date, verifier, GPG45 evidence, outcome. The outcome
    has no default (the officer says what happened); OK checks the answers here and keeps the
    dialog open, with everything typed, when something is wrong."""

    def __init__(self, officer: Officer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Verification meeting — {officer.officer_id}")
        self.verification: Verification | None = None
        # set by the page: records the verification in a job; the dialog closes only when
        # that succeeds (a refusal is shown here, with every answer kept)
        self.submit: Callable[[Verification], None] | None = None
        self.busy = False
        form = QFormLayout(self)
        self.date = QLineEdit()
        self.date.setPlaceholderText("YYYY-MM-DD")
        self.date.setAccessibleName("Meeting date")
        self.verifier = QLineEdit()
        self.verifier.setAccessibleName("Verifier")
        form.addRow("Meeting &date", self.date)
        form.addRow("&Verifier", self.verifier)
        schema = nom.get_form(officer.role.value)
        self.evidence: list[tuple[str, QCheckBox]] = []
        for o in schema.field("verification.evidence").options:
            cb = QCheckBox(o.label)
            cb.setObjectName(f"evidence:{o.value}")
            self.evidence.append((o.value, cb))
            form.addRow("", cb)
        self.outcome = QComboBox()
        self.outcome.setObjectName("outcome")
        self.outcome.setAccessibleName("Outcome")
        self.outcome.addItem("— choose the outcome —", "")
        self.outcome.addItem("Identity verified", "passed")
        self.outcome.addItem("Not verified", "failed")
        form.addRow("&Outcome", self.outcome)
        self.error = QLabel("")
        self.error.setObjectName("verifyError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(text_style("error"))
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[str, str, list[str], str]:
        return (self.date.text(), self.verifier.text(),
                [v for v, cb in self.evidence if cb.isChecked()], self.outcome.currentData())

    def accept(self) -> None:
        if self.busy:
            return
        date, verifier, evidence, outcome = self.values()
        if not outcome:
            self.error.setText("Outcome: choose whether the identity was verified.")
            self.outcome.setFocus()
            return
        try:
            self.verification = svc.parse_verification(date, verifier, evidence, outcome)
        except SmkiError as exc:
            self.error.setText(error_text(exc))
            return
        self.error.setText("")
        if self.submit is None:
            super().accept()
            return
        self.busy = True
        self.error.setStyleSheet(text_style("muted"))
        self.error.setText("Recording…")
        self.submit(self.verification)

    def recorded(self) -> None:
        self.busy = False
        super().accept()

    def refused(self, message: str) -> None:
        self.busy = False
        self.error.setStyleSheet(text_style("error"))
        self.error.setText(message)


class TextDialog(QDialog):
    """One line of text (a reason, a key id)."""

    def __init__(self, title: str, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.edit = QLineEdit()
        form.addRow(label, self.edit)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def read_officers(ctx: AppContext) -> tuple[Any, list[Any], list[dict[str, Any]]]:
    """The register, who could sign here, the saved nomination drafts (a job: no Qt here)."""
    return register_view.register(ctx), identity.signing_choices(ctx), list(nom.list_drafts(ctx))


SELECTED_ACTIONS = ("verify", "activate", "suspend", "revoke", "link_key", "me", "pdf")
NONE_SELECTED = "Select an officer in the register first."


class Page(QWidget):
    title = "Officers"
    order = 60
    shows = frozenset({"officers", "profile"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.officers: list[Officer] = []
        lay = QVBoxLayout(self)
        # two rows, so that every label reads in full at 1024 px: the register, then what
        # is done to the officer selected in the table
        self.buttons: dict[str, QPushButton] = {}
        rows: list[tuple[str, tuple[tuple[str, str, Callable[[], None]], ...]]] = [
            ("Register:", (("nominate", "&New nomination…", self.new_nomination),
                           ("resume", "&Resume draft…", self.resume_draft))),
            ("Selected:", (  # short: the row must fit a laptop screen
                ("verify", "Record &verification…", self.verify),
                ("activate", "&Activate", self.activate),
                ("suspend", "&Suspend…", self.suspend),
                ("revoke", "Revo&ke…", self.revoke),
                ("link_key", "&Link key…", self.link_key),
                ("me", "This is &me", self.link_profile),
                ("pdf", "&Print form…", self.print_form))),
        ]
        self.drafts = QComboBox()
        self.drafts.setObjectName("drafts")
        self.drafts.setAccessibleName("Saved drafts")
        for caption, entries in rows:
            bar = QHBoxLayout()
            bar.addWidget(QLabel(caption))
            for name, text, slot in entries:
                b = QPushButton(text)
                b.setObjectName(f"officer:{name}")
                b.setAccessibleName(text.replace("&", "").rstrip("…"))
                b.clicked.connect(lambda _c=False, f=slot: f())
                self.buttons[name] = b
                bar.addWidget(b)
            if caption == "Register:":  # a label of its own, its Alt letter to the list
                drafts_label = QLabel("Saved &drafts:")
                drafts_label.setBuddy(self.drafts)
                bar.addWidget(drafts_label)
                bar.addWidget(self.drafts, 1)
            bar.addStretch(1)
            lay.addLayout(bar)
        self.actor = ActorPicker()  # who signs activations, suspensions and revocations
        lay.addWidget(self.actor)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("register")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        wire_row_actions(self.table, self.row_actions, self.verify)
        # the "Selected:" buttons only with an officer selected (an empty register had them all
        # enabled, and Alt+A only said "Select an officer first." at the bottom)
        self.table.itemSelectionChanged.connect(self._sync_buttons)
        lay.addWidget(self.table, 3)
        lay.addWidget(QLabel("<b>Warnings</b>"))
        self.warnings = QListWidget()
        self.warnings.setObjectName("warnings")
        lay.addWidget(self.warnings, 1)
        self.message = QLabel("")
        self.message.setObjectName("officerMessage")
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        self.wizard: Any = None
        self.reader = BackgroundRead(self, services, read_officers, services.ctx,
                                     name="Officers", show=self.show_read,
                                     failed=lambda text, _exc: self.message.setText(text),
                                     loading=self.message)
        self._sync_buttons()
        self.refresh()

    # -- data -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read on the job runner; the register is shown when the read returns."""
        self.reader.run()

    def show_read(self, read: tuple[Any, list[Any], list[dict[str, Any]]]) -> None:
        reg, choices, drafts = read
        self.actor.set_choices(choices)
        self.officers = reg.officers
        self.table.setRowCount(len(reg.officers))
        for row, o in enumerate(reg.officers):
            last = max((c.last_used or "" for c in o.credentials), default="")
            cells = [o.officer_id, o.role.label, o.status.value, o.name, o.email, o.nominated_on,
                     o.verification.date if o.verified and o.verification else "",
                     o.screening_date if o.role.value == "aro" else "n/a",
                     ", ".join((c.label + (" [flagged]" if c.flagged else ""))
                               for c in o.credentials), last[:10]]
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.warnings.clear()
        for w in reg.warnings:
            self.warnings.addItem(w.message)
        self.drafts.clear()
        self.drafts.addItem("— saved drafts —", "")
        for d in drafts:
            self.drafts.addItem(f"{d['draft_id']} {d['form'].upper()} {d['nominee'] or ''}",
                                d["draft_id"])
        self._sync_buttons()  # a row gone with the re-read takes its selection with it

    def _sync_buttons(self) -> None:
        """The buttons that act on the selected officer: enabled only while one is."""
        chosen = bool(self.table.selectionModel().selectedRows())
        for name in SELECTED_ACTIONS:
            button = self.buttons[name]
            button.setEnabled(chosen)
            button.setToolTip("" if chosen else NONE_SELECTED)

    def selected(self) -> Officer | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.message.setText("Select an officer first.")
            return None
        return self.officers[rows[0].row()]

    def row_actions(self) -> list[tuple[str, Callable[[], None]]]:
        """The buttons of the selected officer, as a right-click menu."""
        return [(b.text().replace("&", ""), b.click)
                for name, b in self.buttons.items() if name not in ("nominate", "resume")]

    def select(self, officer_id: str) -> None:
        for i, o in enumerate(self.officers):
            if o.officer_id == officer_id:
                self.table.selectRow(i)
                return

    def _signer(self) -> dict[str, Any]:
        c = self.actor.selected()
        return {"as_ref": c.officer_id if c else None, "key_ref": c.key_id if c else None}

    def _run(self, fn: Callable[..., Any], *args: Any, done: str,
             dialog: VerifyDialog | None = None, **kwargs: Any) -> None:
        def ok(_res: Any) -> None:
            self.message.setText(done)
            if dialog is not None:
                dialog.recorded()
            self.refresh()

        def fail(text: str, _exc: BaseException) -> None:
            self.message.setText(text)
            if dialog is not None:
                dialog.refused(text)

        # "officers" also refreshes the status bar's officer and role
        PageOp(self, self.services, fn, self.services.ctx, *args,
               name=getattr(fn, "__name__", "officer"), **kwargs) \
            .changes("officers").success(ok).failure(fail).run()

    # -- actions --------------------------------------------------------------------------
    def new_nomination(self, draft_id: str | None = None) -> None:
        from smki_desktop.gui.wizards.nomination import NominationWizardDialog

        try:
            self.wizard = NominationWizardDialog(self.services, self,
                                                 draft_id=draft_id or None)
        except SmkiError as exc:
            self.message.setText(exc.message)
            return
        self.wizard.finished.connect(lambda _r: self.refresh())
        self.wizard.open()

    def resume_draft(self) -> None:
        did = self.drafts.currentData()
        if not did:
            self.message.setText("Choose a saved draft first.")
            return
        self.new_nomination(did)

    def verify(self) -> None:
        o = self.selected()
        if o is None:
            return
        dlg = VerifyDialog(o, self)
        self.verify_dialog = dlg

        def submit(v: Verification) -> None:
            self._run(svc.verify_officer, o.officer_id, v,
                      done=f"{o.officer_id}: verification meeting recorded ({v.outcome}).",
                      dialog=dlg)

        dlg.submit = submit
        dlg.open()

    def activate(self) -> None:
        """A signed register change: the summary every signing act gets comes first."""
        o = self.selected()
        if not o:
            return
        signer = self._signer()
        c = self.actor.selected()
        # signed as the officer chosen under "Sign as" (an SRO's first activation needs none)
        signed_by = (f"{c.officer_id} {c.name}, key {c.key_id[:12]}" if c is not None
                     else "no signer chosen (only an SRO's first activation needs none)")
        ask_confirmation(
            self, lambda: self._run(register_service.activate, o.officer_id,
                                    done=f"{o.officer_id} is active.", **signer),
            title=f"Activate {o.officer_id}",
            what=f"Activate {o.name} ({o.officer_id}, {o.role.label}) in the officer register: "
                 "a signed change the register keeps.",
            env=self.services.ctx.env,
            facts=[("Officer", f"{o.officer_id} {o.name}"), ("Signed by", signed_by)],
            action="&Activate and sign",
            cancelled=lambda: self.message.setText(
                f"{o.officer_id}: activation cancelled; nothing was signed."))

    def _with_text(self, title: str, label: str, then: Callable[[str], None]) -> None:
        dlg = TextDialog(title, label, self)
        self.text_dialog = dlg
        dlg.accepted.connect(lambda: then(dlg.edit.text()))
        dlg.open()

    def suspend(self) -> None:
        o = self.selected()
        if o:
            self._with_text(f"Suspend {o.officer_id}", "Reason", lambda r: self._run(
                register_service.suspend, o.officer_id, r,
                done=f"{o.officer_id} suspended; their keys are flagged.", **self._signer()))

    def revoke(self) -> None:
        o = self.selected()
        if o:
            self._with_text(f"Revoke {o.officer_id}", "Reason (e.g. leaver)", lambda r: self._run(
                register_service.revoke, o.officer_id, r,
                done=f"{o.officer_id} revoked; their keys are flagged.", **self._signer()))

    def link_key(self) -> None:
        o = self.selected()
        if o:
            self._with_text(f"Link a key to {o.officer_id}", "Key id (8+ hex digits)",
                            lambda k: self._run(svc.link_key, o.officer_id, k,
                                                done=f"{o.officer_id} now holds key {k}."))

    def print_form(self, path: str | None = None) -> None:
        """Render the officer's form again (with the verification record) to a PDF file."""
        o = self.selected()
        if o is None:
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save the form", f"{o.officer_id}.pdf",
                                                  "PDF (*.pdf)")
            if not path:
                return
        # the save dialog has asked before replacing an existing file
        self._run(officer_forms.write_officer_form, o.officer_id, Path(path), overwrite=True,
                  done=f"Wrote {path}")

    def link_profile(self) -> None:
        o = self.selected()
        if o:
            self._run(svc.link_profile, o.officer_id,
                      done=f"Your profile now links to {html.escape(o.officer_id)}.")
