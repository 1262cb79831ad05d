"""Devices page polish: the progress bar says nothing is loaded (not "Done") before any job
ran; the Device EUI column runs first to last under an up arrow; after a submit the message
says where it went and offers Check now (no internal id); the count in "Generate test
devices" is not clipped and starts small."""

from __future__ import annotations

from types import SimpleNamespace

from smki_desktop.gui.main_window import MainWindow
from smki_desktop.gui.pages.devices import Page
from smki_desktop.gui.qt import QApplication, QDialog, QSpinBox, QTimer


def _page(qtbot, window: MainWindow) -> Page:  # type: ignore[no-untyped-def]
    page = window.go_to("Devices")
    assert isinstance(page, Page), page
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    return page


def test_the_progress_bar_does_not_say_done_before_anything_ran(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    page = _page(qtbot, window)
    assert page.progress.text() == "No CSRs loaded"
    assert page.progress.value() == page.progress.minimum()  # empty, not full


def _arrow_points_up(page: Page) -> bool:
    """Read the header's painted sort arrow: wider at its bottom row than at its top."""
    header = page.table.horizontalHeader()
    image = header.grab().toImage()
    right = header.sectionViewportPosition(0) + header.sectionSize(0)
    dark_rows = []
    for y in range(image.height()):
        xs = [x for x in range(right - 24, right - 1)
              if image.pixelColor(x, y).lightness() < 110]
        if xs:
            dark_rows.append(max(xs) - min(xs))
    assert len(dark_rows) >= 2, dark_rows
    return dark_rows[-1] > dark_rows[0]


def test_device_euis_run_first_to_last_under_an_up_arrow(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    page = _page(qtbot, window)
    window.resize(1024, 700)
    euis = ["00-DB-12-34-56-00-00-02", "00-DB-12-34-56-00-00-00", "00-DB-12-34-56-00-00-01"]
    page.set_rows([(e, "signing", "valid", "", "f.csr", "") for e in euis])
    QApplication.processEvents()
    shown = [page.proxy.index(r, 0).data() for r in range(page.proxy.rowCount())]
    assert shown == sorted(euis), shown
    assert _arrow_points_up(page)


def test_after_a_submit_the_message_says_where_and_offers_check_now(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.controllers.devices_submit import portal_name

    page = _page(qtbot, window)
    assert portal_name(page.ctx) == "the Test portal (simulator)"
    assert not page.check_btn.isVisibleTo(page)
    res = SimpleNamespace(batch_id="DB20260001", outbox_ref="Bf74d2b1fc7b0000", send_error="")
    page.submitter._submitted((res, portal_name(page.ctx)))
    text = page.summary.text()
    assert "Batch DB20260001 was sent to the Test portal (simulator)" in text, text
    assert "Bf74d2b1fc7b" not in text and "Check now" in text
    assert page.check_btn.isVisibleTo(page)
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    page.check_btn.click()  # asks the portal, then reloads: nothing is waiting here
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    assert "failed" not in page.summary.text()


def test_the_generate_count_is_not_clipped_and_starts_small(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    page = _page(qtbot, window)
    seen: dict[str, object] = {}

    def look() -> None:
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, QDialog), dlg
        spin = dlg.findChild(QSpinBox)
        assert spin is not None
        seen["value"] = spin.value()
        editor = spin.lineEdit()
        spin.setValue(1_000_000)
        QApplication.processEvents()
        seen["room"] = editor.width() - editor.fontMetrics().horizontalAdvance(editor.text())
        dlg.reject()

    QTimer.singleShot(100, look)
    page.generator.choose()
    assert seen["value"] == 5  # devices: 10 CSRs
    assert isinstance(seen["room"], int) and seen["room"] >= 0, seen
