"""Keys page, "Back up…": a backup of a software key, either under a passphrase or split into
SLIP-39 shares (n of m), one per named custodian, written in the background; a token key
cannot be exported. When the service refuses (the passphrase too short, the two entries
different, the file already there), the Back up dialog opens again as it was filled in, with
the reason in it: nothing has to be typed twice. The focus goes back to the control that
opened it (or the table)."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.keys import KeyInfo
from smki_desktop.gui.controllers.keys_view import KeysView, opener
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import isValid
from smki_desktop.gui.widgets.confirm import give_focus_back
from smki_desktop.gui.widgets.key_backup import KeyBackupDialog
from smki_desktop.services import key_backup


class BackUpKey:
    def __init__(self, view: KeysView) -> None:
        self.view = view
        self.dialog: KeyBackupDialog | None = None  # the last one opened (filled in)

    def open(self) -> None:
        v = self.view
        k = v.selected()
        if k is None:
            return
        problem = key_backup.exportable_problem(k)
        if problem:
            v.services.error("This key cannot be backed up", problem)
            return
        dlg = KeyBackupDialog(k, v.widget(), v.services.ctx.paths.env_dir)
        v.backup_dialog = self.dialog = dlg
        give_focus_back(dlg, opener(v), v.table)
        dlg.accepted.connect(lambda: self.backup(k, dlg.target(), dlg.by_shares.isChecked(),
                                                 dlg.threshold.value(), dlg.count.value(),
                                                 dlg.custodians()))
        dlg.open()

    def backup(self, key: KeyInfo, target: Path, shares: bool, threshold: int,
               count: int, custodians: list[str] | None = None) -> None:
        v = self.view

        def done(result: key_backup.BackupResult) -> None:
            v.refresh()
            v.services.status(f"Backed up key {key.short_id}: {result.files[0]}")
            if result.warning:  # a passphrase backup's: an interrupted backup's files removed
                v.services.error("Separate the shares now" if result.share_files
                                 else "Key backup", result.warning)

        def refused(text: str, exc: BaseException) -> None:
            dlg = self.dialog
            if dlg is None or not isValid(dlg) or dlg.key.key_id != key.key_id:
                v.services.error("Could not back up the key", exc)
                return
            dlg.refused(text)  # the same dialog, as it was filled in
            dlg.open()

        ctx = v.services.ctx
        op = (PageOp(v.widget(), v.services, key_backup.backup_with_shares, ctx, key.key_id,
                     target, threshold, count, custodians, name="back up key") if shares else
              PageOp(v.widget(), v.services, key_backup.backup_with_passphrase, ctx,
                     key.key_id, target, name="back up key"))
        op.busy(v.backup_button).changes("keys").success(done).failure(refused) \
            .cancelled(lambda _e: v.message.setText("Cancelled — nothing backed up.")).run()
