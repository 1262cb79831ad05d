"""Devices page, "Generate test devices…" (Test only): how many, where, then the test Device
CSRs are made in the background and validated as the new source."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from smki_desktop.gui.controllers.devices_view import DevicesView
from smki_desktop.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QSpinBox,
)

DEFAULT_COUNT = 10  # a first try; a large set is a number typed on purpose


class GenerateTest:
    def __init__(self, view: DevicesView, validate: Callable[[Path], None]) -> None:
        self.view = view
        self.validate = validate  # what follows: the new folder becomes the source

    def choose(self) -> None:
        parent = self.view.widget()
        dlg = QDialog(parent)
        dlg.setWindowTitle("Generate test devices")
        dlg.setMinimumWidth(420)
        form = QFormLayout(dlg)
        spin = QSpinBox()
        spin.setObjectName("generateCount")
        spin.setRange(1, 1_000_000)
        spin.setGroupSeparatorShown(True)
        spin.setValue(DEFAULT_COUNT)
        # wide enough for the largest count and its arrows (the long label squeezed it until
        # "1000" was cut at the left)
        spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("1,000,000") + 48)
        note = QLabel("A signing and a key-agreement CSR per device. Try a few first: "
                      "a large set takes minutes to make and to check.")
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow("&Number of CSRs", spin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dlg.accept)
        buttons.rejected.connect(dlg.reject)
        form.addRow(buttons)
        if not dlg.exec():
            return
        count = spin.value()
        path = QFileDialog.getExistingDirectory(parent, "Write the test devices into")
        if path:
            self.generate(count, Path(path))

    def generate(self, count: int, out_dir: Path) -> None:
        from smki_desktop.services import devices  # heavy: loaded when first used

        self.view.run_job(devices.generate_test, self.view.services.ctx, count, Path(out_dir),
                          done=self._generated, what="Generating test devices")

    def _generated(self, res: Any) -> None:
        self.view.summary.setText(f"{res.count:,} test device CSRs in {res.out} "
                                  f"({res.first_eui}..{res.last_eui}); keys: "
                                  f"{res.keys_file or 'discarded'}.")
        self.validate(res.out)
