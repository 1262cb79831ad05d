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
        """Whole sentences, each ending with a full stop, saying what the command line says:
        the outcomes, what was filed before, certificates that match no CSR, problems, and
        how many CSRs of these batches are still pending."""
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(res.counts.items()))
        extra = []
        if res.unmatched:
            n = len(res.unmatched)
            extra.append(f"{n:,} certificate matches no CSR." if n == 1
                         else f"{n:,} certificates match no CSR.")
        if res.problems:
            n = len(res.problems)
            listed = "; ".join(p.rstrip(".") for p in res.problems[:3])
            more = " …" if n > 3 else ""
            extra.append(f"{n:,} problem{'' if n == 1 else 's'}: {listed}{more}.")
        if res.not_in_report:
            n = res.not_in_report
            extra.append(f"{n:,} CSR of these batches is still pending." if n == 1
                         else f"{n:,} CSRs of these batches are still pending.")
        again = res.unchanged_text()
        all_again = bool(again) and res.unchanged >= sum(res.counts.values())
        head = again if all_again else f"Imported: {counts}."
        if again and not all_again:
            extra.insert(0, again)
        self.view.summary.setText(" ".join([head, *extra]))
        self.view.show_all()
