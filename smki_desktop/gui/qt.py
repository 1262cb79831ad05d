"""The one place that imports Qt. Everything in `gui` imports Qt names from here.

Names are resolved on first use (PEP 562), so a module that needs only QtCore does not load
QtWidgets. PySide6 creates each Qt type when it is first used (lazy types, as PySide ships:
see `smki_desktop/__init__.py`), and Qt is touched only on the GUI thread; background jobs never
import or call it (the tests' SMKI_QT_THREAD_GUARD checks). `Qt` itself is handed out as a thin
stand-in until one of its names is used (see `_LazyQtNamespace`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtCore import (
        QAbstractTableModel,
        QCoreApplication,
        QElapsedTimer,
        QEvent,
        QItemSelectionModel,
        QModelIndex,
        QObject,
        QPersistentModelIndex,
        QRunnable,
        QSettings,
        QSize,
        QSortFilterProxyModel,
        Qt,
        QThreadPool,
        QTimer,
        QUrl,
        Signal,
        Slot,
    )
    from PySide6.QtGui import (
        QAction,
        QClipboard,
        QColor,
        QDragEnterEvent,
        QDropEvent,
        QFont,
        QFontDatabase,
        QGuiApplication,
        QIcon,
        QKeySequence,
        QPalette,
        QPixmap,
        QShortcut,
        QStandardItem,
        QStandardItemModel,
    )
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QApplication,
        QCheckBox,
        QComboBox,
        QDialog,
        QDialogButtonBox,
        QFileDialog,
        QFormLayout,
        QFrame,
        QGridLayout,
        QGroupBox,
        QHBoxLayout,
        QHeaderView,
        QLabel,
        QLineEdit,
        QListWidget,
        QListWidgetItem,
        QMainWindow,
        QMenu,
        QMessageBox,
        QPlainTextEdit,
        QProgressBar,
        QProxyStyle,
        QPushButton,
        QRadioButton,
        QScrollArea,
        QSizePolicy,
        QSpinBox,
        QSplitter,
        QStackedWidget,
        QStatusBar,
        QStyle,
        QStyleOptionHeader,
        QTabBar,
        QTableView,
        QTableWidget,
        QTableWidgetItem,
        QTabWidget,
        QTextEdit,
        QToolButton,
        QTreeWidget,
        QTreeWidgetItem,
        QVBoxLayout,
        QWidget,
        QWizard,
        QWizardPage,
    )
    from shiboken6 import isValid

__all__ = [  # what this module re-exports: every name in _WHERE (a test checks they agree)
    "QAbstractButton", "QAbstractItemView", "QAbstractTableModel", "QAction", "QApplication",
    "QCheckBox", "QClipboard", "QColor", "QComboBox", "QCoreApplication", "QDialog",
    "QDialogButtonBox", "QDragEnterEvent", "QDropEvent", "QElapsedTimer", "QEvent", "QFileDialog",
    "QFont", "QFontDatabase", "QFormLayout", "QFrame", "QGridLayout", "QGroupBox",
    "QGuiApplication", "QHBoxLayout", "QHeaderView", "QIcon", "QItemSelectionModel",
    "QKeySequence", "QLabel", "QLineEdit", "QListWidget", "QListWidgetItem", "QMainWindow",
    "QMenu", "QMessageBox", "QModelIndex", "QObject", "QPalette", "QPersistentModelIndex",
    "QPixmap", "QPlainTextEdit", "QProgressBar", "QProxyStyle", "QPushButton", "QRadioButton",
    "QRunnable",
    "QScrollArea", "QSettings", "QShortcut", "QSize", "QSizePolicy", "QSortFilterProxyModel",
    "QSpinBox", "QSplitter", "QStackedWidget", "QStandardItem", "QStandardItemModel", "QStatusBar",
    "QStyle", "QStyleOptionHeader",
    "QTabBar", "QTabWidget", "QTableView", "QTableWidget", "QTableWidgetItem", "QTextEdit",
    "QThreadPool", "QTimer", "QToolButton", "QTreeWidget", "QTreeWidgetItem", "QUrl",
    "QVBoxLayout", "QWidget", "QWizard", "QWizardPage", "Qt", "Signal", "Slot", "isValid",
]

_WHERE = {
    "QAbstractTableModel": "PySide6.QtCore",
    "QCoreApplication": "PySide6.QtCore",
    "QElapsedTimer": "PySide6.QtCore",
    "QEvent": "PySide6.QtCore",
    "QItemSelectionModel": "PySide6.QtCore",
    "QModelIndex": "PySide6.QtCore",
    "QObject": "PySide6.QtCore",
    "QPersistentModelIndex": "PySide6.QtCore",
    "QRunnable": "PySide6.QtCore",
    "QSettings": "PySide6.QtCore",
    "QSize": "PySide6.QtCore",
    "QSortFilterProxyModel": "PySide6.QtCore",
    "Qt": "PySide6.QtCore",
    "QThreadPool": "PySide6.QtCore",
    "QTimer": "PySide6.QtCore",
    "QUrl": "PySide6.QtCore",
    "Signal": "PySide6.QtCore",
    "Slot": "PySide6.QtCore",
    "QAction": "PySide6.QtGui",
    "QClipboard": "PySide6.QtGui",
    "QColor": "PySide6.QtGui",
    "QDragEnterEvent": "PySide6.QtGui",
    "QDropEvent": "PySide6.QtGui",
    "QFont": "PySide6.QtGui",
    "QFontDatabase": "PySide6.QtGui",
    "QGuiApplication": "PySide6.QtGui",
    "QIcon": "PySide6.QtGui",
    "QKeySequence": "PySide6.QtGui",
    "QPalette": "PySide6.QtGui",
    "QPixmap": "PySide6.QtGui",
    "QShortcut": "PySide6.QtGui",
    "QStandardItem": "PySide6.QtGui",
    "QStandardItemModel": "PySide6.QtGui",
    "QAbstractItemView": "PySide6.QtWidgets",
    "QApplication": "PySide6.QtWidgets",
    "QCheckBox": "PySide6.QtWidgets",
    "QComboBox": "PySide6.QtWidgets",
    "QDialog": "PySide6.QtWidgets",
    "QDialogButtonBox": "PySide6.QtWidgets",
    "QFileDialog": "PySide6.QtWidgets",
    "QFormLayout": "PySide6.QtWidgets",
    "QFrame": "PySide6.QtWidgets",
    "QGridLayout": "PySide6.QtWidgets",
    "QGroupBox": "PySide6.QtWidgets",
    "QHBoxLayout": "PySide6.QtWidgets",
    "QHeaderView": "PySide6.QtWidgets",
    "QLabel": "PySide6.QtWidgets",
    "QLineEdit": "PySide6.QtWidgets",
    "QListWidget": "PySide6.QtWidgets",
    "QListWidgetItem": "PySide6.QtWidgets",
    "QMainWindow": "PySide6.QtWidgets",
    "QMenu": "PySide6.QtWidgets",
    "QMessageBox": "PySide6.QtWidgets",
    "QPlainTextEdit": "PySide6.QtWidgets",
    "QProgressBar": "PySide6.QtWidgets",
    "QProxyStyle": "PySide6.QtWidgets",
    "QPushButton": "PySide6.QtWidgets",
    "QRadioButton": "PySide6.QtWidgets",
    "QScrollArea": "PySide6.QtWidgets",
    "QSizePolicy": "PySide6.QtWidgets",
    "QSpinBox": "PySide6.QtWidgets",
    "QSplitter": "PySide6.QtWidgets",
    "QStackedWidget": "PySide6.QtWidgets",
    "QStatusBar": "PySide6.QtWidgets",
    "QStyle": "PySide6.QtWidgets",
    "QStyleOptionHeader": "PySide6.QtWidgets",
    "QTableView": "PySide6.QtWidgets",
    "QTableWidget": "PySide6.QtWidgets",
    "QTableWidgetItem": "PySide6.QtWidgets",
    "QTabWidget": "PySide6.QtWidgets",
    "QTextEdit": "PySide6.QtWidgets",
    "QTabBar": "PySide6.QtWidgets",
    "QAbstractButton": "PySide6.QtWidgets",
    "QToolButton": "PySide6.QtWidgets",
    "QTreeWidget": "PySide6.QtWidgets",
    "QTreeWidgetItem": "PySide6.QtWidgets",
    "QVBoxLayout": "PySide6.QtWidgets",
    "QWidget": "PySide6.QtWidgets",
    "QWizard": "PySide6.QtWidgets",
    "QWizardPage": "PySide6.QtWidgets",
    "isValid": "shiboken6",
}


class _LazyQtNamespace:
    """`Qt` as modules get it from here at import: PySide builds its whole `Qt` namespace (about
    90 enums, ~15 ms) the first time it is touched, so that cost is paid when a name in it is
    first used, not by every module that imports it (the first window needs none)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        real = importlib.import_module("PySide6.QtCore").Qt
        globals()["Qt"] = real  # modules importing `Qt` later get PySide's own
        return getattr(real, name)

    def __repr__(self) -> str:
        return "<PySide6.QtCore.Qt, not built yet>"


def __getattr__(name: str) -> Any:
    if name == "Qt":
        return _LazyQtNamespace()
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"smki_desktop.gui.qt has no {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def set_enum_property(obj: QObject, name: str, keys: str) -> None:
    """Set an enum or flags property of a Qt object by its key names ("A" or "A|B") through
    Qt's meta-object: `Qt.ContextMenuPolicy.CustomContextMenu` and the like would make PySide
    build its whole `Qt` namespace (~90 enums, 15-50 ms), which start-up does not otherwise
    need. A name that is not a key of the property's enum is an error, not a silent default."""
    meta = obj.metaObject()
    index = meta.indexOfProperty(name)
    if index < 0:
        raise AttributeError(f"{type(obj).__name__} has no Qt property {name!r}")
    # PySide takes a str here (its stubs say bytes, which it refuses)
    value, ok = meta.property(index).enumerator().keysToValue(keys)  # type: ignore[arg-type]
    if not ok or not obj.setProperty(name, value):
        raise ValueError(f"{type(obj).__name__}.{name}: {keys!r} is not one of its values")


__all__ = sorted(_WHERE)
