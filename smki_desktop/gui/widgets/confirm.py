"""The confirmation summary shown before every act that signs, sends, revokes or deletes: what
will happen, with which key or credential, in which environment, how many items, and what it
overwrites. Cancel is the default button: Enter with the focus anywhere but on the confirm
button cancels; Enter (or Space) on a focused button presses that button, as Qt's autoDefault
buttons do, so the frame always marks what Enter will do. In Live the summary is framed in red
and the confirm button stays disabled until the officer ticks "I have checked this".

Pages open it with `ask_confirmation(...)`, which returns the dialog (tests find it as the
page's `confirmation` attribute), calls `then()` only when the officer confirms and
`cancelled()` (the page says so) when not, and gives the keyboard focus back to the control
that opened it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.gui.accessibility import spoken
from smki_desktop.gui.qt import (
    QApplication,
    QCheckBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
    isValid,
)
from smki_desktop.gui.tones import text_style, tone

LIVE_FRAME = "QFrame#confirmSummary { border: 3px solid #C62828; background: #FFEBEE; }"
"""The Live summary's frame in the light scheme (`live_frame` gives the scheme in use)."""
TEST_FRAME = "QFrame#confirmSummary { border: 1px solid #B0B0B0; }"


def live_frame() -> str:
    """The Live summary's frame (a thick red border on a red tint) in the scheme in use."""
    return (f"QFrame#confirmSummary {{ border: 3px solid {tone('live_border')}; "
            f"background: {tone('live_bg')}; }}")


CHECK_TEXT = "I have checked this summary (Live: this cannot be undone)"


def check_text(action: str) -> str:
    """The Live check box's text with an Alt letter clear of the action button's (H, else K,
    else D)."""
    taken = re.search(r"&([^&\s])", action.replace("&&", ""))
    letter = next(c for c in "hkd" if taken is None or taken.group(1).lower() != c)
    at = CHECK_TEXT.index(letter)
    return f"{CHECK_TEXT[:at]}&{CHECK_TEXT[at:]}"


