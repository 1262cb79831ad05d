"""Keyboard rules the whole application keeps, whatever page or dialog a widget is on.

Tab leaves a table. Qt's item views take Tab for themselves by default (`tabKeyNavigation`),
moving from cell to cell and wrapping round inside the view, so an officer working with the
keyboard never reaches what lies after a table: the details pane, a second table, the page's
buttons. The arrow keys move between rows and cells; Tab and Shift+Tab move between controls,
as in every other field. A cell being edited still commits and moves on with Tab (that is the
editor's own key handling, not the view's).

It is kept where focus arrives (`QApplication.focusChanged`), not by each page: a table built
later (a Settings section, a dialog, a page rebuilt after the store returned) is covered too,
and nothing runs on the event loop's other events.
"""

from __future__ import annotations

from smki_desktop.gui.qt import QAbstractItemView, QApplication, QWidget

_KEPT = "_smki_tab_leaves_tables"


def keep_tab_leaving_tables(app: QApplication) -> None:
    """Connect once per application: every item view focus reaches lets Tab leave it."""
    if app.property(_KEPT):
        return
    app.setProperty(_KEPT, True)
    app.focusChanged.connect(_focus_changed)
    focused = app.focusWidget()
    if focused is not None:
        _focus_changed(None, focused)


def _focus_changed(_old: QWidget | None, new: QWidget | None) -> None:
    if isinstance(new, QAbstractItemView) and new.tabKeyNavigation():
        new.setTabKeyNavigation(False)
