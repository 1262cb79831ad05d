"""Shared pieces for objects shown in tables: a details tree (sections of labelled values,
findings in red, every value selectable and copyable), and a table's context menu and
double-click wired to the page's actions for the row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from smki_desktop.gui.accessibility import words_of
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QGuiApplication,
    QKeySequence,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
    set_enum_property,
)
from smki_desktop.gui.tones import qcolor
from smki_desktop.services.view_rows import Row, Section


class DetailsTree(QTreeWidget):
    """Sections as top-level items, each row "label | value"; Ctrl+C or the context menu
    copies the selected value."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(words_of(name))
        self.setColumnCount(2)
        self.setHeaderLabels(["Field", "Value"])
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setWordWrap(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        set_enum_property(self, "contextMenuPolicy", "CustomContextMenu")  # Qt: see there
        self.customContextMenuRequested.connect(self._menu)

    def show_sections(self, sections: Sequence[Section], collapsed: Sequence[str] = ()) -> None:
        self.clear()
        for s in sections:
            top = QTreeWidgetItem([s.title, ""])
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for r in s.rows:
                item = QTreeWidgetItem([r.label, r.value])
                item.setToolTip(1, r.value)
                if r.problem:
                    item.setForeground(0, qcolor("error"))
                    item.setForeground(1, qcolor("error"))
                top.addChild(item)
            self.addTopLevelItem(top)
            top.setExpanded(s.title not in collapsed)
        self.resizeColumnToContents(0)

    def text(self) -> str:
        """Everything shown, as text (copy all; tests)."""
        lines = []
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            if top is None:
                continue
            lines.append(top.text(0))
            for j in range(top.childCount()):
                child = top.child(j)
                if child is not None:
                    lines.append(f"  {child.text(0)}: {child.text(1)}")
        return "\n".join(lines)

    def copy_selected(self) -> str:
        item = self.currentItem()
        value = (item.text(1) or item.text(0)) if item is not None else ""
        if value:
            QGuiApplication.clipboard().setText(value)
        return value

    def _menu(self, pos: Any) -> None:
        menu = QMenu(self)
        menu.addAction("Copy value", self.copy_selected)
        menu.addAction("Copy all", lambda: QGuiApplication.clipboard().setText(self.text()))
        menu.popup(self.viewport().mapToGlobal(pos))

    def keyPressEvent(self, event: Any) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selected()
            return
        super().keyPressEvent(event)


RowActions = Callable[[], list[tuple[str, Callable[[], None]]]]


def wire_row_actions(table: QAbstractItemView, actions: RowActions,
                     on_double_click: Callable[[], None]) -> None:
    """A right-click menu of the row's actions (built when asked, so that it reflects the row)
    and double-click / Enter to open the row's details."""
    # by name: the Dashboard's tables are built at start, which needs no other `Qt` name
    set_enum_property(table, "contextMenuPolicy", "CustomContextMenu")

    def menu(pos: Any) -> None:
        m = QMenu(table)
        m.setObjectName("rowMenu")
        for text, fn in actions():
            m.addAction(text, fn)
        table.row_menu = m  # type: ignore[attr-defined]
        m.popup(table.viewport().mapToGlobal(pos))

    table.customContextMenuRequested.connect(menu)
    table.doubleClicked.connect(lambda _i: on_double_click())
    table.activated.connect(lambda _i: on_double_click())


def words(value: object) -> str:
    """A value as words: lists joined, mappings as "key: value" pairs, no JSON braces."""
    if isinstance(value, dict):
        return "; ".join(f"{_label(k)}: {words(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(words(v) for v in value) or "none"
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _label(key: object) -> str:
    text = str(key).replace("_", " ").replace("-", " ")
    return text[:1].upper() + text[1:]


def sections_from_mapping(mapping: dict[str, Any], general: str = "General") -> list[Section]:
    """A nested document as sections: each mapping value a section of its own, the scalars
    together under `general`."""
    top: list[Row] = []
    out: list[Section] = []
    for k, v in mapping.items():
        if isinstance(v, dict) and v:
            out.append(Section(_label(k), tuple(Row(_label(k2), words(v2))
                                                for k2, v2 in v.items())))
        else:
            top.append(Row(_label(k), words(v)))
    return ([Section(general, tuple(top))] if top else []) + out
