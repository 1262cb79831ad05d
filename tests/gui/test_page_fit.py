"""Pages fit a 1024x700 laptop window (no sideways scrolling because of a long key label or a
long row of buttons), and empty panes say why they are empty (found by looking at
docs/screenshots/, packaging/screenshots.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.gui.pages.certificates import EMPTY_NOTE, NO_MATCH_NOTE
from smki_desktop.gui.qt import QApplication, QScrollArea
from smki_desktop.services import certificates as cert_service

ROOT = Path(__file__).resolve().parents[2]
LONG = "705b04f442e0d4a9 — 2.5.4.5=ARO-0001,CN=Somebody With A Long Name,O=Example Energy " * 3


@pytest.mark.parametrize("title", ["Incidents", "Officers", "Quarantine", "Devices"])
def test_pages_fit_a_laptop_window_even_with_long_key_labels(window, qtbot, title) -> None:  # type: ignore[no-untyped-def]
    window.resize(1024, 700)
    page = window.go_to(title)
    for combo in (getattr(page, "actor", None) and page.actor.combo,
                  getattr(page, "key_combo", None)):
        if combo is not None:
            combo.addItem(LONG)
            combo.setCurrentIndex(combo.count() - 1)
    page.layout().activate()
    for _ in range(5):
        QApplication.processEvents()
    host = page.parentWidget()
    while host is not None and not isinstance(host, QScrollArea):
        host = host.parentWidget()
    assert host is not None
    assert host.horizontalScrollBar().maximum() == 0, (title, page.minimumSizeHint().width(),
                                                       host.viewport().width())


def test_certificates_page_explains_an_empty_table(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    page = window.go_to("Certificates")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.table.rowCount() == 0 and page.result_label.text() == EMPTY_NOTE
    pem = ROOT / "tests/fixtures/dcc-test-pki/device/00db123456789004-ka.pem"
    cert_service.import_certificate(window.ctx, pem.read_bytes(), what="device cert")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.table.rowCount() == 1 and page.result_label.text() == ""
    page.f_eui.setText("00-DB-00-00-00-00-00-01")
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.table.rowCount() == 0 and page.result_label.text() == NO_MATCH_NOTE
    page.result_label.setText("Wrote certificate 1 to x.pem")  # another message stays
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    assert page.result_label.text() == "Wrote certificate 1 to x.pem"


def test_ceremony_and_repository_panes_say_what_will_show(window) -> None:  # type: ignore[no-untyped-def]
    assert "Check the file" in window.go_to("Key ceremony").plan.placeholderText()
    assert "PEM" in window.go_to("Repository").pem.placeholderText()


def test_the_page_scroller_is_no_tab_stop_but_follows_the_focus(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The page's scroll area took a Tab press of its own, with nothing shown as focused;
    Tab goes from control to control and a control below the fold is scrolled into sight."""
    from smki_desktop.gui.page_frame import PageEntry, PageFrame
    from smki_desktop.gui.qt import QPushButton, Qt, QVBoxLayout, QWidget

    page = QWidget()
    lay = QVBoxLayout(page)
    buttons = [QPushButton(f"Button {i}") for i in range(30)]
    for b in buttons:
        lay.addWidget(b)
    frame = PageFrame(PageEntry("walk", "Walk", 0), page)
    qtbot.addWidget(frame)
    frame.resize(400, 300)
    frame.show()
    qtbot.waitExposed(frame)
    frame.activateWindow()
    qtbot.waitActive(frame)
    assert frame.scroller.focusPolicy() == Qt.FocusPolicy.NoFocus
    frame.help_button.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(frame.help_button.hasFocus, timeout=5000)
    seen = []
    for _ in range(len(buttons)):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen == buttons  # no empty stop between the Help button and the page
    bar = frame.scroller.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() > 0  # the last one was scrolled into sight
    last = buttons[-1]
    top = last.mapTo(frame.scroller.viewport(), last.rect().topLeft()).y()
    assert 0 <= top < frame.scroller.viewport().height()
