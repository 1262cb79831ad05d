"""Devices page, "Submit (web service)": a summary of what will be sent (source, how many,
which credential, the environment), then the batch is queued for the DCC's web service. Its
results are not fetched on their own: "Check now" asks the portal (as Requests → Poll for
results does) and files what is ready."""

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
        v = self.view
        if v.source is None:
            return
        v.run_job(submit_batch, v.services.ctx, v.source, done=self._submitted,
                  what="Submitting")

    def _submitted(self, sent: tuple[Any, str]) -> None:
        res, portal = sent
        v = self.view
        what = (f"Batch {res.batch_id} is queued for {portal} but not sent yet "
                f"({res.send_error})" if res.send_error
                else f"Batch {res.batch_id} was sent to {portal}")
        v.summary.setText(f"{what}. Its results are not fetched on their own: press Check "
                          "now to ask for them (or Requests → Poll for results, later).")
        v.check_btn.setVisible(True)
        v.show_all()

    def check_now(self) -> None:
        """Ask the portal for every submitted batch's results, then show what was filed."""
        v = self.view
        v.run_job(check_results, v.services.ctx, done=lambda _r: v.show_all(),
                  what="Checking for results", cancellable=False)


def answered_by_simulator(ctx: Any) -> bool:
    """Whether this environment's web-service requests go to the bundled simulator (Test
    only; a job: it reads the store)."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.services.portal_endpoint import endpoint

    return ctx.env is Environment.TEST and endpoint(ctx).source == "simulator"


def portal_name(ctx: Any) -> str:
    """Where this environment's web-service requests go, in words (a job: it reads the
    store): in Test, the simulator when it is the endpoint."""
    if answered_by_simulator(ctx):
        return "the Test portal (simulator)"
    return str(SENT_TO[ctx.env])


SIMULATOR_PENDING = "submitted, waiting for the simulator (Test)"


def who_answers(ctx: Any, rows: list[Any]) -> list[Any]:
    """The view's rows (EUI, usage, status, detail, ...) with "waiting for the DCC" said as
    "waiting for the simulator (Test)" when the bundled simulator answers (a job); Live, and
    Test against a real endpoint, unchanged."""
    from smki_desktop.services.device_matching import STATUS_WORDS

    if not answered_by_simulator(ctx):
        return rows
    dcc = STATUS_WORDS["pending"]
    return [(*r[:3], SIMULATOR_PENDING, *r[4:]) if r[2] == "pending" and r[3] == dcc else r
            for r in rows]


def submit_batch(ctx: Any, source: Any, *, progress: Any = None) -> tuple[Any, str]:
    """Background: submit the batch, and say where it went."""
    from smki_desktop.services import devices  # heavy: loaded when first used

    return devices.submit(ctx, source, progress=progress), portal_name(ctx)


def check_results(ctx: Any) -> None:
    """Background: poll the portal for every submitted request (as Requests → Poll for
    results); the page's reload then files the batches that finished."""
    from smki_desktop.services import portal

    portal.poll(ctx, force=True)
