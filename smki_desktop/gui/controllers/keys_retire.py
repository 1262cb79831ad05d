"""Keys page, "Archive…" / "Delete…": the reason first, then a summary (which key, the
environment, its CSRs and certificates, whether a live certificate depends on it: the service
then refuses), then the service in the background."""

from __future__ import annotations

from smki_desktop.gui.controllers.keys_view import KeysView, key_op, said_then_refreshed
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.gui.widgets.reason import ReasonDialog
from smki_desktop.services import key_lifecycle


class RetireKey:
    def __init__(self, view: KeysView) -> None:
        self.view = view

    def ask(self, action: str) -> None:
        v = self.view
        k = v.selected()
        if k is None:
            v.message.setText("Select a key first.")
            return
        dlg = ReasonDialog(f"{action.capitalize()} key {k.short_id}", v.widget(),
                           check=lambda r: key_lifecycle.check_reason(r, action))
        v.reason_dialog = dlg

        def reasoned() -> None:
            reason = dlg.reason.text().strip()
            obj = key_lifecycle.key_object(v.services.ctx, k.key_id)
            what = ("Archive this key: it is kept but offered for no new work."
                    if action == "archive" else
                    "Delete this key's private key. This cannot be undone: nothing it "
                    "signed can be signed again with it.")
            ask_confirmation(
                v.widget(), lambda: self.retire(action, k.key_id, reason),
                title=f"{action.capitalize()} a key", env=v.services.ctx.env,
                action=f"&{action.capitalize()} key", what=what,
                facts=[("Key", f"{k.label} ({k.short_id})"), ("Usage", k.usage.value),
                       ("Reason", reason), ("CSRs made with it", str(len(obj.csrs))),
                       ("Certificates issued for it", str(len(obj.certificates))),
                       ("Still in use", str(len(obj.live)))],
                warning=("A live certificate depends on this key: the service will refuse."
                         if obj.live else ""))

        dlg.accepted.connect(reasoned)
        dlg.open()

    def retire(self, action: str, key_id: str, reason: str) -> None:
        fn = key_lifecycle.archive_key if action == "archive" else key_lifecycle.delete_key
        said = said_then_refreshed(self.view, lambda res: (
            f"Key {res.key_id[:16]} {'archived' if action == 'archive' else 'deleted'}: "
            f"{res.reason}"))

        def done(res: key_lifecycle.KeyRetired) -> None:
            said(res)
            if res.warning:  # recorded backups can still restore the deleted key
                self.view.services.error("Backups can still restore this key", res.warning)
        key_op(self.view, fn, self.view.services.ctx, key_id, reason, name=f"key {action}") \
            .success(done).run()