class ConfirmDialog(QDialog):
    """What, which key/credential, which environment, how many; a deliberate confirm."""

    def __init__(self, parent: QWidget | None, *, title: str, what: str,
                 env: Environment, facts: Sequence[tuple[str, str]] = (),
                 action: str = "Confirm", warning: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("confirmDialog")
        self.setWindowTitle(f"{title} — {env.label}")
        self.setAccessibleName(f"Confirm: {title}")
        self.env = env
        self.setMinimumWidth(480)
        lay = QVBoxLayout(self)
        frame = QFrame()
        frame.setObjectName("confirmSummary")
        frame.setStyleSheet(live_frame() if env is Environment.LIVE else TEST_FRAME)
        fl = QVBoxLayout(frame)
        rows = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
                       for k, v in [("Environment", env.label.upper()), *facts])
        self.summary = QLabel(f"<p>{html.escape(what)}</p><table cellpadding='3'>{rows}</table>")
        self.plain = " ".join([what, *(f"{k}: {v}." for k, v in
                                       [("Environment", env.label.upper()), *facts]), warning])
        self.summary.setObjectName("confirmText")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        fl.addWidget(self.summary)
        # plain text: escaped here, Qt would show "&#x27;" for an apostrophe (a label without
        # tags is not read as rich text)
        self.warning = QLabel(warning)
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.setObjectName("confirmWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(text_style("error", bold=True))
        self.warning.setVisible(bool(warning))
        fl.addWidget(self.warning)
        lay.addWidget(frame)
        # an Alt letter of its own (not the action's): keyboard users ticked it only by going
        # back to it with Shift+Tab
        self.checked = QCheckBox(check_text(action))
        self.checked.setObjectName("confirmChecked")
        self.checked.setAccessibleName("I have checked this summary")
        self.checked.setVisible(env is Environment.LIVE)
        lay.addWidget(self.checked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("confirmCancel")
        self.confirm_button = QPushButton(action)
        self.confirm_button.setObjectName("confirmAction")
        self.confirm_button.setAccessibleName(spoken(action))  # the mnemonic is not read
        self.cancel_button.setAccessibleName("Cancel")
        cancel_is_default(self.cancel_button, self.confirm_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)
        lay.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.confirm_button.clicked.connect(self.accept)
        self.checked.toggled.connect(lambda _c: self._sync())
        self._sync()
        self.cancel_button.setFocus()

    def showEvent(self, event: Any) -> None:
        """Tall enough for the whole summary at the width it is shown at: a long warning
        widens the dialog after its height was reckoned for a narrower one, and the wrapped
        summary's last facts were cut off."""
        super().showEvent(event)
        layout = self.layout()
        if layout is not None:
            need = layout.totalHeightForWidth(self.width())
            if need > self.height():
                self.resize(self.width(), need)

    def _sync(self) -> None:
        self.confirm_button.setEnabled(self.env is not Environment.LIVE
                                       or self.checked.isChecked())

    def text(self) -> str:
        """The summary as plain text (for tests and screen readers)."""
        return self.plain.strip()

    def confirm(self) -> None:
        """Tick (Live) and confirm, as an officer would."""
        if self.env is Environment.LIVE:
            self.checked.setChecked(True)
        self.confirm_button.click()


def cancel_is_default(cancel: QPushButton, *others: QPushButton) -> None:
    """The rule of every confirmation: Cancel is the dialog's default (Enter from a check box,
    a typed field or the summary cancels); all are autoDefault, so the button with the focus
    takes the default frame and Enter presses it: focus on the confirm button (a deliberate
    Tab or arrow) and Enter confirms. Use plain buttons, not a QDialogButtonBox: the box makes
    its accept button the default when shown."""
    for b in (cancel, *others):
        b.setAutoDefault(True)
        b.setDefault(False)
    cancel.setDefault(True)


def give_focus_back(dlg: QDialog, to: QWidget | None, fallback: QWidget | None = None) -> None:
    """When `dlg` closes, the keyboard focus goes back to `to` (the control that opened it),
    or to `fallback` when that control is gone, hidden or disabled: without it no widget had
    the focus after Escape and the next Tab started again from the window's first control."""
    def back(_code: int) -> None:
        for w in (to, fallback):
            if w is not None and isValid(w) and w.isVisible() and w.isEnabled():
                w.setFocus(Qt.FocusReason.OtherFocusReason)
                return
    dlg.finished.connect(back)


def ask_confirmation(owner: QWidget, then: Callable[[], None], *, title: str, what: str,
                     env: Environment, facts: Sequence[tuple[str, str]] = (),
                     action: str = "Confirm", warning: str = "",
                     cancelled: Callable[[], None] | None = None,
                     focus_to: QWidget | None = None) -> ConfirmDialog:
    """Open the summary (window-modal); `then()` runs only when the officer confirms,
    `cancelled()` (say so on the page) when they do not. The focus goes back to `focus_to`
    when it closes (default: the owner's control that had it when the summary opened)."""
    dlg = ConfirmDialog(owner, title=title, what=what, env=env, facts=facts, action=action,
                        warning=warning)
    open_confirmation(owner, dlg, then, cancelled=cancelled, focus_to=focus_to)
    owner.confirmation = dlg  # type: ignore[attr-defined]
    return dlg


def open_confirmation(owner: QWidget, dlg: QDialog, then: Callable[[], None], *,
                      cancelled: Callable[[], None] | None = None,
                      focus_to: QWidget | None = None) -> None:
    """Open a confirmation dialog (window-modal, deleted when closed): `then()` when accepted,
    `cancelled()` when not, and the focus back to `focus_to` (default: the owner's control
    that had it) when it closes."""
    if focus_to is None:
        had = QApplication.focusWidget()
        focus_to = had if had is not None and owner.isAncestorOf(had) else None
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    give_focus_back(dlg, focus_to, owner)
    dlg.accepted.connect(then)
    if cancelled is not None:
        dlg.rejected.connect(cancelled)
    dlg.open()
