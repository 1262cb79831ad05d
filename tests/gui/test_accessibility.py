"""Every page's interactive controls have an accessible name (what a screen reader says), in
Test and Live, and the whole window can be walked with Tab without getting stuck."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.gui.accessibility import unnamed_controls
from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.qt import QApplication, Qt


def _walk_pages(qtbot, w: MainWindow) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    missing: dict[str, list[str]] = {}
    for row, entry in enumerate(w.entries):
        w.sidebar.setCurrentRow(row)
        qtbot.waitUntil(lambda: w.jobs.running == 0, timeout=60_000)
        w._show_page(row)  # shown again once its background loads have finished
        frame = w.frame_at(row)
        assert frame is not None, entry.title
        bad = unnamed_controls(frame)
        if bad:
            missing[entry.title] = bad
    return missing


@pytest.mark.parametrize("env", [Environment.TEST, Environment.LIVE])
def test_every_control_on_every_page_has_an_accessible_name(qtbot, data_root: Path,  # type: ignore[no-untyped-def]
                                                             env: Environment) -> None:
    w = MainWindow(data_root, env, first_run=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.ready, timeout=30000)
    missing = _walk_pages(qtbot, w)
    assert not missing, missing
    assert not unnamed_controls(w)
    w.jobs.wait(30000)


def test_tab_moves_through_a_page(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.go_to("Officers")
    window.activateWindow()
    window.sidebar.setFocus()
    seen = []
    for _ in range(12):
        qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Tab)
        f = QApplication.focusWidget()
        if f is not None:
            seen.append(f.accessibleName() or type(f).__name__)
    assert "New nomination" in seen, seen
