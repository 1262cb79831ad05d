"""How a page says the outcome of what the officer just did, so that a failure never looks like
a success: a failure starts with the word "Failed:", has the style's warning icon and the
`error` tone; a success has the style's apply (tick) icon and the `ok` tone; a note ("Saving…")
stays plain. Never colour alone: the word and the icon say it too, and both colour schemes have
their shade (gui/tones.py). The whole text, with its kind first, is the label's accessible
description, as the status line gives a screen reader its message.

`failure_text` and `is_failure` are the convention the status line follows too: a message that
starts with one of FAILURE_WORDS, or names an operation that failed ("Sign ADT file failed:
…"), is shown as a failure there.
"""

from __future__ import annotations

import re

from smki_desktop.gui import tones
from smki_desktop.gui.qt import QHBoxLayout, QLabel, QStyle, Qt, QWidget

FAILED = "Failed: "
#: what a failure's message starts with (page operations, error boxes' titles, refusals)
FAILURE_WORDS = ("failed", "could not", "refused", "cannot ")
ICON_PX = 16
# by name: the status line imports this module at start, before any enum is needed
ICONS = {"failed": "SP_MessageBoxWarning", "ok": "SP_DialogApplyButton"}
TONES = {"failed": "error", "ok": "ok"}
# "<operation> failed: …", as PageOp's failures and the ADT page's say it
_OPERATION_FAILED = re.compile(r"^[^:\n]{1,60} failed: ")


def is_failure(text: str) -> bool:
    """Whether a message says that something failed (it starts with one of FAILURE_WORDS)."""
    return text.lstrip().lower().startswith(FAILURE_WORDS) \
        or _OPERATION_FAILED.match(text.lstrip()) is not None


def failure_text(text: str) -> str:
    """`text` as a failure: "Failed: " first unless it already says that it failed."""
    return text if is_failure(text) else FAILED + text


def icon_label(parent: QWidget | None = None) -> QLabel:
    """An empty label for an outcome's icon (hidden until `dress_icon` gives it one)."""
    icon = QLabel(parent)
    icon.setObjectName("outcomeIcon")
    icon.setFixedSize(ICON_PX, ICON_PX)
    icon.setStyleSheet("padding: 0px;")  # the status line pads its labels (gui/style.py)
    icon.setVisible(False)
    return icon


def dress_icon(icon: QLabel, kind: str) -> None:
    """The icon of `kind` ("failed", "ok"; anything else: none) on `icon`."""
    which = ICONS.get(kind)
    if which is None:
        icon.clear()
        icon.setVisible(False)
        return
    standard = getattr(QStyle.StandardPixmap, which)
    icon.setPixmap(icon.style().standardIcon(standard).pixmap(ICON_PX, ICON_PX))
    icon.setAccessibleName("Failed" if kind == "failed" else "Done")
    icon.setVisible(True)


def dress_text(label: QLabel, kind: str) -> None:
    """The tone of `kind` on `label` (plain for a note)."""
    tone = TONES.get(kind)
    label.setStyleSheet(tones.text_style(tone, bold=kind == "failed") if tone else "")


class OutcomeLine(QWidget):
    """A page's message line: `failed(text)`, `ok(text)`, `note(text)` (see the module's
    docstring). `setText`/`text`/`clear` keep QLabel's names: `setText` says a note."""

    def __init__(self, parent: QWidget | None = None, *, collapse: bool = False) -> None:
        """`collapse`: the line takes no room while it says nothing (a page short of height)."""
        super().__init__(parent)
        self.setObjectName("outcomeLine")
        self.kind = ""
        self.collapse = collapse
        if collapse:  # (never setVisible(True) here: unparented, it would open as a window)
            self.setVisible(False)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.icon = icon_label()
        lay.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        self.label = QLabel()
        self.label.setObjectName("outcomeText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.label, 1)

    def failed(self, text: str) -> None:
        self._say("failed", failure_text(text))

    def ok(self, text: str) -> None:
        self._say("ok", text)

    def note(self, text: str) -> None:
        self._say("", text)

    def setText(self, text: str) -> None:
        self.note(text)

    def text(self) -> str:
        return self.label.text()

    def clear(self) -> None:
        self._say("", "")

    def _say(self, kind: str, text: str) -> None:
        if self.collapse:
            self.setVisible(bool(text))
        self.kind = kind if text else ""
        self.label.setText(text)
        dress_text(self.label, self.kind)
        dress_icon(self.icon, self.kind)
        spoken = {"failed": "Failed", "ok": "Done"}.get(self.kind, "")
        self.label.setAccessibleName("Outcome" if text else "")
        self.label.setAccessibleDescription(
            text if not spoken or text.startswith(spoken) else f"{spoken}: {text}")
