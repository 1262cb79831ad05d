"""ADT page, "Verify…": check a signed file's signature (and its manifest) in the background
and name the signer, the signing time, the digest, the environment and whether the chain was
checked to a trust anchor."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.crypto.describe import certificate_summary
from smki_desktop.gui.controllers.adt_view import AdtView, adt_op
from smki_desktop.gui.qt import QFileDialog
from smki_desktop.services import adt as adt_service


class VerifySignature:
    def __init__(self, view: AdtView) -> None:
        self.view = view

    def choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.view.widget(), "File to verify", "",
                                              "All (*)")
        if name:
            self.verify(Path(name))

    def verify(self, path: Path, sig: Path | None = None) -> None:
        v = self.view
        adt_op(v, adt_service.verify_file, v.ctx, path, sig, done=self._verified,
               name="Verify signature")

    def _verified(self, res: adt_service.VerifyResult) -> None:
        env = res.manifest.environment.label if res.manifest else "unknown (no manifest)"
        signer = certificate_summary(res.verified.signer_certificate)
        when = res.verified.signing_time
        self.view.summary.setText(
            f"Signature valid, made by {signer}"
            + (f" at {when:%Y-%m-%d %H:%M} UTC" if when else "")
            + f". SHA-256 {res.sha256}; environment {env}; chain "
            + ("checked to a trust anchor" if res.verified.trusted else "not checked") + ".")
