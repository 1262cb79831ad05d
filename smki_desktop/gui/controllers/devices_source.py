"""Devices page, "Open file…" / "Open folder…" / a drop: validate the Device CSRs of a file or
folder in the background and show each one valid or rejected with the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smki_desktop.gui.controllers.devices_view import DROP_HINT, DevicesView, Row, make_hay
from smki_desktop.gui.qt import QFileDialog


class OpenSource:
    def __init__(self, view: DevicesView) -> None:
        self.view = view

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.view.widget(), "Device CSRs", "",
                                              "Device CSRs (*.zip *.csv *.csr);;All files (*)")
        if path:
            self.validate(Path(path))

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self.view.widget(), "Folder of device CSRs")
        if path:
            self.validate(Path(path))

    def validate(self, path: Path) -> None:
        v = self.view
        v.source = Path(path)
        v.valid_count = 0
        v.hint.setText(f"Source: {v.source}")
        v.run_job(validate_rows, v.services.ctx, v.source, done=self._validated,
                  what="Validating", failed=self._load_failed)

    def _load_failed(self) -> None:
        """A source that could not be read is no source: Package and Submit go grey and the
        previous rows go, so nothing old is mistaken for this file's result."""
        v = self.view
        v.source = None
        v.valid_count = 0
        v.hint.setText(DROP_HINT)
        v.set_rows([])

    def _validated(self, payload: tuple[Any, list[Row], list[str]]) -> None:
        res, rows, hay = payload
        v = self.view
        v.valid_count = len(res.accepted)
        v.set_rows(rows, hay)
        v.summary.setText(f"{res.assessment.total:,} CSRs: {len(res.accepted):,} valid, "
                          f"{len(res.rejected):,} rejected ({res.seconds:.1f} s).")
        v.show_busy(False, "Validated")


def validate_rows(ctx: Any, path: Path, progress: Any = None) -> tuple[Any, list[Row],
                                                                      list[str]]:
    """Background: validate, and build the table rows and their search text."""
    from smki_desktop.services import devices  # heavy: loaded when first used

    res = devices.validate(ctx, path, progress=progress)
    rows: list[Row] = [(a.eui_text, a.usage, "valid", "", a.source, a.locator)
                       for a in res.accepted]
    rows += [(r.eui, r.usage, "rejected", r.reason, r.source, r.locator) for r in res.rejected]
    return res, rows, make_hay(rows)
