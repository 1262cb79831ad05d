"""Devices › Generate test devices: the number box asked for a "Number of CSRs" (10 meaning 5
devices) beside "a signing and a key-agreement CSR per device", and its up and down buttons were
blank once it had the focus (the app's focus border on a spin box has Qt draw its buttons
without arrows). It asks for devices, says how many CSRs that makes, and shows its arrows in the
light and the dark scheme."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QStyleOptionSpinBox

from smki_desktop.gui import style
from smki_desktop.gui.pages.devices import Page
from smki_desktop.gui.qt import (
    QApplication,
    QDialog,
    QFileDialog,
    QFormLayout,
    QLabel,
    QSpinBox,
    QStyle,
    QTimer,
    QWidget,
)


def _arrow_pixels(spin: QSpinBox) -> list[int]:
    """Pixels inside the up and down buttons that stand out from the button's face."""
    opt = QStyleOptionSpinBox()
    spin.initStyleOption(opt)
    image = spin.grab().toImage()
    counts = []
    for sc in (QStyle.SubControl.SC_SpinBoxUp, QStyle.SubControl.SC_SpinBoxDown):
        r = spin.style().subControlRect(QStyle.ComplexControl.CC_SpinBox, opt, sc, spin)
        face = image.pixelColor(r.left() + 4, r.top() + 3).lightness()
        counts.append(sum(1 for x in range(r.left() + 4, r.right() - 3)
                          for y in range(r.top() + 3, r.bottom() - 2)
                          if abs(image.pixelColor(x, y).lightness() - face) > 40))
    return counts


def test_the_count_asks_for_devices_and_says_the_csrs(  # type: ignore[no-untyped-def]
        qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = window.go_to("Devices")
    assert isinstance(page, Page)
    qtbot.waitUntil(lambda: page.job is None, timeout=60_000)
    seen: dict[str, object] = {}
    made: list[tuple[int, Path]] = []
    monkeypatch.setattr(page.generator, "generate", lambda n, out: made.append((n, out)))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(tmp_path)))

    def look() -> None:
        dlg = QApplication.activeModalWidget()
        assert isinstance(dlg, QDialog), dlg
        try:
            spin = dlg.findChild(QSpinBox)
            form = dlg.layout()
            assert isinstance(form, QFormLayout)
            label = form.labelForField(spin)
            assert isinstance(label, QLabel)
            seen["label"] = label.text()
            spin.setValue(3)
            csrs = dlg.findChild(QLabel, "generateCsrs")
            seen["csrs"] = csrs.text() if csrs is not None else ""
            seen["texts"] = " ".join(lbl.text() for lbl in dlg.findChildren(QLabel))
        finally:
            dlg.accept()

    QTimer.singleShot(100, look)
    page.generator.choose()
    assert seen["label"] == "&Number of devices"
    assert seen["csrs"] == "= 6 CSRs (2 per device: a signing and a key-agreement CSR)"
    assert "Number of CSRs" not in str(seen["texts"])
    assert made == [(6, tmp_path)]  # the service is asked for CSRs


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_focused_spin_box_shows_its_arrows(qtbot, scheme: str) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = app.palette()
    app.setPalette(style.palette(scheme))
    try:
        w = QWidget()
        w.setStyleSheet(style.STYLE_SHEET)
        spin = QSpinBox(w)
        spin.setRange(1, 100)
        spin.setValue(5)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        spin.setFocus()
        QApplication.processEvents()
        assert all(n > 5 for n in _arrow_pixels(spin)), _arrow_pixels(spin)
    finally:
        app.setPalette(before)
