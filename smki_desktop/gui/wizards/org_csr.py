"""The "New Organisation key and CSR" wizard: draws `core.org_csr_wizard.OrgCsrWizardState`;
the key and CSR are made in the background (job runner); the review page shows the decoded CSR
and saves it in any portal form or copies it to the clipboard. Keyboard only works throughout
(mnemonics, Tab order, Enter = Next).

In Live (rules from services.crossing): no Party profile, no wizard; only the roles the Party
type may hold are offered and none is chosen for the officer; the EUI is checked against the
Party's range; a red-framed confirmation summary (its button never the default) comes before
the key is made. Cancel after the key was made and before the CSR was saved or copied
discards the key and its CSR (audited), in either environment; on the review page that button
says so ("Discard key and CSR"), and Escape or closing the window keeps both (the Requests page
lists the CSR): one keystroke never loses a key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal, SmkiError
from smki_desktop.core.keys import KeyLocation, KeyUsage
from smki_desktop.core.org_csr_wizard import OrgCsrWizardState
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tones import text_style
from smki_desktop.services import crossing
from smki_desktop.services import csr as csr_service

if TYPE_CHECKING:
    from smki_desktop.core.party import PartyProfile
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

TOKEN_UNAVAILABLE = ("Not available: no PKCS#11 module is configured. Set the module and the "
                     "token in Settings › Tokens, then open this wizard again.")
USAGE_TEXT = {KeyUsage.SIGNING: "Digital signature (DS)",
              KeyUsage.KEY_AGREEMENT: "Key agreement (KA)"}


@dataclass(frozen=True)
class WizardFacts:
    """What the wizard starts from, read from the store on the job runner by its opener."""

    party: PartyProfile | None
    blocked: str  # why nothing can be made here ("" when it can)
    roles: list[RemotePartyRole]
    token_configured: bool


def read_wizard_facts(ctx: AppContext) -> WizardFacts:
    """The Party profile (or why it blocks), the roles to offer, whether a PKCS#11 module is
    configured (a job: no Qt here)."""
    blocked = ""
    try:
        party = crossing.require_party(ctx, "New Organisation key and CSR")
    except Refusal as exc:
        party, blocked = None, exc.message
    return WizardFacts(party, blocked, [] if blocked else list(crossing.roles_offered(ctx)),
                       bool(ctx.setting(csr_service.SETTING_PKCS11_MODULE)))


class OrgCsrWizard(QDialog):
    def __init__(self, services: GuiServices, parent: QWidget | None = None,
                 facts: WizardFacts | None = None) -> None:
        """`facts` as its opener read them on the job runner (read here when not given)."""
        super().__init__(parent)
        self.services = services
        ctx = services.ctx
        self.live = ctx.env is Environment.LIVE
        self.facts = facts if facts is not None else read_wizard_facts(ctx)
        self.blocked = self.facts.blocked
        party = self.facts.party
        self.state = OrgCsrWizardState(
            csr_service.profile_for(ctx), party.party_type.value if party else None,
            list(party.eui_ranges) if party else [],
            allowed=[] if self.blocked else list(self.facts.roles),
            preselect=not self.live)
        self.created: csr_service.CsrCreated | None = None
        self.saved_path: Path | None = None
        self.copied = False
        self.cancelled = False
        self.discarded = False
        self.failure = ""
        self.setWindowTitle(f"New Organisation key and CSR — {ctx.env.label}")
        self.stack = QStackedWidget()
        self.stack.addWidget(self._request_page())
        self.stack.addWidget(self._identity_page())
        self.stack.addWidget(self._key_page())
        self.stack.addWidget(self._review_page())
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.back_button = QPushButton("&Back")
        self.next_button = QPushButton("&Next")
        self.next_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.back_button.clicked.connect(self.go_back)
        self.next_button.clicked.connect(self.go_next)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.back_button, self.next_button, self.cancel_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self._sync()
        if self.blocked:
            self.message.setText(self.blocked)
            self.next_button.setEnabled(False)

    # -- pages -------------------------------------------------------------------------------
    def _request_page(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.role = QComboBox()
        if not self.state.preselect:
            self.role.addItem("Choose a role…", None)
        for r in self.state.roles():
            self.role.addItem(f"{r.name_text} ({r.ou})", r.ou)
        self.usage = QComboBox()
        self.role.currentIndexChanged.connect(self._role_changed)
        self.usage.currentIndexChanged.connect(self._usage_changed)
        form.addRow("&Role", self.role)
        form.addRow("&Usage", self.usage)
        note = QLabel("One key pair per CSR and one usage per key: signing and key agreement "
                      "need two keys. Only the roles your party type may request are listed.")
        note.setWordWrap(True)
        form.addRow(note)
        self._fill_usages()
        return w

    def _identity_page(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.eui = QLineEdit(self.state.eui_text)
        self.eui.setPlaceholderText("90-B3-D5-1F-30-01-00-00")
        self.eui.textChanged.connect(self._eui_changed)
        self.eui_status = QLabel()
        self.cn = QLineEdit()
        self.cn.setPlaceholderText("optional, where the profile allows one")
        self.cn.textChanged.connect(self._cn_changed)
        form.addRow("&EUI-64", self.eui)
        form.addRow("", self.eui_status)
        form.addRow("&CN", self.cn)
        self._eui_changed(self.eui.text())
        return w

    def _key_page(self) -> QWidget:
        w = QWidget()
        box = QVBoxLayout(w)
        self.loc_keyring = QRadioButton("&OS keyring (encrypted key file, wrapping key in the "
                                        "keyring)")
        self.loc_token = QRadioButton("Hardware &token (PKCS#11, non-exportable)")
        self.loc_keyring.setChecked(True)
        configured = self.facts.token_configured
        self.loc_token.setEnabled(configured)
        box.addWidget(self.loc_keyring)
        box.addWidget(self.loc_token)
        self.token_reason = QLabel(TOKEN_UNAVAILABLE)
        self.token_reason.setObjectName("tokenReason")
        self.token_reason.setWordWrap(True)
        self.token_reason.setStyleSheet(text_style("muted") + "margin-left: 24px;")
        self.token_reason.setVisible(not configured)  # greyed out: say why, where to fix it
        if not configured:
            self.loc_token.setToolTip(TOKEN_UNAVAILABLE)
            self.loc_token.setAccessibleDescription(TOKEN_UNAVAILABLE)
        box.addWidget(self.token_reason)
        box.addWidget(QLabel("Next makes the key and signs the CSR with it."
                             + (" You will be asked to confirm first." if self.live else "")))
        self.confirm_frame = QFrame()
        self.confirm_frame.setObjectName("liveConfirm")
        self.confirm_frame.setStyleSheet(
            "#liveConfirm { border: 3px solid #C62828; border-radius: 4px; }")
        cbox = QVBoxLayout(self.confirm_frame)
        self.confirm_text = QLabel()
        self.confirm_text.setWordWrap(True)
        self.confirm_button = QPushButton("&Make this Live key and CSR")
        self.confirm_button.setAutoDefault(False)
        self.confirm_button.setDefault(False)
        self.confirm_button.clicked.connect(self.confirm)
        cbox.addWidget(self.confirm_text)
        cbox.addWidget(self.confirm_button)
        self.confirm_frame.hide()
        box.addWidget(self.confirm_frame)
        box.addStretch(1)
        return w

    def _review_page(self) -> QWidget:
        w = QWidget()
        box = QVBoxLayout(w)
        self.review = QPlainTextEdit()
        self.review.setReadOnly(True)
        box.addWidget(self.review)
        row = QHBoxLayout()
        self.format = QComboBox()
        for f in csr_service.CSR_FORMATS:
            self.format.addItem(f, f)
        self.crlf = QCheckBox("C&RLF")
        self.path = QLineEdit()
        self.path.setPlaceholderText("file to write (never replaced)")
        self.save_button = QPushButton("&Save")
        self.copy_button = QPushButton("Cop&y")
        self.save_button.clicked.connect(self.save)
        self.copy_button.clicked.connect(self.copy)
        fmt_label = QLabel("Forma&t")  # Alt+F is Finish
        fmt_label.setBuddy(self.format)
        path_label = QLabel("Fi&le")  # the field had only its placeholder, gone once typed in
        path_label.setBuddy(self.path)
        for x in (fmt_label, self.format, self.crlf, path_label, self.path, self.save_button,
                  self.copy_button):
            row.addWidget(x)
        box.addLayout(row)
        return w

    # -- state ---------------------------------------------------------------------------------
    def _fill_usages(self) -> None:
        self.usage.blockSignals(True)
        self.usage.clear()
        for u in self.state.usages():
            self.usage.addItem(USAGE_TEXT[u], u.value)
        if self.state.usage is not None:
            self.usage.setCurrentIndex(max(0, self.usage.findData(self.state.usage.value)))
        self.usage.blockSignals(False)

    def _role_changed(self) -> None:
        data = self.role.currentData()
        self.state.set_role(RemotePartyRole.from_ou(data) if data else None)
        self._fill_usages()

    def _usage_changed(self) -> None:
        data = self.usage.currentData()
        self.state.usage = KeyUsage(data) if data else None

    def _eui_changed(self, text: str) -> None:
        self.state.eui_text = text
        problem = self.state.eui_problem()
        self.eui_status.setText(problem or f"OK: {self.state.eui}")

    def _cn_changed(self, text: str) -> None:
        self.state.cn = text

    def _sync(self) -> None:
        self.stack.setCurrentIndex(self.state.step)
        last = self.state.name == "review"
        self.back_button.setEnabled(self.state.step > 0 and not last)
        self.next_button.setText("&Finish" if last else "&Next")
        self.next_button.setEnabled(not last or self.created is not None)
        self._label_cancel()
        first = {0: self.role, 1: self.eui, 2: self.loc_keyring, 3: self.path}[self.state.step]
        first.setFocus()

    def go_back(self) -> None:
        if self.confirm_frame.isVisible():
            self._hide_confirmation()
            return
        self.state.back()
        self.message.clear()
        self._sync()

    def summary(self) -> str:
        st, ctx = self.state, self.services.ctx
        party = self.facts.party
        loc = "hardware token" if self.loc_token.isChecked() else "OS keyring"
        return "\n".join([
            f"Environment: {ctx.env.label.upper()}",
            f"Party: {party.name} ({party.party_id}, {party.party_type.label})" if party
            else "Party: (no Party profile)",
            f"Role: {st.role.name_text} ({st.role.ou})" if st.role else "Role: ?",
            f"Usage: {USAGE_TEXT[st.usage] if st.usage else '?'}",
            f"EUI-64: {st.eui}",
            f"CN: {st.cn.strip() or '(none)'}",
            f"Key: new EC P-256 key in the {loc}",
        ])

    def _show_confirmation(self) -> None:
        self.confirm_text.setText("Check before a Live key is made:\n\n" + self.summary())
        self.confirm_frame.show()
        self.next_button.setEnabled(False)
        self.next_button.setDefault(False)
        self.message.setText("Confirm with the red-framed button, or go Back.")
        self.confirm_text.setFocus()

    def _hide_confirmation(self) -> None:
        self.confirm_frame.hide()
        self.next_button.setEnabled(True)
        self.next_button.setDefault(True)
        self.message.clear()

    def confirm(self) -> None:
        if not self.confirm_frame.isVisible() or self.created is not None:
            return
        self.confirm_frame.hide()
        self.next_button.setDefault(True)
        self._create()

    def go_next(self) -> None:
        if self.state.name == "review":
            self.accept()
            return
        try:
            self.state.next()
        except SmkiError as exc:
            self.message.setText(exc.message)
            return
        self.message.clear()
        if self.state.name == "review":
            self.state.step -= 1  # stay on the key page until the job is done
            if self.live:
                self._show_confirmation()
                return
            self._create()
            return
        self._sync()

    def _create(self) -> None:
        st = self.state
        st.location = KeyLocation.PKCS11 if self.loc_token.isChecked() else \
            KeyLocation.OS_KEYRING
        assert st.usage is not None and st.role is not None
        self.next_button.setEnabled(False)
        self.message.setText("Making the key and signing the CSR…")

        def done(result: csr_service.CsrCreated) -> None:
            self.created = result
            if self.cancelled:  # Cancel was pressed while the key was being made
                self._discard()
                return
            st.step = 3
            f = result.report.fields
            self.review.setPlainText("\n".join([
                f"Subject: {f.subject}",
                f"Role (OU): {f.ou} {f.role.name_text if f.role else ''}",
                f"EUI-64 (uniqueIdentifier, BIT STRING): {f.eui}",
                f"CN: {f.cn or '(none)'}",
                f"Key usage (critical): {f.usage.value if f.usage else '?'}",
                f"Key: EC P-256, id {result.key.key_id} ({result.key.location.value})",
                "Signature: ecdsa-with-SHA256",
                "Profile lint: no findings",
                "",
                csr_service.csr_text(result.der, "pem").decode(),
            ]))
            self.path.setText(str(self.services.ctx.paths.exports_dir /
                                  f"org-{f.ou}-{f.eui.hex if f.eui else ''}-"
                                  f"{result.key.key_id[:8]}.csr"))
            self.message.setText(f"CSR {result.csr_id} made. Save it or copy it for the SMKI "
                                 "Portal; Finish keeps it (the Requests page lists it).")
            self._sync()

        def failed(exc: BaseException) -> None:
            self.failure = str(getattr(exc, "message", exc))
            self.message.setText(self.failure)
            self.next_button.setEnabled(True)

        # a PIN not given stops it as a failure does: the message says so, Next comes back
        PageOp(self, self.services, csr_service.new_key_and_org_csr, self.services.ctx,
               st.usage, st.role, st.eui, st.cn, location=st.location,
               name="Make the key and sign the Organisation CSR") \
            .changes("keys", "requests").success(done) \
            .failure(lambda _text, exc: failed(exc)).cancelled(failed).run()

    def _unsaved(self) -> bool:
        return self.created is not None and self.saved_path is None and not self.copied

    def _label_cancel(self) -> None:
        """On the review page the button says what it does to the key just made."""
        if self.created is None:
            self.cancel_button.setText("Cancel")
        elif self._unsaved():
            self.cancel_button.setText("&Discard key and CSR")
        else:
            self.cancel_button.setText("Close")

    def cancel(self) -> None:
        """The Cancel / Discard button: a key and CSR made here but not saved or copied are
        discarded."""
        self.cancelled = True
        if self._unsaved():
            self._discard()
        super().reject()

    def reject(self) -> None:
        """Escape or closing the window: before the key exists this cancels; once it is made,
        the key and CSR are kept (listed on the Requests page) — only the Discard button
        deletes them."""
        if self.created is None:
            self.cancelled = True
        elif self._unsaved():
            self.services.status(f"CSR {self.created.csr_id} and its key kept: the Requests "
                                 "page lists it.")
        super().reject()

    def _discard(self) -> None:
        if self.created is None or self.discarded:
            return
        self.discarded = True
        # the officer has closed the wizard: a failure is said on the status line
        PageOp(self, self.services, csr_service.discard_org_csr, self.services.ctx,
               self.created.csr_id, name="Discard the cancelled key and CSR").background() \
            .changes("keys", "requests").run()

    def _encoded(self) -> bytes:
        assert self.created is not None
        return csr_service.csr_text(self.created.der, self.format.currentData(),
                                    crlf=self.crlf.isChecked())

    def save(self) -> None:
        if self.created is None:
            return
        path = Path(self.path.text().strip())
        try:
            csr_service.write_csr(self.services.ctx, self.created.der, path,
                                  self.format.currentData(), crlf=self.crlf.isChecked())
        except SmkiError as exc:
            self.message.setText(exc.message)
            return
        self.saved_path = path
        self.message.setText(f"Saved to {path}.")
        self._label_cancel()

    def copy(self) -> None:
        if self.created is None:
            return
        fmt = self.format.currentData()
        text = csr_service.csr_text(self.created.der, "pem" if fmt == "der" else fmt,
                                    crlf=self.crlf.isChecked()).decode()
        QGuiApplication.clipboard().setText(text)
        self.copied = True
        self.message.setText("Copied to the clipboard.")
        self._label_cancel()
