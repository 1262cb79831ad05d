"""The ADT page's table as Qt model/view: `AdtModel` holds the rows (tuples of strings, as the
file was read) and the findings of the last validation; `AdtTable` is the view over it.

A 100,000-row file cost 600,000 `QTableWidgetItem`s made on the GUI thread (the window froze
for seconds at over 1 GB); here opening N rows costs no widget and no item: the view asks the
model for the cells it paints. A finding colours its cell through `data(BackgroundRole)`
(`tones` error_bg / warn_bg, light or dark) and says its message as the cell's tooltip.

`FindingsList` is the list of findings under the table: each wraps onto as many lines as it
needs (a long one ran off to the side) and the list asks for a few lines' height only, so that
the page fits a 700-pixel-high window whatever the lines above it say.

`AdtTable` keeps the few table calls the page's controllers and tests make (`rowCount()`,
`insertRow()`, `removeRow()`, `setCurrentCell()`, `currentRow()`, `item(r, c).text()`...), so
they read the same over the model as they did over the widget.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from smki_desktop.core.adt.validate import Issue
from smki_desktop.gui.qt import (
    QAbstractTableModel,
    QListWidget,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTableView,
    QWidget,
    Signal,
)
from smki_desktop.gui.tones import qcolor

Index = QModelIndex | QPersistentModelIndex
_ROLE = Qt.ItemDataRole
_SEVERITY = {"error": 2, "warning": 1}


def two_lines(name: str) -> str:
    """A long column name split at its middle space, for a header two lines high."""
    if len(name) <= 14 or " " not in name:
        return name
    spaces = [i for i, c in enumerate(name) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(name) / 2))
    return name[:cut] + "\n" + name[cut + 1:]


class AdtModel(QAbstractTableModel):
    """The open file's rows and the findings on them. `edited` is emitted for the officer's
    changes only (a cell typed, a row added or deleted), not when a file is put in."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._docs: list[str] = []
        self._rows: list[tuple[str, ...]] = []
        self._cells: dict[tuple[int, int], tuple[int, str]] = {}  # (row, col) -> finding
        self._whole: dict[int, tuple[int, str]] = {}  # row -> a finding on the whole row
        self.version = 0  # counts the changes to the rows and columns (what a cache is of)
        self.rendered: tuple[int, bytes] | None = None  # (version, the rows as the file's bytes)

    # -- shape ------------------------------------------------------------------------------
    def set_columns(self, names: Sequence[str], docs: Sequence[str]) -> None:
        self.beginResetModel()
        self._names, self._docs = list(names), list(docs)
        self.version += 1
        self._cells.clear()
        self._whole.clear()
        self.endResetModel()

    def set_rows(self, rows: list[tuple[str, ...]]) -> None:
        """Take `rows` as they are (no copy, no widget: O(1) on the GUI thread)."""
        self.beginResetModel()
        self._rows = rows
        self.version += 1
        self._cells.clear()
        self._whole.clear()
        self.endResetModel()

    def rows(self) -> list[list[str]]:
        """Every row as a list of its cells (as many as there are columns)."""
        n = len(self._names)
        return [[*r[:n], *("",) * (n - len(r))] if len(r) != n else list(r) for r in self._rows]

    def snapshot(self) -> list[tuple[str, ...]]:
        """The rows as they are now, for a background job (cells are never changed in place:
        an edit replaces its row's tuple, so a later edit does not reach the snapshot)."""
        return list(self._rows)

    def keep_rendered(self, version: int, data: bytes) -> None:
        """The rows of `version` as the file's bytes (rendered on the job runner): kept while
        the rows are unchanged, so that Sign and Save do not render 100,000 rows again."""
        if version == self.version:
            self.rendered = (version, data)

    def cached_bytes(self) -> bytes | None:
        """The rows as the file's bytes, if rendered since the last change."""
        if self.rendered is not None and self.rendered[0] == self.version:
            return self.rendered[1]
        return None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._names)

    # -- cells ------------------------------------------------------------------------------
    def text(self, row: int, col: int) -> str:
        values = self._rows[row]
        return values[col] if col < len(values) else ""

    def finding(self, row: int, col: int) -> str:
        """The message(s) of the findings on this cell ('' when none)."""
        mark = self._cells.get((row, col)) or self._whole.get(row)
        return mark[1] if mark else ""

    def data(self, index: Index, role: int = _ROLE.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role in (_ROLE.DisplayRole, _ROLE.EditRole):
            return self.text(r, c)
        if role == _ROLE.BackgroundRole:
            mark = self._cells.get((r, c)) or self._whole.get(r)
            if mark:
                return qcolor("error_bg" if mark[0] == 2 else "warn_bg")
            return None
        if role == _ROLE.ToolTipRole:
            return self.finding(r, c) or (self._docs[c] if c < len(self._docs) else "")
        return None

    def setData(self, index: Index, value: Any, role: int = _ROLE.EditRole) -> bool:
        if not index.isValid() or role != _ROLE.EditRole:
            return False
        r, c = index.row(), index.column()
        text = "" if value is None else str(value)
        if text == self.text(r, c):
            return False
        values = list(self._rows[r])
        values.extend([""] * (c + 1 - len(values)))
        values[c] = text
        self._rows[r] = tuple(values)
        self.version += 1
        self.dataChanged.emit(index, index, [_ROLE.DisplayRole, _ROLE.EditRole])
        self.edited.emit()
        return True

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsEditable)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = _ROLE.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1) if role == _ROLE.DisplayRole else None
        if not 0 <= section < len(self._names):
            return None
        name = self._names[section]
        if role == _ROLE.DisplayRole:
            # long names on two lines: at 1024 wide a one-line "User Quarantine Threshold"
            # was cut to "Quarantine Thre" once a file's rows widened the first columns
            return two_lines(name)
        if role == _ROLE.ToolTipRole:
            doc = self._docs[section]
            return f"{name}: {doc}" if doc else name
        return None

    # -- rows -------------------------------------------------------------------------------
    def insertRows(self, row: int, count: int, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or count < 1 or not 0 <= row <= len(self._rows):
            return False
        self.beginInsertRows(QModelIndex(), row, row + count - 1)
        self._rows[row:row] = [("",) * len(self._names) for _ in range(count)]
        self.version += 1
        self._forget_findings()
        self.endInsertRows()
        self.edited.emit()
        return True

    def removeRows(self, row: int, count: int, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or count < 1 or row < 0 or row + count > len(self._rows):
            return False
        self.beginRemoveRows(QModelIndex(), row, row + count - 1)
        del self._rows[row:row + count]
        self.version += 1
        self._forget_findings()
        self.endRemoveRows()
        self.edited.emit()
        return True

    # -- findings ---------------------------------------------------------------------------
    def set_findings(self, issues: Iterable[Issue]) -> None:
        """Mark each finding's cell (or its whole row); the worse severity wins a cell and
        every message on it is said."""
        self._cells.clear()
        self._whole.clear()
        n = len(self._rows)
        for issue in issues:
            if not 0 <= issue.row_index < n:
                continue
            level = _SEVERITY.get(issue.severity, 2)
            if issue.column_index:
                _merge(self._cells, (issue.row_index, issue.column_index - 1), level,
                       issue.message)
            else:
                _merge(self._whole, issue.row_index, level, issue.message)
        self._repaint()

    def _forget_findings(self) -> None:
        """Rows moved: the marks no longer sit on their cells (the next check sets them)."""
        self._cells.clear()
        self._whole.clear()

    def _repaint(self) -> None:
        if self._rows and self._names:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self._rows) - 1, len(self._names) - 1),
                                  [_ROLE.BackgroundRole, _ROLE.ToolTipRole])


