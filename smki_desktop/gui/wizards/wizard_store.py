"""The nomination wizard's reads and writes of the store, on the job runner: a team store that
does not answer would otherwise hold the window until its timeout.

- Opening: the answers to start from — a saved draft, or for a new nomination the defaults
  from the Party profile and the officer's own register entry — are read by `open_wizard`;
  meanwhile the wizard shows `LoadingPage` ("Loading…", then a failure in plain words with
  Try again) and nothing can be chosen or typed.
- The choose screen's line about saved drafts is `DraftsNote` ("Looking for saved drafts…",
  then the count, or the failure with Try again).
- Save draft hands the service a `snapshot` of the answers taken on the GUI thread, so that
  typing on while it is written neither races the job nor is lost.

An answer that arrives after the wizard was closed is not shown (`stop()`); the ops belong
to their widgets, so a deleted wizard's are dropped by `PageOp`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from smki_desktop.core.errors import StoreUnreachable
from smki_desktop.core.nomination_wizard import NominationWizard
from smki_desktop.gui.page_op import LOADING, PageOp
from smki_desktop.gui.qt import QHBoxLayout, QLabel, QPushButton, Qt, QVBoxLayout, QWidget
from smki_desktop.gui.tones import text_style
from smki_desktop.services import nomination as nom

if TYPE_CHECKING:
    from smki_desktop.core.forms import FormSchema
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

LOADING_DRAFT = "Loading the saved draft…"
LOOKING_FOR_DRAFTS = "Looking for saved drafts…"
SAVING = "Saving the draft…"


def open_wizard(ctx: AppContext, forms: Mapping[str, FormSchema],
                draft_id: str | None) -> NominationWizard:
    """The wizard to start from: the saved draft, or a new one with the defaults (run on the
    job runner; the wizard is pure Python)."""
    if draft_id:
        return nom.resume_draft(ctx, draft_id)
    return NominationWizard(forms, nom.wizard_defaults(ctx))


def snapshot(wiz: NominationWizard) -> NominationWizard:
    """A copy of the wizard's answers as they are now, for the save job (GUI thread): the job
    never reads the answers the officer goes on editing."""
    copied = copy.copy(wiz)
    copied.values = copy.deepcopy(wiz.values)
    return copied


def open_failure(draft_id: str | None, text: str) -> str:
    """Why the wizard could not open, in plain words."""
    if draft_id:
        return f"The saved draft could not be read: {text}"
    return ("What the form is filled in with (your Party profile and your register entry) "
            f"could not be read: {text}")


def save_failure(text: str) -> str:
    return (f"The draft was not saved: {text} Your answers are kept here; Save draft tries "
            "again.")


class LoadingPage(QWidget):
    """The wizard's screen while it opens: "Loading…", or why it could not, with Try again."""

    def __init__(self, retry: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.addStretch(1)
        self.label = QLabel(LOADING)
        self.label.setObjectName("wizardLoading")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        v.addWidget(self.label)
        row = QHBoxLayout()
        row.addStretch(1)
        self.retry = QPushButton("&Try again")
        self.retry.setObjectName("wizardRetry")
        self.retry.setAccessibleName("Read again")
        self.retry.setAutoDefault(False)
        self.retry.clicked.connect(retry)
        self.retry.hide()
        row.addWidget(self.retry)
        row.addStretch(1)
        v.addLayout(row)
        v.addStretch(2)

    def loading(self, text: str) -> None:
        self.label.setStyleSheet(text_style("muted"))
        self.label.setText(text)
        self.setAccessibleDescription(text)
        self.retry.hide()

    def failed(self, text: str) -> None:
        self.label.setStyleSheet(text_style("error"))
        self.label.setText(text)
        self.setAccessibleDescription(text)
        self.retry.show()
        self.retry.setFocus(Qt.FocusReason.OtherFocusReason)


class DraftsNote(QWidget):
    """The choose screen's line about saved drafts, read on the job runner."""

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.op: PageOp | None = None
        self.stopped = False
        hl = QHBoxLayout(self)
        hl.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("")
        self.label.setObjectName("draftsNote")
        self.label.setWordWrap(True)
        hl.addWidget(self.label, 1)
        self.retry = QPushButton("&Try again")
        self.retry.setObjectName("draftsRetry")
        self.retry.setAccessibleName("Look for saved drafts again")
        self.retry.setAutoDefault(False)
        self.retry.clicked.connect(self.load)
        self.retry.hide()
        hl.addWidget(self.retry)

    def loading(self) -> bool:
        """The read is under way (tests wait on it)."""
        return self.op is not None and self.op.running

    def load(self) -> None:
        if self.stopped or self.loading():
            return
        self._say(LOOKING_FOR_DRAFTS, "muted")
        self.retry.hide()
        self.op = PageOp(self, self.services, nom.list_drafts, self.services.ctx,
                         name="Read the saved drafts").background() \
            .success(self._loaded).failure(self._failed)
        self.op.run()

    def stop(self) -> None:
        """The wizard is closed: an answer still to come is not shown."""
        self.stopped = True

    def _loaded(self, drafts: list[dict[str, Any]]) -> None:
        if self.stopped:
            return
        self._say(f"{len(drafts)} saved draft(s): resume them from the Officers page."
                  if drafts else "", "muted")

    def _failed(self, text: str, exc: BaseException) -> None:
        if self.stopped:
            return
        if isinstance(exc, StoreUnreachable):
            self.services.unreachable(exc)  # the window's banner says so too
        self._say(f"The saved drafts could not be listed: {text}", "error")
        self.retry.show()

    def _say(self, text: str, kind: str) -> None:
        self.label.setStyleSheet(text_style(kind))
        self.label.setText(text)
        self.setVisible(bool(text))
