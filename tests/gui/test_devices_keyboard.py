"""The Devices page by keyboard (a walk at 1024x700, in Test and in Live): every Alt+letter
on the page, with the window's menus, opens one thing, and Alt+C cancels a long job."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.devices import Page
from smki_desktop.gui.qt import Qt
from tests.gui.mnemonics import clashes, mnemonic


def _page(window: MainWindow) -> Page:
    page = window.go_to("Devices")
    assert isinstance(page, Page), page
    return page


@pytest.mark.parametrize("fixture", ["window", "live_window"])
def test_every_alt_letter_on_the_devices_page_is_unique(qtbot, request, fixture: str) -> None:  # type: ignore[no-untyped-def]
    """Alt+O was both Open file… and Send one CSR…, Alt+F both the File menu and Open
    folder…, Alt+C both Cancel and Batches chart: each only moved focus (or opened the
    menu), so Open folder… and Send one CSR… had no key and a long job no key to cancel."""
    window = request.getfixturevalue(fixture)
    window.resize(1024, 700)
    page = _page(window)
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    assert clashes(window) == {}
    for button in (page.open_btn, page.folder_btn, page.adhoc_btn, page.cancel_btn,
                   page.chart_btn, page.package_btn, page.import_btn, page.export_btn):
        assert mnemonic(button.text()) is not None, button.text()


def test_alt_c_cancels_a_long_job(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window.resize(1024, 700)
    page = _page(window)
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    window.activateWindow()
    page.generate_btn.setFocus()
    page.generate(20_000, tmp_path / "gen")
    qtbot.waitUntil(lambda: page.progress.value() > 0, timeout=60_000)
    assert page.cancel_btn.isEnabled()
    qtbot.keyClick(window, "c", Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: page.job is None, timeout=120_000)
    assert "cancelled" in page.summary.text(), page.summary.text()
    assert not page.chart_btn.isChecked()
    out = tmp_path / "gen"
    assert not out.exists() or [p for p in out.iterdir() if not p.name.startswith(".")] == []


def test_the_filter_box_has_a_label_and_alt_l_reaches_it(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """The filter box was named only by its placeholder, which goes once text is typed and
    which no Alt letter reached."""
    window.resize(1024, 700)
    page = _page(window)
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    from smki_desktop.gui.qt import QLabel

    labels = [lab for lab in page.findChildren(QLabel) if lab.buddy() is page.filter_edit]
    assert [lab.text() for lab in labels] == ["Fi&lter:"]
    window.activateWindow()
    page.table.setFocus()
    qtbot.keyClick(window, "l", Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: page.filter_edit.hasFocus(), timeout=5_000)
