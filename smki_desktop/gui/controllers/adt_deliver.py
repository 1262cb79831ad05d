"""ADT page, "Deliver package…": write the signed file, its manifest and signatures and the
SRO's confirmation as one delivery package (in the background)."""

from __future__ import annotations

from smki_desktop.gui.controllers.adt_view import AdtView, adt_op
from smki_desktop.services import adt as adt_service


class DeliverPackage:
    def __init__(self, view: AdtView) -> None:
        self.view = view

    def deliver(self) -> None:
        v = self.view
        if v.path is None:
            return
        adt_op(v, adt_service.deliver, v.ctx, v.path, overwrite=True, done=self._delivered,
               name="Delivery package")

    def _delivered(self, res: adt_service.DeliveryResult) -> None:
        self.view.summary.setText(f"Delivery package {res.package} (SHA-256 {res.sha256}).")
