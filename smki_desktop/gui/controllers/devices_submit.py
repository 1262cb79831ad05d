"""Devices page, "Submit (web service)": a summary of what will be sent (source, how many,
which credential, the environment), then the batch is queued for the DCC's web service."""

from __future__ import annotations

from typing import Any

from smki_desktop.gui.controllers.devices_view import DevicesView
from smki_desktop.gui.texts import ISSUER, SENT_TO
from smki_desktop.gui.widgets.confirm import ask_confirmation


class SubmitBatch:
    def __init__(self, view: DevicesView) -> None:
        self.view = view

    def request(self) -> None:
        """The Submit button: a summary of what will be sent, then `submit()`."""
        v = self.view
        if v.source is None:
            return
        env = v.services.ctx.env
        ask_confirmation(
            v.widget(), self.submit, title="Submit Device CSRs", env=env,
            action=f"&Submit to {SENT_TO[env]}",
            what=f"Send these Device CSRs to {SENT_TO[env]} over the web service, signed with "
                 f"your web-service credential. {ISSUER[env]} a certificate for each one.",
            facts=[("Source", str(v.source)), ("Device CSRs", f"{v.valid_count:,}"),
                   ("Credential", "the web-service credential (Settings → Portal)")])

    def submit(self) -> None:
        from smki_desktop.services import devices  # heavy: loaded when first used

        v = self.view
        if v.source is None:
            return
        v.run_job(devices.submit, v.services.ctx, v.source, done=self._submitted,
                  what="Submitting")

    def _submitted(self, res: Any) -> None:
        self.view.summary.setText(f"Batch {res.batch_id} queued ({res.outbox_ref}); results "
                                  "arrive when the portal is polled.")
        self.view.show_all()
