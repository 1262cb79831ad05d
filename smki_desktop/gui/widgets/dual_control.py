"""Widgets shared by the revocation and approval screens: "Sign as" (an officer and one of
their linked keys, from the register, never from the profile) and the confirmation shown before
anything irreversible: a plain summary, and in Live a typed confirmation."""

from __future__ import annotations

import math
from typing import Any

from smki_desktop.core.approvals import REASON_TEXT as REASON_TEXT
from smki_desktop.core.approvals import REASONS, URGENCIES, check_reason
from smki_desktop.core.environment import Environment
from smki_desktop.gui.accessibility import spoken
from smki_desktop.gui.qt import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.widgets.confirm import cancel_is_default
from smki_desktop.gui.widgets.field_check import FieldCheck
from smki_desktop.services import revocation
from smki_desktop.services.identity import SigningChoice

COMBO_CHROME = 48  # the combo's frame, padding and drop-down arrow
MAX_PICKER_WIDTH = 760  # with "Sign as:" and the dialog's margins, within a 1024-wide screen


def reason_text(code: str) -> str:
    """A revocation reason in words, with the RFC 5280 name the DCC uses."""
    words = REASON_TEXT.get(code)
    return f"{words} ({code})" if words else code


def sign_as_text(c: SigningChoice) -> str:
    """An officer and their key as "Sign as" offers them: the key by its label and usage,
    its short id after (for telling two like-named keys apart)."""
    label = c.key_label or "unlabelled key"
    return (f"{c.officer_id} {c.name} ({c.role.upper()}, {c.status}) — key '{label}' "
            f"(file-signing, {c.key_id[:12]})")


