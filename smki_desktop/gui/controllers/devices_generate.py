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

DEFAULT_DEVICES = 5  # a first try (10 CSRs); a large set is a number typed on purpose
CSRS_PER_DEVICE = 2  # a signing and a key-agreement CSR (the service's usage "both")


def csrs_text(devices: int) -> str:
    """What a number of devices makes, in CSRs."""
    n = devices * CSRS_PER_DEVICE
    return f"= {n:,} CSRs ({CSRS_PER_DEVICE} per device: a signing and a key-agreement CSR)"


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
        spin.setRange(1, 500_000)
        spin.setGroupSeparatorShown(True)
        spin.setValue(DEFAULT_DEVICES)
        # wide enough for the largest count and its arrows (the long label squeezed it until
        # "1000" was cut at the left)
        spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("1,000,000") + 48)
        makes = QLabel(csrs_text(spin.value()))
        makes.setObjectName("generateCsrs")
        makes.setWordWrap(True)
        spin.valueChanged.connect(lambda n: makes.setText(csrs_text(n)))
        spin.setAccessibleDescription("Each device gets a signing and a key-agreement CSR.")
        note = QLabel("Try a few devices first: a large set takes minutes to make and to "
                      "check.")
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow("&Number of devices", spin)
        form.addRow("", makes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dlg.accept)
        buttons.rejected.connect(dlg.reject)
        form.addRow(buttons)
        if not dlg.exec():
            return
        count = spin.value() * CSRS_PER_DEVICE  # the service counts CSRs
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
