"""GUI test fixtures: a main window on a fresh data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment


@pytest.fixture
def window(qtbot, data_root: Path):  # type: ignore[no-untyped-def]
    from smki_desktop.gui.main_window import MainWindow

    w = MainWindow(data_root, Environment.TEST, first_run=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.jobs.wait(30000)
