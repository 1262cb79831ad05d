"""The nomination wizard dialog: draws the pure state machine `core.nomination_wizard` — choose
a form, one screen per form page with validation as typed, review, produce (PDF for signatures
and the signed record, in a background job). Drafts can be saved and resumed.

The store is never read or written on the GUI thread (`wizard_store`): the wizard opens on
"Loading…" while its draft or defaults are read, the choose screen's saved drafts are counted
in the background, and Save draft writes a snapshot of the answers on the job runner
("Saving…"; a failure keeps every answer and Save draft tries again).

Editors are named `field:<page>.<field>` and their error labels `error:<page>.<field>` so that
tests (and accessibility tools) can find them.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.errors import SmkiError, StoreUnreachable
from smki_desktop.core.forms import FieldSpec, FormSchema, Page
from smki_desktop.core.nomination_wizard import NominationWizard, Step
from smki_desktop.core.officers import OfficerRole
from smki_desktop.gui.page_op import LOADING, PageOp
from smki_desktop.gui.qt import (
    QCheckBox,
    QDialog,
    QEvent,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QObject,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tones import text_style, tone
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.gui.widgets.dual_control import ActorPicker
from smki_desktop.gui.wizards.field_editors import FittedRow, declaration_row, field_editor
from smki_desktop.gui.wizards.sro_picker import SroPicker
from smki_desktop.gui.wizards.wizard_store import (
    LOADING_DRAFT,
    SAVING,
    DraftsNote,
    LoadingPage,
    open_failure,
    open_wizard,
    save_failure,
    snapshot,
)
from smki_desktop.services import nomination as nom
from smki_desktop.services import nomination_fields

if TYPE_CHECKING:
    from smki_desktop.core.forms import FieldError
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.identity import SigningChoice
    from smki_desktop.services.nomination import Nominated

class NominationWizardDialog(QDialog):
    def __init__(self, services: GuiServices, parent: QWidget | None = None, *,
                 draft_id: str | None = None) -> None:
        super().__init__(parent)
        self.services = services
        ctx = services.ctx
        self.setWindowTitle(f"Nominate an officer — {ctx.env.label}")
        self.resize(720, 620)
        self.forms = nom.load_forms()  # the installed schemas (package files, not the store)
        # a wizard with nothing chosen until `open_wizard` brings the draft or the defaults
        self.wiz = NominationWizard(self.forms)
        self._draft_to_open = draft_id
        self._opening = True  # until the wizard to start from is read
        self.open_op: PageOp | None = None
        self.save_op: PageOp | None = None
        self._saving = False
        self._close_after_save = False
        self._producing = False
        self._closed = False
        self._edits = 0  # answers changed so far (a save knows whether more came meanwhile)
        self.result_value: Nominated | None = None
        self.failure: str = ""
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.page_widgets: list[QWidget] = []
        self._busy = False
        self._where: tuple[Step, int] | None = None  # the step last drawn (focus on arrival)
        self._dirty = False  # answers changed since the last save (a resumed draft starts clean)
        self.discard_box: QMessageBox | None = None

        lay = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setObjectName("wizardHeading")
        lay.addWidget(self.heading)
        self.help = QLabel()
        self.help.setWordWrap(True)
        lay.addWidget(self.help)
        self.stack = QStackedWidget()
        lay.addWidget(self.stack, 1)
        self.message = QLabel("")
        self.message.setObjectName("wizardMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(text_style("error"))
        lay.addWidget(self.message)
        buttons = QHBoxLayout()
        self.sro_picker: SroPicker | None = None  # an ARO's form: read on the job runner
        self.save_button = QPushButton("Sa&ve draft")
        self.save_button.setObjectName("saveDraft")
        self.back_button = QPushButton("< &Back")
        self.back_button.setObjectName("back")
        self.next_button = QPushButton("&Next >")
        self.next_button.setObjectName("next")
        self.produce_button = QPushButton("&Produce form")
        self.produce_button.setObjectName("produce")
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("close")
        # Enter never closes or produces: only Next is ever the default button (on the form
        # choice and the form pages, where it validates first); Produce and Cancel need a
        # deliberate click.
        for b in (self.save_button, self.back_button, self.next_button, self.produce_button,
                  self.close_button):
            b.setAutoDefault(False)
            b.setDefault(False)
            b.setAccessibleName(b.text().replace("&", "").strip("<> "))
        for b in (self.save_button,):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.back_button, self.next_button, self.produce_button, self.close_button):
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.save_button.clicked.connect(self.save_draft)
        self.back_button.clicked.connect(self.go_back)
        self.next_button.clicked.connect(self.go_next)
        self.produce_button.clicked.connect(self.produce)
        self.close_button.clicked.connect(self.reject)

        self.choose_page = self._build_choose()
        self.stack.addWidget(self.choose_page)
        self.review_page = QWidget()
        rl = QVBoxLayout(self.review_page)
        self.review_label = QLabel()
        self.review_label.setObjectName("review")
        self.review_label.setWordWrap(True)
        scroll = QScrollArea()
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no empty Tab stop around the text
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.review_label)
        rl.addWidget(scroll, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Also save the PDF to:"))
        self.pdf_path = QLineEdit()
        self.pdf_path.setObjectName("pdfPath")
        self.pdf_path.setPlaceholderText("optional; a copy is always kept with the register")
        row.addWidget(self.pdf_path, 1)
        browse = QPushButton("Bro&wse…")
        browse.setAutoDefault(False)
        browse.setAccessibleName("Browse for the PDF file")
        browse.clicked.connect(self._browse)
        row.addWidget(browse)
        rl.addLayout(row)
        # an ARO's record is signed by the nominating SRO: which of their keys, asked only
        # where they hold several here (read on the job runner when the review is shown)
        self.sign_as = ActorPicker()
        self.sign_as.setObjectName("signAsRow")
        self.sign_as.hide()
        rl.addWidget(self.sign_as)
        self.done_page = QWidget()
        dl = QVBoxLayout(self.done_page)
        self.done_label = QLabel()
        self.done_label.setObjectName("done")
        self.done_label.setWordWrap(True)
        self.done_label.setTextInteractionFlags(self.done_label.textInteractionFlags())
        dl.addWidget(self.done_label)
        dl.addStretch(1)
        self.stack.addWidget(self.review_page)
        self.stack.addWidget(self.done_page)
        self.loading_page = LoadingPage(self._open)
        self.stack.addWidget(self.loading_page)
        self._open()
        self._sync()

    # -- opening (the store read on the job runner) ------------------------------------------
    def _open(self) -> None:
        """The wizard to start from (the saved draft, or the defaults), read on the job runner;
        "Loading…" meanwhile, nothing to choose or type."""
        if self._closed or not self._opening or self.loading():
            return
        self.loading_page.loading(LOADING_DRAFT if self._draft_to_open else LOADING)
        self.open_op = PageOp(self, self.services, open_wizard, self.services.ctx, self.forms,
                              self._draft_to_open, name="Open the nomination wizard") \
            .background().success(self._opened).failure(self._open_failed)
        self.open_op.run()

    def _opened(self, wiz: NominationWizard) -> None:
        if self._closed:
            return
        self.wiz = wiz
        if wiz.schema is not None:  # a draft: its form is the one chosen
            if wiz.schema.form in self.choices:
                self.choices[wiz.schema.form].setChecked(True)
            self._build_form_pages(wiz.schema)
        self._opening = False
        self._sync()

    def _open_failed(self, text: str, exc: BaseException) -> None:
        if self._closed:
            return
        if isinstance(exc, StoreUnreachable):
            self.services.unreachable(exc)  # the window's banner says so too
        self.loading_page.failed(open_failure(self._draft_to_open, text))

    def loading(self) -> bool:
        """The wizard's draft or defaults are being read (tests wait on it)."""
        return self.open_op is not None and self.open_op.running

    def saving(self) -> bool:
        """A draft is being written (tests wait on it)."""
        return self._saving

    # -- building -------------------------------------------------------------------------
    def _build_choose(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        v.addWidget(QLabel("Which form?"))
        self.choices: dict[str, QRadioButton] = {}
        for form, schema in sorted(self.forms.items(), reverse=True):
            rb = QRadioButton(f"{schema.title} ({schema.form_id})")
            rb.setObjectName(f"choose_{form}")
            rb.setToolTip(schema.intro)
            self.choices[form] = rb
            v.addWidget(rb)
            intro = QLabel(schema.intro)
            intro.setWordWrap(True)
            intro.setIndent(24)
            v.addWidget(intro)
        self.drafts_note = DraftsNote(self.services)
        v.addWidget(self.drafts_note)
        self.drafts_note.load()
        v.addStretch(1)
        if self.choices:
            # one is always chosen: the arrow keys then move the choice, not only the focus
            next(iter(self.choices.values())).setChecked(True)
        for rb in self.choices.values():
            rb.toggled.connect(lambda _checked: self._sync())
            rb.installEventFilter(self)
        return w

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The arrow keys move the form chosen with the focus (Qt's own radio buttons move
        only the focus while none is chosen, or when their window is not the active one)."""
        radios = list(self.choices.values())
        if event.type() == QEvent.Type.KeyPress and watched in radios:
            key = event.key()  # type: ignore[attr-defined]  # a QKeyEvent
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -1,
                    Qt.Key.Key_Left: -1}.get(Qt.Key(key))
            if step is not None:
                rb = radios[(radios.index(watched) + step) % len(radios)]  # type: ignore[arg-type]
                rb.setChecked(True)
                rb.setFocus(Qt.FocusReason.TabFocusReason)
                return True
        return super().eventFilter(watched, event)

    def _build_form_pages(self, schema: FormSchema) -> None:
        for w in self.page_widgets:
            self.stack.removeWidget(w)
            w.deleteLater()
        self.page_widgets = []
        self.editors, self.errors = {}, {}
        if self.sro_picker is not None:  # the old form's: its answer, if any, is not shown
            self.sro_picker.stop()
            self.sro_picker = None
        for i, page in enumerate(self.wiz.pages):
            w = self._build_page(page)
            self.stack.insertWidget(1 + i, w)
            self.page_widgets.append(w)

    def _build_page(self, page: Page) -> QWidget:
        inner = QWidget()
        form = QFormLayout(inner)
        if page.help:
            intro = QLabel(page.help)
            intro.setWordWrap(True)
            form.addRow(intro)
        for f in page.fields:
            if f.print_blank:
                continue
            editor = self._editor(f)
            editor.setObjectName(f"field:{f.key}")
            editor.setToolTip(f.help)
            err = QLabel("")
            err.setObjectName(f"error:{f.key}")
            err.setStyleSheet(text_style("error"))
            err.setWordWrap(True)
            # the words at the top of the room a wrapped label is given, under their field
            err.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            self.editors[f.key] = editor
            self.errors[f.key] = err
            box = FittedRow() if f.type == "bool" else QWidget()
            bl = QVBoxLayout(box)
            # a declaration's room ends with its words (or error): a little air before the next
            bl.setContentsMargins(0, 0, 0, 6 if f.type == "bool" else 0)
            if f.type == "bool":
                # the error in the words' column, just under them (a checkbox has no help)
                bl.addWidget(declaration_row(editor, f, err))
            else:
                bl.addWidget(editor)
                if isinstance(editor, SroPicker):
                    bl.addWidget(editor.status_row())
                if f.help:
                    h = QLabel(f.help)
                    h.setWordWrap(True)
                    h.setStyleSheet(text_style("muted") + " font-size:small;")
                    bl.addWidget(h)
                bl.addWidget(err)
            label = "" if f.type == "bool" else f.label + (" *" if f.required else "")
            form.addRow(label, box)
        scroll = QScrollArea()
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no empty Tab stop around the fields
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        return scroll

    def _editor(self, f: FieldSpec) -> QWidget:
        val = self.wiz.values.get(f.key, f.empty())
        if f.key == "nominator.officer_id":
            return self._sro_picker(f, str(val or ""))
        return field_editor(f, val, self._changed)


    def _sro_picker(self, f: FieldSpec, current: str) -> QWidget:
        """The active SROs, read on the job runner ("Loading…" until then)."""
        self.sro_picker = SroPicker(self.services, current, self._sro_chosen)
        self.sro_picker.load()
        return self.sro_picker

    def _sro_chosen(self, officer_id: str) -> None:
        self._changed("nominator.officer_id", officer_id)
        if not officer_id or self.sro_picker is None:
            return
        name = self.sro_picker.names.get(officer_id)  # as listed: no register read here
        name_editor = self.editors.get("nominator.name")
        if name and isinstance(name_editor, QLineEdit):
            name_editor.setText(name)

    # -- events ---------------------------------------------------------------------------
    def _changed(self, key: str, value: Any) -> None:
        err = self.wiz.set_value(key, value)
        self._set_error(key, err.message if err else "")
        self._dirty = True
        self._edits += 1
        self.message.setText("")
        self._sync_buttons()

    def _show_page_errors(self, errors: list[FieldError] | None = None) -> None:
        """Each error under its field, the message line, and the focus on the first."""
        errs = self.wiz.page_errors() if errors is None else errors
        for e in errs:
            self._set_error(e.key, e.message)
        self._error_style()
        self.message.setText("Correct the fields marked in red.")
        for e in errs:
            if e.key in self.editors:
                self._focus_editor(self.editors[e.key])
                break

    def _set_error(self, key: str, text: str) -> None:
        """The error under a field (or none), and the field's accessible description, so that
        a screen reader announces it with the field (as gui.widgets.field_check does)."""
        label = self.errors.get(key)
        if label is not None:
            label.setText(text)
        editor = self.editors.get(key)
        if editor is not None:
            editor.setAccessibleDescription(text)

    def _error_style(self) -> None:
        self.message.setStyleSheet(text_style("error"))

    def _focus_editor(self, editor: QWidget) -> None:
        """The editor itself, or a checklist's first box."""
        target = editor
        if type(editor) is QWidget:
            boxes = editor.findChildren(QCheckBox)
            if boxes:
                target = boxes[0]
        target.setFocus(Qt.FocusReason.TabFocusReason)
        page = self.stack.currentWidget()
        if isinstance(page, QScrollArea):
            page.ensureWidgetVisible(target)

    def _focus_first_field(self) -> None:
        for f in self.wiz.page.fields:
            if f.key in self.editors:
                self._focus_editor(self.editors[f.key])
                return

    def busy(self) -> bool:
        """A page check or the production is running (tests wait on it)."""
        return self._busy

    def go_next(self) -> None:
        try:
            if self.wiz.step is Step.CHOOSE:
                form = next((f for f, rb in self.choices.items() if rb.isChecked()), None)
                if form is None:
                    self.message.setText("Choose a form.")
                    return
                if self.wiz.schema is None or self.wiz.schema.form != form:
                    self.wiz.choose(form)
                    self._build_form_pages(self.wiz.forms[form])
                else:
                    self.wiz.step = Step.PAGE
            else:
                if not self.wiz.can_next():
                    self._show_page_errors()
                    return
                self._check_page()
                return
        except SmkiError as exc:
            self._show_error(exc.message)
        self._sync()

    def _check_page(self) -> None:
        """The page's answers against this installation (environment, dates, Party), with
        the nomination's own checks, before going on: read on the job runner."""
        if self._busy:
            return
        schema, page_id = self.wiz.schema, self.wiz.page.id
        assert schema is not None
        self._busy = True
        self._sync_buttons()
        PageOp(self, self.services, nomination_fields.page_problems, self.services.ctx,
               schema, page_id, dict(self.wiz.values), name="Check the page") \
            .success(lambda errs: self._page_checked(page_id, errs)) \
            .failure(lambda _text, exc: self._check_failed(exc)) \
            .cancelled(self._check_failed).run()

    def _page_checked(self, page_id: str, errs: list[FieldError]) -> None:
        self._busy = False
        if self.wiz.step is not Step.PAGE or self.wiz.page.id != page_id:
            self._sync_buttons()
            return
        if errs:
            self._sync_buttons()
            self._show_page_errors(errs)
            return
        try:
            self.wiz.next()
        except SmkiError as exc:
            self._show_error(exc.message)
        self._sync()

    def _check_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._show_error(exc.message if isinstance(exc, SmkiError) else str(exc))
        self._sync_buttons()

    def _show_error(self, text: str) -> None:
        """A message in the fields' words, not the form's internal keys."""
        if self.wiz.schema is not None:
            text = nomination_fields.with_labels(self.wiz.schema, text)
        self._error_style()
        self.message.setText(text)

    def go_back(self) -> None:
        self.message.setText("")  # an error of the page left (the Review's) is not this one's
        self.failure = ""
        try:
            self.wiz.back()
        except SmkiError as exc:
            self._show_error(exc.message)
        self._sync()

    def save_draft(self) -> None:
        """The answers as they are now, written on the job runner ("Saving…"); typing on
        meanwhile is kept (and counts as not saved)."""
        if self.wiz.schema is None:
            self.message.setText("Choose a form before saving a draft.")
            return
        if self._saving:
            return
        if self._producing:
            self._close_after_save = False
            self._error_style()
            self.message.setText("The nomination is being recorded: no draft is saved.")
            return
        wiz, edits = self.wiz, self._edits
        self.message.setStyleSheet(text_style("muted"))
        self.message.setText(SAVING)
        self.save_op = PageOp(self, self.services, nom.save_draft, self.services.ctx,
                              snapshot(wiz), name="Save the draft") \
            .busy(hook=self._save_busy) \
            .success(lambda did: self._saved(wiz, edits, did)) \
            .failure(self._save_failed)
        self.save_op.run()

    def _save_busy(self, busy: bool) -> None:
        self._saving = busy
        self._sync_buttons()

    def _saved(self, wiz: NominationWizard, edits: int, did: str) -> None:
        wiz.draft_id = did  # saved again, the same draft
        self._dirty = self._edits != edits or self.wiz is not wiz
        self.message.setStyleSheet(text_style("ok"))
        self.message.setText(f"Draft {did} saved.")
        if self._close_after_save:
            self._close_after_save = False
            self.reject()  # closes, or asks about what was typed meanwhile

    def _save_failed(self, text: str, exc: BaseException) -> None:
        self._close_after_save = False  # the answers are not in a draft: the wizard stays
        if isinstance(exc, StoreUnreachable):
            self.services.unreachable(exc)
        self._error_style()
        self.message.setText(save_failure(text))

    # -- leaving ----------------------------------------------------------------------------
    def done(self, r: int) -> None:
        """However the wizard closes, what is still being read is not shown in it."""
        self._closed = True
        self.drafts_note.stop()
        if self.sro_picker is not None:
            self.sro_picker.stop()
        super().done(r)

    def reject(self) -> None:
        """Cancel, Escape and the window's close button: with answers not saved, ask first
        (Keep editing is the default; Save draft and close; Discard)."""
        if self._saving:  # the draft being saved is what the officer asked to keep
            self._close_after_save = True
            self.message.setStyleSheet(text_style("muted"))
            self.message.setText("Saving the draft… the wizard closes when it is saved.")
            return
        unsaved = (self._dirty and self.wiz.step in (Step.PAGE, Step.REVIEW)
                   and self.result_value is None)
        if not unsaved:
            super().reject()
            return
        if self.discard_box is not None and self.discard_box.isVisible():
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Discard this nomination?",
                          "Your answers have not been saved. Save them as a draft to finish "
                          "later (Officers → Resume draft), or discard them?", parent=self)
        box.setObjectName("discardBox")
        keep = box.addButton("&Keep editing", QMessageBox.ButtonRole.RejectRole)
        save = box.addButton("&Save draft and close", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("&Discard", QMessageBox.ButtonRole.DestructiveRole)
        keep.setObjectName("keepEditing")
        save.setObjectName("saveAndClose")
        discard.setObjectName("discard")
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        self.discard_box = box

        def answered(_r: int) -> None:
            clicked = box.clickedButton()
            if clicked is save:  # closed once saved; a failed save keeps it open
                self._close_after_save = True
                self.save_draft()
            elif clicked is discard:
                super(NominationWizardDialog, self).reject()

        box.finished.connect(answered)
        box.open()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the nomination form", "",
                                              "PDF (*.pdf)")
        if path:
            self.pdf_path.setText(path)

    def produce(self) -> None:
        """The summary of what is recorded and signed, then (confirmed) the nomination."""
        if self._busy:
            return
        try:
            schema, values = self.wiz.produce()
        except SmkiError as exc:
            self._show_error(exc.message)
            return
        self.wiz.step = Step.REVIEW  # until the service accepts it
        ask_confirmation(
            self, lambda: self._produce(schema, values), title="Record the nomination",
            env=self.services.ctx.env, action="&Record and sign",
            what=f"Record this {schema.title} in the {self.services.ctx.env.label} officer "
                 "register and write the form for signatures.",
            facts=self._produce_facts(schema, values),
            cancelled=lambda: self.message.setText("Not recorded: cancelled."),
            focus_to=self.produce_button)

    def _produce_facts(self, schema: FormSchema, values: dict[str, Any]
                       ) -> list[tuple[str, str]]:
        def text(key: str) -> str:
            v = values.get(key)
            return v.strip() if isinstance(v, str) else ""

        facts = [("Nominee", f"{text('nominee.name')} <{text('nominee.email')}>"),
                 ("Role", OfficerRole(schema.role).label)]
        if schema.role == OfficerRole.ARO.value and text("nominator.officer_id"):
            facts.append(("Nominated by", f"{text('nominator.name')} "
                                          f"({text('nominator.officer_id')})"))
            signer = self.sign_as.selected() if self.sign_as.isVisibleTo(self) else None
            facts.append(("Record signed with", f"{signer.name} ({signer.officer_id}), key "
                                                f"{signer.key_id[:16]}" if signer else
                          "the nominating SRO's file-signing key held here"))
        out = self.pdf_path.text().strip()
        facts.append(("Copy of the form", out or "none (the register keeps the form)"))
        return facts

    def _produce(self, schema: FormSchema, values: dict[str, Any]) -> None:
        if self._busy:
            return
        out = self.pdf_path.text().strip()
        self._busy = self._producing = True
        self.failure = ""
        self.message.setStyleSheet(text_style("muted"))
        self.message.setText("Producing the form…")
        self._sync_buttons()
        signer = self.sign_as.selected() if self.sign_as.isVisibleTo(self) else None
        PageOp(self, self.services, nom.nominate, self.services.ctx, schema, values,
               pdf_out=Path(out) if out else None, draft_id=self.wiz.draft_id,
               as_ref=signer.officer_id if signer else None,
               key_ref=signer.key_id if signer else None,
               name="Nominate the officer").changes("officers").success(self._produced) \
            .failure(lambda _text, exc: self._failed(exc)).cancelled(self._failed).run()

    def _produced(self, res: Nominated) -> None:
        self._busy = self._producing = False
        self.result_value = res
        self.wiz.step = Step.DONE
        o = res.officer
        by = f" by {res.signed_by_officer}" if res.signed_by_officer else ""
        signed = (f"Record signed{by} with key {res.signed_by[:16]}." if res.signed_by else
                  "" if res.warnings else "Record not signed: you have no file-signing key "
                  "in this environment.")
        # every warning of the service (why the record is unsigned, an organisation name
        # that differs), whether or not the record is signed
        schema = self.wiz.schema
        warned = "".join(
            f"<p style='color:{tone('warn')};'>⚠ "
            f"{html.escape(nomination_fields.with_labels(schema, w) if schema else w)}</p>"
            for w in res.warnings)
        self.done_label.setText(
            f"<h3>{html.escape(o.role.label)} nomination recorded: "
            f"{html.escape(o.officer_id)}</h3>"
            f"<p>{html.escape(o.name)} is now <b>nominated</b> in the "
            f"{self.services.ctx.env.label} register.</p>"
            + ("<p>Recorded as a self-nomination by the SRO.</p>" if o.self_nominated else "")
            + f"<p>Print the form for signatures: {html.escape(str(res.extra_pdf or res.pdf_path))}"
            f"</p>" + (f"<p>{html.escape(signed)}</p>" if signed else "") + warned
            + "<p>Next: hold the verification meeting "
            "(GPG45 Level 3), record it on the Officers page, then activate.</p>")
        self.message.setText("")
        self.services.status(f"Nominated {o.officer_id}")
        self._sync()

    def _failed(self, exc: BaseException) -> None:
        self._busy = self._producing = False
        raw = exc.message if isinstance(exc, SmkiError) else str(exc)
        text = raw
        if self.wiz.schema is not None:
            text = nomination_fields.with_labels(self.wiz.schema, raw)
        self.failure = text
        where = self.wiz.locate(raw) if self.wiz.schema is not None else None
        if where is None or self.wiz.step is Step.DONE:
            self._show_error(text)
            self._sync()
            return
        # a problem of one answer (the nominating SRO's name, their register ID): shown on
        # that answer's page, under it, with the focus in it
        index, spec = where
        self.wiz.go_to_page(index)
        self._sync()
        if spec.key in self.errors:  # under its field, the field's name is not repeated
            under = text.removeprefix(f"{spec.label}: ")
            self._set_error(spec.key, under[:1].upper() + under[1:])
        self._error_style()
        self.message.setText("Not recorded: correct the field marked in red, then go on to "
                             "the review again.")
        if spec.key in self.editors:
            self._focus_editor(self.editors[spec.key])

    # -- drawing --------------------------------------------------------------------------
    def _sync(self) -> None:
        step = self.wiz.step
        where = (step, self.wiz.page_index if step is Step.PAGE else -1)
        if self._opening:  # nothing to draw before the draft or the defaults are read
            self.stack.setCurrentWidget(self.loading_page)
            self.heading.setText("<h2>Nominate an officer</h2>")
            self.help.setText(self._env_note())
            self._sync_buttons()
            return
        arrived, self._where = where != self._where, where
        if step is Step.CHOOSE:
            self.stack.setCurrentWidget(self.choose_page)
            self.heading.setText("<h2>Nominate an officer</h2>")
            self.help.setText(self._env_note())
            chosen = next((rb for rb in self.choices.values() if rb.isChecked()), None)
            if arrived and chosen is not None:
                chosen.setFocus(Qt.FocusReason.TabFocusReason)
        elif step is Step.PAGE:
            page = self.wiz.page
            self.stack.setCurrentWidget(self.page_widgets[self.wiz.page_index])
            assert self.wiz.schema is not None
            self.heading.setText(
                f"<h2>{html.escape(self.wiz.schema.title)} — {html.escape(page.title)}</h2>"
                f"<p>Step {self.wiz.page_index + 1} of {len(self.wiz.pages)}</p>")
            self.help.setText("")
            if arrived:  # the first field, not the scroll area around it
                self._focus_first_field()
        elif step is Step.REVIEW:
            self.stack.setCurrentWidget(self.review_page)
            self.heading.setText("<h2>Review</h2>")
            self.help.setText("Check every answer; Produce records the nomination and writes "
                              "the form for signatures.")
            rows = "".join(
                f"<tr><td><i>{html.escape(r.page)}</i></td><td>{html.escape(r.label)}</td>"
                f"<td><b>{html.escape(r.value)}</b></td></tr>" for r in self.wiz.review())
            self.review_label.setText(f"<table cellpadding='3'>{rows}</table>")
            if arrived:
                self._read_signers()
        else:
            self.stack.setCurrentWidget(self.done_page)
            self.heading.setText("<h2>Done</h2>")
            self.help.setText("")
        self._sync_buttons()

    def _env_note(self) -> str:
        return ("Test and Live nominations are separate: this one is for the "
                f"<b>{self.services.ctx.env.label}</b> environment.")

    def _read_signers(self) -> None:
        """The nominating SRO's keys here (an ARO's form): "Sign as" is shown only where they
        hold several, to choose the one; with one the service takes it, with none it says so."""
        self.sign_as.hide()
        PageOp(self, self.services, nomination_fields.sro_signing_choices, self.services.ctx,
               dict(self.wiz.values), name="Read the nominating SRO's keys") \
            .background().success(self._signers_read).run()

    def _signers_read(self, choices: list[SigningChoice]) -> None:
        if self.wiz.step is not Step.REVIEW:
            return
        self.sign_as.set_choices(choices)
        self.sign_as.setVisible(len(choices) > 1)

    def _sync_buttons(self) -> None:
        step = self.wiz.step
        # opening, nothing can be done yet; saving, the answers stay on this screen
        waiting = self._busy or self._saving or self._opening
        self.back_button.setEnabled(step in (Step.PAGE, Step.REVIEW) and not waiting)
        chosen = any(rb.isChecked() for rb in self.choices.values())
        self.next_button.setVisible(step in (Step.CHOOSE, Step.PAGE))
        self.next_button.setEnabled((chosen if step is Step.CHOOSE else True) and not waiting)
        # choosing the form and pressing Enter goes on (it produces nothing)
        self.next_button.setDefault(step in (Step.CHOOSE, Step.PAGE))
        self.produce_button.setVisible(step is Step.REVIEW)
        self.produce_button.setEnabled(not waiting)
        self.save_button.setEnabled(step in (Step.PAGE, Step.REVIEW) and not waiting)
        self.close_button.setText("Close" if step is Step.DONE else "Cancel")

    def editor(self, key: str) -> QWidget:
        return self.editors[key]
