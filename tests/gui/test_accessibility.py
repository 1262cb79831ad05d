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
        bad = unnamed_controls(frame) + _misnamed(frame)
        if bad:
            missing[entry.title] = bad
    return missing


@pytest.mark.parametrize("env", [Environment.TEST, Environment.LIVE])
def test_every_control_on_every_page_has_an_accessible_name(qtbot, data_root: Path,  # type: ignore[no-untyped-def]
                                                             env: Environment) -> None:
    """...and one a screen reader says rightly (see _misnamed)."""
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


def _misnamed(root) -> list[str]:  # type: ignore[no-untyped-def]
    """Names a screen reader would say wrongly: a choice list named by one of its own choices
    (it reads the value, not what is chosen), a list named by its internal object name, a
    name with the mnemonic's '&'."""
    from smki_desktop.gui.qt import QAbstractItemView, QComboBox, QWidget

    bad = []
    for w in root.findChildren(QWidget):
        name = w.accessibleName()
        if not name or not w.isVisibleTo(root):
            continue
        if isinstance(w, QComboBox) and w.isEditable() is False and \
                name in {w.itemText(i) for i in range(w.count())}:
            bad.append(f"combo named by its choice {name!r}")
        elif isinstance(w, QAbstractItemView) and name == w.objectName() and \
                any(c.isupper() for c in name):
            bad.append(f"list named by its object name {name!r}")
        elif "&" in name.replace("&&", ""):
            bad.append(f"name with the mnemonic {name!r}")
    return bad


def test_a_confirmation_button_is_named_without_its_mnemonic(qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.widgets.confirm import ConfirmDialog

    dlg = ConfirmDialog(None, title="Submit", what="3 CSRs", env=Environment.TEST,
                        action="&Submit to the DCC")
    qtbot.addWidget(dlg)
    assert dlg.confirm_button.accessibleName() == "Submit to the DCC"
