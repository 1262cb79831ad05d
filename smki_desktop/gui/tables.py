"""Tables that read at any width, and remember how the officer left them.

`fit_columns(table)`: columns as wide as their contents (judged on the first 200 rows, so a
long table stays fast) until the officer drags one, the last column taking the rest of the
width (Qt does not stretch it again when rows arrive later, so that is redone then).

`select_on_focus(table)`: the keyboard's way into a table selects a row (the current one, else
the first), so the actions that need a selected row are enabled at once.

`UiState`: window size and position, column widths and sort order, kept per environment in an
INI file in that environment's data folder (never the user's home), restored when the window
and each page are built, saved when the window closes or the environment is switched.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from smki_desktop.gui import qt
from smki_desktop.gui.qt import QObject, QSettings, QTimer, isValid

if TYPE_CHECKING:
    from smki_desktop.gui.qt import QAbstractItemView, QEvent, QMainWindow, QTableView, QWidget

# The table types (with their enums) are looked up in `qt` when a table is first fitted, not at
# import: the window's shell, which imports this module for UiState, shows no table.

STATE_FILE = "gui-state.ini"


def fit_columns(table: QTableView) -> None:
    header = table.horizontalHeader()
    header.setResizeContentsPrecision(200)
    header.setMinimumSectionSize(48)
    header.setSectionResizeMode(qt.QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    table.setWordWrap(False)
    table._auto_fit = True  # type: ignore[attr-defined]
    table._fitting = False  # type: ignore[attr-defined]

    def resized(index: int, *_a: object) -> None:
        # the stretched last column follows the table's own width (the window shown, a
        # splitter moved): only another column resized means the officer sized it
        if index == header.count() - 1:
            return
        if not getattr(table, "_fitting", True):
            table._auto_fit = False  # type: ignore[attr-defined]  # the officer sized it

    header.sectionResized.connect(resized)
    model = table.model()
    if model is not None:
        for signal in (model.rowsInserted, model.modelReset, model.dataChanged):
            signal.connect(lambda *_a, t=table: refit_later(t))
    refit_later(table)


def refit_later(table: QTableView) -> None:
    if not isValid(table) or getattr(table, "_refit_pending", False):
        return
    table._refit_pending = True  # type: ignore[attr-defined]

    def again() -> None:
        if not isValid(table):
            return
        table._refit_pending = False  # type: ignore[attr-defined]
        header = table.horizontalHeader()
        table._fitting = True  # type: ignore[attr-defined]
        try:
            if getattr(table, "_auto_fit", False):
                header.resizeSections(qt.QHeaderView.ResizeMode.ResizeToContents)
            header.setStretchLastSection(False)
            header.setStretchLastSection(True)
        finally:
            table._fitting = False  # type: ignore[attr-defined]

    QTimer.singleShot(0, table, again)


class _SelectOnFocus(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == qt.QEvent.Type.FocusIn and isinstance(watched,
                                                                 qt.QAbstractItemView):
            select_current_row(watched)
        return False


def select_current_row(view: QAbstractItemView) -> None:
    """Select the current row, or the first, when nothing is selected and there are rows."""
    model, sel = view.model(), view.selectionModel()
    if model is None or sel is None or sel.hasSelection() or model.rowCount() == 0:
        return
    current = view.currentIndex()
    row = current.row() if current.isValid() else 0
    column = current.column() if current.isValid() else 0
    flags = qt.QItemSelectionModel.SelectionFlag.ClearAndSelect
    if view.selectionBehavior() == qt.QAbstractItemView.SelectionBehavior.SelectRows:
        flags |= qt.QItemSelectionModel.SelectionFlag.Rows
    sel.setCurrentIndex(model.index(row, max(column, 0)), flags)


def select_on_focus(view: QAbstractItemView) -> None:
    """Focus entering `view` (Tab, a click on its empty part, a shortcut) selects the current
    row, else the first, when none is: a focus cell with nothing selected left the row's
    buttons disabled, and with one row ↓ could not select it (only Space did)."""
    f = _SelectOnFocus(view)  # kept alive, and deleted, with the view
    view.installEventFilter(f)


class UiState:
    def __init__(self, env_dir: Path) -> None:
        self.path = Path(env_dir) / STATE_FILE
        self.settings = QSettings(str(self.path), QSettings.Format.IniFormat)

    def restore_window(self, window: QMainWindow) -> bool:
        geometry = self.settings.value("window/geometry")
        return bool(geometry) and bool(window.restoreGeometry(geometry))  # type: ignore[arg-type]

    def save_window(self, window: QMainWindow) -> None:
        self.settings.setValue("window/geometry", window.saveGeometry())

    @staticmethod
    def _tables(page: QWidget) -> list[tuple[str, QTableView]]:
        views = [v for v in page.findChildren(qt.QTableView)
                 if isinstance(v, qt.QAbstractItemView)]
        return [(v.objectName() or f"table{i}", v) for i, v in enumerate(views)]

    def restore_page(self, module: str, page: QWidget) -> None:
        for name, view in self._tables(page):
            state = self.settings.value(f"tables/{module}.{name}")
            if not state:
                continue
            view._fitting = True  # type: ignore[attr-defined]
            try:
                header = view.horizontalHeader()
                if header.restoreState(state):  # type: ignore[arg-type]
                    view._auto_fit = False  # type: ignore[attr-defined]
                    header.setSectionResizeMode(qt.QHeaderView.ResizeMode.Interactive)
                    header.setStretchLastSection(True)
                    if view.isSortingEnabled():
                        view.sortByColumn(header.sortIndicatorSection(),
                                          header.sortIndicatorOrder())
            finally:
                view._fitting = False  # type: ignore[attr-defined]

    def save_page(self, module: str, page: QWidget) -> None:
        for name, view in self._tables(page):
            self.settings.setValue(f"tables/{module}.{name}",
                                   view.horizontalHeader().saveState())

    def sync(self) -> None:
        self.settings.sync()


def upright_sort_arrows(table: QTableView) -> None:
    """The sort arrow of `table`'s header pointing up for first-to-last (A to Z, 0 to 9), as
    it is read: Fusion draws Qt's ascending order as a down arrow, so a table sorted from the
    last row to the first showed ▲."""
    from smki_desktop.gui.qt import QProxyStyle, QStyle, QStyleOptionHeader

    up, down = QStyleOptionHeader.SortIndicator.SortUp, QStyleOptionHeader.SortIndicator.SortDown

    class UprightArrows(QProxyStyle):
        def drawPrimitive(self, element: QStyle.PrimitiveElement, option: object,
                          painter: object, widget: QWidget | None = None) -> None:
            if element == QStyle.PrimitiveElement.PE_IndicatorHeaderArrow \
                    and isinstance(option, QStyleOptionHeader):
                option = QStyleOptionHeader(option)
                option.sortIndicator = {up: down, down: up}.get(option.sortIndicator,
                                                                option.sortIndicator)
            super().drawPrimitive(element, option, painter, widget)  # type: ignore[arg-type]

    header = table.horizontalHeader()
    arrows = UprightArrows()  # over the application's style
    arrows.setParent(header)  # kept alive, and deleted, with the header
    header.setStyle(arrows)
