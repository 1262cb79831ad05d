"""Revoke on the Certificates page: the dialog (what will be revoked, reason, justification,
urgency, who signs) and the signed revocation request filed through the job runner. The request
then waits in the Approvals inbox for an SRO."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.widgets.dual_control import RevokeDialog
from smki_desktop.services import identity, revocation
from smki_desktop.services.certificates import CertRecord

if TYPE_CHECKING:
    from smki_desktop.gui.qt import QWidget
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.identity import SigningChoice


def summary_html(records: list[CertRecord]) -> str:
    e = html.escape
    rows = "".join(f"<li>serial <b>{e(r.serial)}</b> — role {e(r.role or '-')}, EUI "
                   f"{e(r.eui or r.device_eui or '-')}, {e(r.usage or '-')}, status "
                   f"{e(r.status)}, issuer {e(r.issuer)}</li>" for r in records)
    return (f"<p>You are asking for <b>{len(records)} certificate"
            f"{'s' if len(records) != 1 else ''}</b> to be <b>revoked</b>. Once an SRO approves "
            f"and the request is submitted, the DCC revokes "
            f"{'them' if len(records) != 1 else 'it'} for good:</p><ul>{rows}</ul>")


class RevokeController:
    def __init__(self, services: GuiServices, parent: QWidget, report: Any) -> None:
        self.services = services
        self.parent = parent
        self.report = report  # callable(str): where the outcome is shown
        self.dialog: RevokeDialog | None = None
        self.last_id: str | None = None
        self.reading = False  # who may sign is being read (a second press waits for it)

    def open(self, records: list[CertRecord], *busy: QWidget) -> None:
        """Who may sign is read on the job runner (the register and the credentials: a team
        store may take its timeout), `busy` disabled meanwhile; then the dialog opens."""
        if not records or self.reading:
            return
        self.reading = True

        def read(choices: list[SigningChoice]) -> None:
            self.reading = False
            self._show(records, choices)

        def failed(text: str, _exc: BaseException) -> None:
            self.reading = False
            self.report(text)

        PageOp(self.parent, self.services, identity.signing_choices, self.services.ctx,
               name="Read who may sign").busy(*busy).success(read).failure(failed) \
            .cancelled(lambda _exc: failed("", _exc)).run()

    def _show(self, records: list[CertRecord], choices: list[SigningChoice]) -> None:
        dlg = RevokeDialog(summary_html(records), choices, self.services.ctx.env, self.parent)
        self.dialog = dlg
        dlg.accepted.connect(lambda: self._file(records, dlg))
        dlg.open()

    def _file(self, records: list[CertRecord], dlg: RevokeDialog) -> None:
        choice = dlg.actor.selected()

        def done(res: revocation.Changed) -> None:
            self.last_id = res.request.request_id
            self.report(f"Revocation request {res.request.request_id} filed; it waits for an "
                        "SRO's approval (Approvals).")

        PageOp(self.parent, self.services, revocation.request, self.services.ctx,
               [r.serial for r in records], reason=dlg.reason.currentData(),
               justification=dlg.justification.text(),
               as_ref=choice.officer_id if choice else None,
               key_ref=choice.key_id if choice else None,
               issuer=records[0].issuer if len(records) == 1 else None,
               urgency=dlg.urgency.currentData(), name="revocation request") \
            .changes("approvals", "requests").success(done) \
            .failure(lambda text, _exc: self.report(text)).run()
