"""Tab into a page's main table selects a row, so the buttons that follow the selection can be
used from the keyboard (`gui.tables.select_on_focus`): only the Approvals page did, and on the
others a table reached by Tab had a focus cell but nothing selected, its row's buttons disabled.
Every page is walked; each table given rows (the page's own where it has some) loses its
selection, takes the focus as Tab gives it and must have a row selected."""

from __future__ import annotations

from smki_desktop.core.keys import KeyUsage
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QApplication,
    QStandardItem,
    QStandardItemModel,
    Qt,
    QTableWidget,
    QTableWidgetItem,
)
from smki_desktop.services.keys import generate_key

# page title -> its tables whose row buttons follow the selection (the Certificates page has
# its own keyboard handling)
TABLES = {
    "Keys": ("table",),
    "Requests": ("csr_table", "table"),
    "Approvals": ("table",),
    "Devices": ("table",),
    "ADT": ("table",),
    "Quarantine": ("table",),
    "Officers": ("table",),
    "Incidents": ("table",),
    "Repository": ("table",),
    "Audit log": ("table",),
}


def _give_rows(view: QAbstractItemView) -> None:
    """Two rows for a table with none (what its rows are does not matter to the focus)."""
    model = view.model()
    if model is not None and model.rowCount() > 0:
        return
    if isinstance(view, QTableWidget):
        view.setRowCount(2)
        for r in range(2):
            view.setItem(r, 0, QTableWidgetItem(f"row {r}"))
    else:  # a model view (Devices): a model of two rows
        fake = QStandardItemModel(2, 1, view)
        for r in range(2):
            fake.setItem(r, 0, QStandardItem(f"row {r}"))
        view.setModel(fake)


def test_tab_into_each_pages_table_selects_a_row(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    generate_key(window.ctx, KeyUsage.SIGNING, "focus walk")  # the Keys page's own row
    window.activateWindow()
    qtbot.waitActive(window)
    titles = {e.title for e in window.entries}
    assert set(TABLES) <= titles, set(TABLES) - titles
    unselected: list[str] = []
    for title, names in TABLES.items():
        page = window.go_to(title)
        qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its reads
        qtbot.wait(20)  # their answers shown
        for name in names:
            view = getattr(page, name)
            _give_rows(view)
            sel = view.selectionModel()
            # the page's own slots would look the test's rows up: they are not the subject
            sel.blockSignals(True)
            try:
                sel.clear()
                window.sidebar.setFocus(Qt.FocusReason.TabFocusReason)
                qtbot.waitUntil(lambda: QApplication.focusWidget() is window.sidebar,
                                timeout=5000)
                assert not sel.hasSelection()
                view.setFocus(Qt.FocusReason.TabFocusReason)
                qtbot.waitUntil(lambda v=view: QApplication.focusWidget() is v, timeout=5000)
                if not sel.selectedRows() and not sel.selectedIndexes():
                    unselected.append(f"{title}.{name}")
                sel.clear()
            finally:
                sel.blockSignals(False)
    assert not unselected, f"focused with no row selected: {unselected}"


def test_tab_into_the_keys_table_chooses_the_key_its_buttons_act_on(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    """With the page's own rows and slots: Copy key id, Archive, Delete… act on the key chosen."""
    generate_key(window.ctx, KeyUsage.SIGNING, "focus walk")
    page = window.go_to("Keys")
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=30000)
    window.activateWindow()
    qtbot.waitActive(window)
    page.table.clearSelection()
    assert page.selected() is None
    window.sidebar.setFocus(Qt.FocusReason.TabFocusReason)
    page.table.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.table, timeout=5000)
    chosen = page.selected()
    assert chosen is not None and chosen.label == "focus walk"