def _merge(marks: dict[Any, tuple[int, str]], key: Any, level: int, message: str) -> None:
    old = marks.get(key)
    if old is None:
        marks[key] = (level, message)
    elif message not in old[1].split("\n"):
        marks[key] = (max(old[0], level), old[1] + "\n" + message)


class Cell:
    """One cell of the table, read and typed as the officer would (through the model)."""

    def __init__(self, model: AdtModel, row: int, col: int) -> None:
        self.model, self.row, self.col = model, row, col

    def text(self) -> str:
        return self.model.text(self.row, self.col)

    def setText(self, text: str) -> None:
        self.model.setData(self.model.index(self.row, self.col), text)

    def toolTip(self) -> str:
        return str(self.model.data(self.model.index(self.row, self.col),
                                   _ROLE.ToolTipRole) or "")


class AdtTable(QTableView):
    """The view: cells edited in place (typing, F2, double-click), a cell at a time."""

    def __init__(self, model: AdtModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.adt_model = model
        self.setModel(model)
        # rows of one line, all as high: nothing is measured per row (100,000 rows)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.setWordWrap(False)

    def sizeHint(self) -> QSize:
        # what the page's layout asks for: small, the splitter gives it the room there is (a
        # tall hint pushed the findings below a 700-pixel-high window)
        return QSize(super().sizeHint().width(), 160)

    def rowCount(self) -> int:
        return self.adt_model.rowCount()

    def columnCount(self) -> int:
        return self.adt_model.columnCount()

    def insertRow(self, row: int) -> None:
        self.adt_model.insertRows(row, 1)

    def removeRow(self, row: int) -> None:
        self.adt_model.removeRows(row, 1)

    def item(self, row: int, col: int) -> Cell | None:
        if not (0 <= row < self.rowCount() and 0 <= col < self.columnCount()):
            return None
        return Cell(self.adt_model, row, col)

    def setCurrentCell(self, row: int, col: int) -> None:
        index = self.adt_model.index(row, col)
        self.setCurrentIndex(index)
        self.scrollTo(index)

    def currentRow(self) -> int:
        return self.currentIndex().row()

    def currentColumn(self) -> int:
        return self.currentIndex().column()


class FindingsList(QListWidget):
    """The findings: wrapped, never scrolled sideways, five lines high at the least."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)  # wrapped again as the width changes
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setSpacing(1)
        self.setMinimumHeight(self._lines(5))

    def _lines(self, n: int) -> int:
        return n * (self.fontMetrics().lineSpacing() + 2) + 2 * self.frameWidth()

    def sizeHint(self) -> QSize:
        # QListWidget asks for 192 pixels: with the result and history lines of a signed
        # file that pushed the page past a 700-pixel-high window (the splitter gives it more)
        return QSize(super().sizeHint().width(), self._lines(6))
