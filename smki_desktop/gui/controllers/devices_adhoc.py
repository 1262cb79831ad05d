"""Devices page, "Send one CSR…": one Device CSR checked in the background as it must be before
it is sent (not the other environment's, the Party profile Live requires, the device profile
and the batch rules: `device_adhoc.check_to_send`), then a summary, then sent on its own (ad
hoc) over the web service (`device_adhoc.try_submit` checks it again, the batch rules under
the store's write lock as it queues it).

What stops it (a finding, or a refusal such as Live without a Party profile) is said once, in
the page's summary under the table, in plain words: no error box, no status-bar message. A
failure of the store or the network still goes the page's usual way (`run_job`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.gui.controllers.devices_view import DevicesView
from smki_desktop.gui.qt import QFileDialog
from smki_desktop.gui.texts import ISSUER, SENT_TO, error_text
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.services import device_adhoc


@dataclass(frozen=True)
class NotSent:
    """Why the CSR was neither checked in full nor sent (a refusal or an unreadable file), as
    the GUI words it."""

    text: str


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

        def checked(c: device_adhoc.AdhocCheck | NotSent) -> None:
            if isinstance(c, NotSent) or not c.ok:
                self._not_sent(path, c)
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

        v.summary.setText("")
        v.run_job(_check_file, v.services.ctx, Path(path), done=checked,
                  what="Checking the Device CSR", cancellable=False)

    def send(self, c: device_adhoc.AdhocCheck, path: Path) -> None:
        def sent(res: device_adhoc.AdhocSent | device_adhoc.AdhocCheck | NotSent) -> None:
            if isinstance(res, device_adhoc.AdhocSent):
                self._sent(res)
            else:
                self._not_sent(path, res)

        self.view.summary.setText("")
        self.view.run_job(_send, self.view.services.ctx, c.der, str(path), done=sent,
                          what="Sending the Device CSR", cancellable=False)

    def _not_sent(self, path: Path, why: device_adhoc.AdhocCheck | NotSent) -> None:
        self.view.show_busy(False, "Not sent")
        self.view.summary.setText(not_sent_text(path.name, why))

    def _sent(self, res: device_adhoc.AdhocSent) -> None:
        item = res.item
        self.view.summary.setText(f"Device CSR sent as {item.ref}: {item.state}"
                                  + (f" ({item.last_error})" if item.last_error else "") + ".")


def not_sent_text(name: str, why: device_adhoc.AdhocCheck | NotSent) -> str:
    """The page's one message for a CSR that is not sent: what it fails, each finding in
    plain words (no rule codes), or the refusal."""
    if isinstance(why, NotSent):
        text = why.text.removeprefix(f"{name}: ")  # the refusal may name the file first
        return f"{name} was not sent. {text[:1].upper()}{text[1:]}"
    return (f"{name} was not sent: the Device CSR for {why.device_eui} ({why.usage}) fails "
            f"{why.failed}. " + " ".join(why.reasons))


def _refused(exc: InputError | Refusal) -> NotSent:
    return NotSent(error_text(exc))


def _check_file(ctx: Any, p: Path) -> device_adhoc.AdhocCheck | NotSent:
    """Background: read the file and check it as it must be before it is sent; a refusal
    (another environment's CSR, no Party profile in Live) or a file that is not a Device CSR
    comes back as what to say."""
    try:
        data = p.read_bytes()
    except OSError as exc:
        return NotSent(f"{p}: cannot be read ({exc.strerror or exc}).")
    try:
        return device_adhoc.check_to_send(ctx, data, p.name)
    except (InputError, Refusal) as exc:
        return _refused(exc)


def _send(ctx: Any, der: bytes, source: str
          ) -> device_adhoc.AdhocSent | device_adhoc.AdhocCheck | NotSent:
    """Background: check again, queue and send; a CSR that now fails (e.g. another
    workstation queued it first) or a refusal comes back as what to say."""
    try:
        return device_adhoc.try_submit(ctx, der, source)
    except (InputError, Refusal) as exc:
        return _refused(exc)
