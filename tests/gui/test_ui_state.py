"""The window's size, column widths and sort are remembered per environment in that
environment's data folder (not the user's home): set, close, reopen."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyUsage
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QApplication, Qt
from smki_desktop.gui.tables import STATE_FILE
from smki_desktop.services import keys as key_service


def _open(qtbot, data_root: Path, env: Environment = Environment.TEST) -> MainWindow:  # type: ignore[no-untyped-def]
    w = MainWindow(data_root, env, first_run=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.ready, timeout=30000)
    return w


def test_size_widths_and_sort_come_back(qtbot, data_root: Path, ctx) -> None:  # type: ignore[no-untyped-def]
    key_service.generate_key(ctx, KeyUsage.SIGNING, "a key with a long label for the width")
    w = _open(qtbot, data_root)
    w.resize(760, 560)
    keys = w.go_to("Keys")
    qtbot.waitUntil(lambda: keys.table.rowCount() == 1)
    QApplication.processEvents()
    keys.table.horizontalHeader().resizeSection(0, 333)  # the officer drags a column
    QApplication.processEvents()
    devices = w.go_to("Devices")
    devices.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: w.jobs.running == 0, timeout=60_000)
    w.close()
    state = data_root / "test" / STATE_FILE
    assert state.is_file()  # in the environment's data folder

    again = _open(qtbot, data_root)
    assert (again.width(), again.height()) == (760, 560)
    keys2 = again.go_to("Keys")
    QApplication.processEvents()
    assert keys2.table.horizontalHeader().sectionSize(0) == 333
    devices2 = again.go_to("Devices")
    header = devices2.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == \
        (2, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: again.jobs.running == 0, timeout=60_000)
    again.close()

    live = _open(qtbot, data_root, Environment.LIVE)  # Live keeps its own
    assert (live.width(), live.height()) != (760, 560) or not (data_root / "live" /
                                                               STATE_FILE).exists()
    live.close()
