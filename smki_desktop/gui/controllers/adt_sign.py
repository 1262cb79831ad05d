"""ADT page, "Sign…": a summary of what will be signed and of the existing outputs it
replaces (a few file look-ups), then the saved file signed with the ARO's file-signing
credential in the background. Existing outputs are replaced only when the officer confirmed
the summary that named them: that answer is the service's `overwrite`, as in the CLI. Only the
bytes the table holds are signed: the service is given their SHA-256 and refuses a file that
was changed or replaced on disk after it was saved (the signing reads the file again, on
another thread)."""

from __future__ import annotations

import hashlib

from smki_desktop.gui.controllers.adt_view import AdtView, adt_op, smsr
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.services import adt as adt_service

SAVE_FIRST = "Save the file first: the signature covers the saved file's exact bytes."


class SignFile:
    def __init__(self, view: AdtView) -> None:
        self.view = view

    def request(self) -> None:
        v = self.view
        if v.path is None:
            v.services.error("Sign", SAVE_FIRST)
            return
        in_the_way = adt_service.outputs_in_the_way(v.ctx, v.path)
        facts = [("File", str(v.path)), ("Rows", f"{v.table.rowCount():,}"),
                 ("Signing credential", v.key_combo.currentText()),
                 ("Service Request (SMSR)", smsr(v) or "none")]
        if in_the_way:
            facts.append(("Replaces", ", ".join(p.name for p in in_the_way)))
        ask_confirmation(
            v.widget(), lambda: self.sign(overwrite=bool(in_the_way)), title="Sign the ADT file",
            env=v.ctx.env, action="&Replace and sign" if in_the_way else "&Sign",
            what="Sign this Anomaly Detection Threshold file with your file-signing "
                 "credential. The signature covers the file exactly as saved.", facts=facts,
            warning="The existing signature, manifest and manifest signature of this file are "
                    "replaced." if in_the_way else "")

    def sign(self, overwrite: bool = False) -> None:
        """Sign the saved file (edits since are saved first), bound to the table's bytes."""
        v = self.view
        if v.path is None:
            v.services.error("Sign", SAVE_FIRST)
            return
        reviewed = v.current_bytes()  # what the officer sees and confirmed
        try:
            on_disk = v.path.read_bytes()
        except OSError:
            on_disk = None  # saved afresh below
        if reviewed != on_disk and v.save(v.path) is None:
            return
        adt_op(v, adt_service.sign_file, v.ctx, v.path, v.key_combo.currentData(),
               smsr=smsr(v), overwrite=overwrite,
               expect_sha256=hashlib.sha256(reviewed).hexdigest(),
               done=self._signed, name="Sign ADT file")

    def _signed(self, res: adt_service.SignResult) -> None:
        v = self.view
        warn = (" " + " ".join(res.warnings)) if res.warnings else ""
        v.summary.setText(
            f"Signed and verified ({v.ctx.env.label}). SHA-256 {res.sha256}\n"
            f"Signature {res.signature.name}, manifest {res.manifest.name}.{warn}")
        v.services.status(f"Signed {res.file.name}.")
