"""ADT page, "SRO confirm": a summary of the decision (the ADTs apply, or the file will be
resubmitted and by whom), then the SRO's confirmation signed in the background."""

from __future__ import annotations

from smki_desktop.gui.controllers.adt_view import AdtView, adt_op, smsr
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.services import adt as adt_service


class SroConfirm:
    def __init__(self, view: AdtView) -> None:
        self.view = view

    def request(self) -> None:
        v = self.view
        if v.path is None:
            return
        decision = v.decision_combo.currentData()
        resubmitter = v.resubmitter_edit.text().strip()
        ask_confirmation(
            v.widget(), lambda: self.confirm(decision, resubmitter),
            title="Sign the SRO confirmation", env=v.ctx.env, action="&Sign confirmation",
            what="Sign the SRO's confirmation for this ADT file.",
            facts=[("File", str(v.path)), ("Decision", v.decision_combo.currentText()),
                   ("Resubmitted by", resubmitter or "—"),
                   ("Signing credential", v.key_combo.currentText())])

    def confirm(self, decision: str = "apply", resubmitter: str = "") -> None:
        v = self.view
        if v.path is None:
            return
        adt_op(v, adt_service.confirm, v.ctx, v.path, v.key_combo.currentData() or "",
               decision=decision, resubmitter=resubmitter, smsr=smsr(v),
               done=self._confirmed, name="SRO confirmation")

    def _confirmed(self, res: adt_service.ConfirmResult) -> None:
        warn = (" " + " ".join(res.warnings)) if res.warnings else ""
        self.view.summary.setText(f"SRO confirmation ({res.confirmation.decision}) signed: "
                                  f"{res.document.name}.{warn}")
