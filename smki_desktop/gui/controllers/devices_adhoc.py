"""Devices page, "Send one CSR…": one Device CSR checked in the background as it must be before
it is sent (not the other environment's, the Party profile Live requires, the device profile
and the batch rules: `device_adhoc.check_to_send`), then a summary, then sent on its own (ad
hoc) over the web service (`device_adhoc.submit` checks it again)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smki_desktop.core.errors import InputError
from smki_desktop.gui.controllers.devices_view import DevicesView
from smki_desktop.gui.qt import QFileDialog
from smki_desktop.gui.texts import ISSUER, SENT_TO
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.services import device_adhoc


class SendOne:
    def __init__(self, view: DevicesView) -> None:
        self.view = view

    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.view.widget(), "One Device CSR", "",
                                              "Device CSR (*.csr *.pem *.der);;All files (*)")
        if path:
            self.check(Path(path))

    def check(self, path: Path) -> None:
        v = self.view

        def checked(c: device_adhoc.AdhocCheck) -> None:
            if not c.ok:
                v.summary.setText(f"{path.name}: Device CSR for {c.device_eui} fails "
                                  f"{c.failed}, so it is not sent: " + "; ".join(c.findings))
                return
            env = v.services.ctx.env
            ask_confirmation(
                v.widget(), lambda: self.send(c, path),
                title="Send one Device CSR", env=env,
                action=f"&Send to {SENT_TO[env]}",
                what=f"Send this Device CSR on its own (ad hoc) to {SENT_TO[env]} over the "
                     f"web service. {ISSUER[env]} its certificate.",
                facts=[("File", str(path)), ("Device", c.device_eui), ("Usage", c.usage),
                       ("How many", "1")])

        v.run_job(_check_file, v.services.ctx, Path(path), done=checked,
                  what="Checking the Device CSR", cancellable=False)

    def send(self, c: device_adhoc.AdhocCheck, path: Path) -> None:
        self.view.run_job(device_adhoc.submit, self.view.services.ctx, c.der, str(path),
                          done=self._sent, what="Sending the Device CSR", cancellable=False)

    def _sent(self, res: device_adhoc.AdhocSent) -> None:
        item = res.item
        self.view.summary.setText(f"Device CSR sent as {item.ref}: {item.state}"
                                  + (f" ({item.last_error})" if item.last_error else "") + ".")


def _check_file(ctx: Any, p: Path) -> device_adhoc.AdhocCheck:
    """Background: read the file and check it as it must be before it is sent."""
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror or exc}).") from None
    return device_adhoc.check_to_send(ctx, data, p.name)
