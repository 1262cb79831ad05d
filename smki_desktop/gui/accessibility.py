"""Accessible names for every interactive control of a page: a screen reader (and a keyboard
user's tooltips) must say what a control is. Names set by a page are kept; a control without
one is named from what a sighted user reads next to it: its own text, the label that is its
buddy or its form-row label, its placeholder, its tooltip, or its table's column headings.
`unnamed_controls()` lists what is still nameless (a test fails on any).

Kinds of control are told apart by Qt's class names (`QObject.inherits`), not `isinstance`: the
first page is named at start, and an `isinstance` test needs PySide to make the Python type of
every kind of control listed, most of which that page does not have (issue 15)."""

from __future__ import annotations

import re
from typing import Any

from smki_desktop.gui.qt import QLabel, Qt, QWidget

INTERACTIVE = ("QAbstractButton", "QLineEdit", "QPlainTextEdit", "QTextEdit", "QComboBox",
               "QSpinBox", "QAbstractItemView")
_OWNERS = ("QComboBox", "QSpinBox", "QLineEdit", "QAbstractItemView", "QTabBar")


def _is(obj: Any, kinds: tuple[str, ...]) -> bool:
    """Whether the Qt object is of one of these Qt classes (or a subclass, ours included)."""
    return any(obj.inherits(k) for k in kinds)


def _clean(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("&&", "\0").replace("&", "").replace("\0", "&")
    return " ".join(text.replace("…", "").rstrip(":").split())


def spoken(text: str) -> str:
    """A control's text as a screen reader should say it: no mnemonic '&', tags or '…'."""
    return _clean(text)


def words_of(object_name: str) -> str:
    """An object name as words: "keyDetails" is said "Key details", not as one made-up word."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", object_name.replace("_", " "))
    return _clean(words.capitalize())


def _label_for(widget: QWidget, root: QWidget) -> str:
    for label in root.findChildren(QLabel):
        if label.buddy() is widget and label.text():
            return _clean(label.text())
    parent = widget.parentWidget()
    layout = parent.layout() if parent is not None else None
    if layout is not None and _is(layout, ("QFormLayout",)):
        form: Any = layout
        lab = form.labelForField(widget)
        if isinstance(lab, QLabel) and lab.text():
            return _clean(lab.text())
    return ""


def derived_name(widget: QWidget, root: QWidget) -> str:
    w: Any = widget  # its kind is known from Qt's class name, not a Python type
    if _is(w, ("QAbstractButton",)) and w.text():
        return _clean(w.text())
    name = _label_for(widget, root)
    if name:
        return name
    placeholder = getattr(widget, "placeholderText", None)
    if callable(placeholder) and placeholder():
        return _clean(placeholder())
    if widget.toolTip():
        return _clean(widget.toolTip())
    if _is(w, ("QComboBox",)) and w.count():
        return _clean(w.itemText(0))
    if _is(w, ("QTableView",)):
        model = w.model()
        if model is not None and model.columnCount():
            heads = [str(model.headerData(c, Qt.Orientation.Horizontal) or "")
                     for c in range(min(model.columnCount(), 3))]
            return "Table: " + ", ".join(h for h in heads if h)
    if _is(w, ("QAbstractItemView",)) and widget.objectName():
        return words_of(widget.objectName())
    return ""


def name_controls(root: QWidget) -> int:
    """Name every nameless interactive control under `root`; how many were named."""
    named = 0
    for w in root.findChildren(QWidget):
        if _is(w, INTERACTIVE) and not w.accessibleName():
            name = derived_name(w, root)
            if name:
                w.setAccessibleName(name)
                named += 1
    return named


def unnamed_controls(root: QWidget) -> list[str]:
    return [f"{type(w).__name__} {w.objectName()!r}" for w in root.findChildren(QWidget)
            if _is(w, INTERACTIVE) and not w.accessibleName()
            and w.parentWidget() is not None and not _internal(w)]


def _internal(w: QWidget) -> bool:
    """Parts Qt builds inside a control (a combo's popup list, a spin box's line edit, a
    table's headers and corner button, a line edit's clear button, a tab bar's scroll
    buttons): named through their owner."""
    parent = w.parentWidget()
    while parent is not None:
        if _is(parent, _OWNERS):
            return True
        parent = parent.parentWidget()
    return type(w).__name__ in ("QCalendarWidget",) or w.objectName().startswith("qt_")
