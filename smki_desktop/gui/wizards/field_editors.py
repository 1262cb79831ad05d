"""The nomination wizard's field editors, one per field type of a form schema: a line edit
(Party IDs typed upper case), a text box, a choice, a checklist, and a declaration's box with
its wrapped words beside it (`declaration_row`, in a `FittedRow` that asks for the height the
words take). Each tells the wizard of an edit through `changed(key, value)`; the nominating
SRO's picker is the wizard's own (`sro_picker.SroPicker`: it reads the register)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from smki_desktop.core.forms import FieldSpec
from smki_desktop.gui.qt import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSize,
    Qt,
    QVBoxLayout,
    QWidget,
)

Changed = Callable[[str, Any], None]

# A declaration's box has no text of its own (its words are a wrapped label beside it), so the
# style's focus frame around a checkbox's text has nothing to go round: the box gets the ring
# the app's other editors get when focused (style.STYLE_SHEET, `palette(highlight)`), in the
# light and dark palettes alike. Transparent while not focused, so nothing moves.
FOCUS_RING_STYLE = ("QCheckBox { border: 2px solid transparent; border-radius: 3px; "
                    "padding: 1px; } QCheckBox:focus { border-color: palette(highlight); }")


class FittedRow(QWidget):
    """A form row of wrapped words (a declaration beside its box, its error under them) asking
    for the height they take at the width it is given. A widget's own size hint is its
    layout's height at its hint width, which for wrapped words is that of a narrow column
    several lines tall, and the form gives the row that height: gaps between a declaration,
    its error and the next one."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if not self.isVisible() or not self.hasHeightForWidth():  # not laid out yet
            return hint
        return QSize(hint.width(), self.heightForWidth(self.width()))

    def resizeEvent(self, event: Any) -> None:  # a QResizeEvent
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # its height at this width is its new hint


def field_editor(f: FieldSpec, val: Any, changed: Changed) -> QWidget:
    """The editor of one field holding `val`; `changed(key, value)` as it is edited."""
    if f.type == "bool":
        # the text is a wrapped label beside the box (see declaration_row): a checkbox's
        # own text never wraps, and a declaration must be readable before it is ticked
        cb = QCheckBox()
        cb.setStyleSheet(FOCUS_RING_STYLE)
        cb.setAccessibleName(f.label)
        cb.setChecked(bool(val))
        cb.toggled.connect(lambda checked, k=f.key: changed(k, checked))
        return cb
    if f.type == "choice":
        combo = QComboBox()
        combo.addItem("— choose —", "")
        for o in f.options:
            combo.addItem(o.label, o.value)
        idx = combo.findData(val)
        combo.setCurrentIndex(max(idx, 0))
        combo.currentIndexChanged.connect(
            lambda _i, k=f.key, c=combo: changed(k, c.currentData() or ""))
        return combo
    if f.type == "checklist":
        box = QWidget()
        bl = QVBoxLayout(box)
        chosen = set(val) if isinstance(val, list) else set()
        checks: list[tuple[str, QCheckBox]] = []
        for o in f.options:
            cb = QCheckBox(o.label)
            cb.setChecked(o.value in chosen)
            checks.append((o.value, cb))
            bl.addWidget(cb)
        for _v, cb in checks:
            cb.toggled.connect(lambda _c, k=f.key, cs=checks: changed(
                k, [v for v, c in cs if c.isChecked()]))
        return box
    if f.type == "multiline":
        pe = QPlainTextEdit()
        pe.setPlainText(str(val or ""))
        pe.setFixedHeight(70)
        pe.setTabChangesFocus(True)
        pe.textChanged.connect(lambda k=f.key, e=pe: changed(k, e.toPlainText()))
        return pe
    le = QLineEdit()
    le.setText(str(val or ""))
    if f.type == "date":
        le.setPlaceholderText("YYYY-MM-DD")
    elif f.pattern_hint:
        le.setPlaceholderText(f.pattern_hint)
    if f.max_length:
        le.setMaxLength(f.max_length)
    if f.type == "party_id":  # Party IDs are upper case: typed so
        le.textEdited.connect(lambda text, e=le: upper_case(e, text))
        # (textChanged comes after textEdited, with the text as typed)
        le.textChanged.connect(lambda text, k=f.key: changed(k, text.upper()))
    else:
        le.textChanged.connect(lambda text, k=f.key: changed(k, text))
    return le


def upper_case(le: QLineEdit, text: str) -> None:
    """A Party ID as typed, in upper case, the cursor where it was."""
    if text != text.upper():
        pos = le.cursorPosition()
        le.setText(text.upper())
        le.setCursorPosition(pos)


def declaration_row(cb: QWidget, f: FieldSpec, err: QLabel) -> QWidget:
    """A declaration's box with its words beside it and its error just under them."""
    row = QWidget()
    hl = QHBoxLayout(row)
    hl.setContentsMargins(0, 0, 0, 0)
    hl.addWidget(cb, 0, Qt.AlignmentFlag.AlignTop)
    words = QVBoxLayout()
    words.setContentsMargins(0, 0, 0, 0)
    words.setSpacing(2)
    text = QLabel(f.label + (" *" if f.required else ""))
    text.setObjectName(f"declaration:{f.key}")
    text.setWordWrap(True)
    text.setBuddy(cb)
    text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    # a click on the words ticks the box, as a checkbox's own text would
    if isinstance(cb, QCheckBox):
        def press(_event: Any, box: QCheckBox = cb) -> None:
            box.toggle()
        text.mousePressEvent = press  # type: ignore[method-assign,assignment]
    words.addWidget(text)
    words.addWidget(err)
    # at the top of any room the row is given: the error just under the words, the room
    # to spare below it (shared out, it would open a gap between the words and the error)
    words.setAlignment(Qt.AlignmentFlag.AlignTop)
    hl.addLayout(words, 1)
    return row