class ActorPicker(QWidget):
    """A combo of (officer, key) pairs that may sign here."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Si&gn as:")
        row.addWidget(self.label)
        self.combo = QComboBox()
        self.combo.setObjectName("signAs")
        self.combo.setAccessibleName("Sign as")
        self.label.setBuddy(self.combo)
        self.combo.setMinimumContentsLength(40)
        # long key labels are elided, not allowed to widen the page past a laptop screen
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        row.addWidget(self.combo, 1)
        self.choices: list[SigningChoice] = []

    def set_choices(self, choices: list[SigningChoice]) -> None:
        current = self.selected()
        self.choices = choices
        self.combo.clear()
        for c in choices:
            self.combo.addItem(sign_as_text(c), c.officer_id + ":" + c.key_id)
        if not choices:
            self.combo.addItem("No officer with a linked file-signing credential yet "
                               "(Officers > Link key…)", "")
        self._fit_widest()
        if current is not None:
            self.select(current.officer_id, current.key_id)

    def _fit_widest(self) -> None:
        """Wide enough for the longest choice (officer, key id and label whole), within what
        a 1024-pixel-wide window leaves: it was elided at 40 characters ("file-signing cre…")."""
        metrics = self.combo.fontMetrics()
        widest = max((metrics.horizontalAdvance(self.combo.itemText(i))
                      for i in range(self.combo.count())), default=0)
        self.combo.setMinimumWidth(min(widest + COMBO_CHROME, MAX_PICKER_WIDTH))

    def select(self, officer_id: str, key_id: str | None = None) -> None:
        for i, c in enumerate(self.choices):
            if c.officer_id == officer_id and (key_id is None or c.key_id == key_id):
                self.combo.setCurrentIndex(i)
                return

    def selected(self) -> SigningChoice | None:
        i = self.combo.currentIndex()
        return self.choices[i] if 0 <= i < len(self.choices) else None


class ConfirmDialog(QDialog):
    """A summary of what is about to happen, unmistakably worded; in Live the user types
    `word` to enable the button. The rule of every confirmation (`widgets.confirm`): Cancel is
    the default, Enter anywhere but on a focused confirm button cancels. Open it with
    `open_confirmation` (the focus goes back when it closes)."""

    def __init__(self, title: str, summary_html: str, action: str, env: Environment,
                 word: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirmDialog")
        self.setWindowTitle(title)
        self.word = word
        box = QVBoxLayout(self)
        self.summary = QTextEdit()
        self.summary.setObjectName("confirmSummary")
        self.summary.setAccessibleName("Summary")
        self.summary.setReadOnly(True)
        self.summary.setHtml(summary_html)
        box.addWidget(self.summary)
        self.typed = QLineEdit()
        self.typed.setObjectName("typedConfirmation")
        self.typed.setAccessibleName(f"Type {word} to confirm")
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel = QPushButton("&Cancel")
        self.cancel.setObjectName("confirmCancel")
        self.ok = QPushButton(action if "&" in action else "&" + action)
        self.ok.setObjectName("confirmAction")
        self.ok.setAccessibleName(spoken(self.ok.text()))
        cancel_is_default(self.cancel, self.ok)
        row.addWidget(self.cancel)
        row.addWidget(self.ok)
        self.live = env is Environment.LIVE
        if self.live:
            typed_label = QLabel(f"This is the <b>Live</b> environment. Type <b>{word}</b> "
                                 "to confirm:")
            typed_label.setBuddy(self.typed)
            box.addWidget(typed_label)
            box.addWidget(self.typed)
            self.ok.setEnabled(False)
            self.typed.textChanged.connect(
                lambda t: self.ok.setEnabled(t.strip() == self.word))
        self.ok.clicked.connect(self.accept)
        self.cancel.clicked.connect(self.reject)
        box.addLayout(row)
        fit_summary(self.summary, self)
        (self.typed if self.live else self.cancel).setFocus()

    def showEvent(self, event: Any) -> None:
        """Laid out at its real size, the summary may still need a few more pixels: taken
        (a little only: a longer one scrolls) so that no line is hidden under a scroll bar."""
        super().showEvent(event)
        summary = self.summary
        for _ in range(2):  # wider (a table's cells kept whole), then taller at that width
            wide = summary.horizontalScrollBar().maximum()
            if 0 < wide <= 120:
                summary.setMinimumWidth(summary.minimumWidth() + wide)
            tall = summary.verticalScrollBar().maximum()
            if 0 < tall <= 60:
                summary.setFixedHeight(summary.minimumHeight() + tall)
            if not (wide or tall):
                break
            self.adjustSize()


def fit_summary(summary: QTextEdit, dialog: QDialog, *, floor: tuple[int, int] = (520, 60)
                ) -> None:
    """The summary as wide and tall as its text (no value wrapped mid-way, nothing cut off),
    within the window it is shown over (a 1024×700 laptop screen at least) and the screen;
    beyond that it scrolls."""
    parent = dialog.parentWidget()
    host = parent.window() if parent is not None else None
    screen = (host.screen() if host is not None else None) or QGuiApplication.primaryScreen()
    max_w, max_h = 1000, 560  # fits a 1024×700 screen with the frame and the buttons
    if screen is not None:
        avail = screen.availableGeometry()
        max_w, max_h = min(max_w, avail.width() - 40), min(max_h, avail.height() - 140)
    frame = 2 * summary.frameWidth()
    doc = summary.document().clone(summary)
    doc.setTextWidth(max_w - frame)
    # with room to spare: Qt shares a table's width out again at the narrower width
    width = max(floor[0], min(max_w, math.ceil(doc.idealWidth()) + frame + 40))
    doc.setTextWidth(width - frame)  # the viewport's width: the height at that width
    height = max(floor[1], min(max_h, math.ceil(doc.size().height()) + frame + 8))
    summary.setMinimumWidth(width)
    summary.setFixedHeight(height)  # a short summary leaves no empty box under it
    doc.deleteLater()


class RevokeDialog(QDialog):
    """Reason, justification, urgency and who signs a revocation request; the certificates it
    names are listed, and in Live the user types REVOKE."""

    def __init__(self, summary_html: str, choices: list[SigningChoice], env: Environment,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("revokeDialog")
        self.setWindowTitle(f"Request revocation (needs an SRO's approval) — {env.label}")
        box = QVBoxLayout(self)
        self.summary = QTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setHtml(summary_html)
        self.summary.setMinimumSize(520, 140)
        box.addWidget(self.summary)
        self.reason = QComboBox()
        # no reason chosen for the officer: key compromise, the gravest, would otherwise be
        # filed by a bare Enter
        self.reason.addItem("— choose a reason —", "")
        for r in REASONS:
            self.reason.addItem(reason_text(r), r)
        self.justification = QLineEdit()
        self.justification.setObjectName("justification")
        self.justification.setPlaceholderText("why (signed with the request)")
        self.urgency = QComboBox()
        for u in URGENCIES:
            self.urgency.addItem(u, u)
        self.actor = ActorPicker()
        self.actor.set_choices(choices)
        self.actor.label.setText("&Sign as:")
        self.fields = FieldCheck()
        form = QFormLayout()
        for label, name, w in (("&Reason", "Reason", self.reason),
                               ("&Justification", "Justification", self.justification),
                               ("&Urgency", "Urgency", self.urgency)):
            w.setAccessibleName(name)
            form.addRow(label + ":", w)
            # the error under the field it names; the dialog stays open (see accept)
            if w is self.justification:
                form.addRow("", self.fields.label(w, "field.justification"))
            elif w is self.reason:
                form.addRow("", self.fields.label(w, "field.revocation-reason"))
        box.addLayout(form)
        box.addWidget(self.actor)
        self.typed = QLineEdit()
        self.typed.setObjectName("typedConfirmation")
        # plain buttons, Cancel the default as in every confirmation (`cancel_is_default`): a
        # QDialogButtonBox made "File the signed request" the default, and Enter filed it.
        # Enter in a typed field does neither (keyPressEvent): it would lose the justification.
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel = QPushButton("&Cancel")
        self.cancel.setObjectName("confirmCancel")
        self.ok = QPushButton("&File the signed request")
        self.ok.setObjectName("confirmAction")
        self.ok.setAccessibleName(spoken(self.ok.text()))
        cancel_is_default(self.cancel, self.ok)
        row.addWidget(self.cancel)
        row.addWidget(self.ok)
        if env is Environment.LIVE:
            typed_label = QLabel("This is the <b>Live</b> environment. Type <b>REVOKE</b> to "
                                 "confirm:")
            typed_label.setBuddy(self.typed)
            self.typed.setAccessibleName("Type REVOKE to confirm")
            box.addWidget(typed_label)
            box.addWidget(self.typed)
            self.ok.setEnabled(False)
            self.typed.textChanged.connect(lambda t: self.ok.setEnabled(t.strip() == "REVOKE"))
        self.ok.clicked.connect(self.accept)
        self.cancel.clicked.connect(self.reject)
        box.addLayout(row)

    def keyPressEvent(self, event: Any) -> None:
        """Enter in a typed field (the justification, the typed REVOKE) neither files the
        request nor cancels it and loses what was typed; on a focused button it presses it,
        and Escape cancels, as in every confirmation."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and isinstance(self.focusWidget(), QLineEdit):
            event.accept()
            return
        super().keyPressEvent(event)

    def accept(self) -> None:
        """Closes only on a justification the service would take; otherwise the error is
        shown under the field, focus goes there, and the reason and urgency chosen stay.
        A reason must be chosen: none is chosen for the officer."""
        def check() -> None:
            check_reason(self.reason.currentData() or "")
            revocation.check_justification(self.justification.text())

        if self.fields.passes(check):
            super().accept()
