"""Devices page, "Generate test devices…" (Test only): how many, where, then the test Device
CSRs are made in the background and validated as the new source."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from smki_desktop.gui.controllers.devices_view import DevicesView
from smki_desktop.gui.qt import QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QSpinBox


class GenerateTest:
    def __init__(self, view: DevicesView, validate: Callable[[Path], None]) -> None:
        self.view = view
        self.validate = validate  # what follows: the new folder becomes the source

    def choose(self) -> None:
        parent = self.view.widget()
        dlg = QDialog(parent)
        dlg.setWindowTitle("Generate test devices")
        form = QFormLayout(dlg)
        spin = QSpinBox()
        spin.setRange(1, 1_000_000)
        spin.setValue(1000)
        form.addRow("&Number of CSRs (a signing and a key-agreement CSR per device)", spin)
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
