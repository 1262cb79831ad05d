"""Devices page, "Package for portal…": write the validated source as SMKI Portal zips (the
batch is recorded so that the portal's answer can be filed against it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smki_desktop.gui.controllers.devices_view import DevicesView
from smki_desktop.gui.qt import QFileDialog


class PackageForPortal:
    def __init__(self, view: DevicesView) -> None:
        self.view = view

    def choose(self) -> None:
        path = QFileDialog.getExistingDirectory(self.view.widget(), "Write the portal zips into")
        if path:
            self.package(Path(path))

    def package(self, out_dir: Path, max_per_zip: int | None = None) -> None:
        from smki_desktop.services import devices  # heavy: loaded when first used

        v = self.view
        if v.source is None:
            return
        kwargs: dict[str, Any] = {}
        if max_per_zip:
            kwargs["max_per_zip"] = max_per_zip
        v.run_job(devices.package, v.services.ctx, v.source, Path(out_dir), done=self._packaged,
                  what="Packaging", **kwargs)

    def _packaged(self, res: Any) -> None:
        zips = ", ".join(f"{p.name} ({n:,})" for p, n in
                         zip(res.files.zips, res.files.counts, strict=True))
        self.view.summary.setText(
            f"Batch {res.batch_id}: {zips} in {res.files.zips[0].parent}. Upload each zip to the "
            "SMKI Portal, then import the report and response zip here within 30 days."
            # earlier batches whose packaging was stopped, finished (or not) first
            + "".join(f"\nBatch {b}: {note}." for b, note in res.finished.items())
            # and packagings stopped before their record, their unfinished files removed
            + "".join(f"\n{n[:1].upper()}{n[1:]}." for n in res.cleared))
        self.view.show_all()
