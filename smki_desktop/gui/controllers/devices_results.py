"""Devices page, "Import response…": file the SMKI Portal's report (and the response zip of
certificates, if there is one) against its batch, and say what was filed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smki_desktop.gui.controllers.devices_view import DevicesView
from smki_desktop.gui.qt import QFileDialog


class ImportResults:
    def __init__(self, view: DevicesView) -> None:
        self.view = view

    def choose(self) -> None:
        parent = self.view.widget()
        report, _ = QFileDialog.getOpenFileName(parent, "The portal's report", "",
                                                "Report (*.txt);;All files (*)")
        if not report:
            return
        zip_path, _ = QFileDialog.getOpenFileName(parent, "The <request>-response zip (Cancel "
                                                  "if none)", str(Path(report).parent),
                                                  "Response zip (*.zip)")
        self.import_response(Path(report), Path(zip_path) if zip_path else None)

    def import_response(self, report: Path, zip_path: Path | None) -> None:
        from smki_desktop.services import devices  # heavy: loaded when first used

        self.view.run_job(devices.import_response, self.view.services.ctx, report, zip_path,
                          done=self._imported, what="Importing results")

    def _imported(self, res: Any) -> None:
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(res.counts.items()))
        extra = []
        if res.unmatched:
            extra.append(f"{len(res.unmatched)} certificates match no CSR")
        if res.problems:
            extra.append(f"{len(res.problems)} problems: " + "; ".join(res.problems[:3]))
        again = res.unchanged_text()
        all_again = bool(again) and res.unchanged >= sum(res.counts.values())
        head = again if all_again else f"Imported: {counts}."
        if again and not all_again:
            extra.insert(0, again)
        self.view.summary.setText(head + (" " + "; ".join(extra) if extra else ""))
        self.view.show_all()
