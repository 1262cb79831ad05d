"""Keys page, "Relabel…": a new label for the selected key, recorded by the service."""

from __future__ import annotations

from smki_desktop.gui.controllers.keys_view import KeysView, key_op, opener, said_then_refreshed
from smki_desktop.gui.widgets.confirm import give_focus_back
from smki_desktop.gui.widgets.reason import ReasonDialog
from smki_desktop.services import key_lifecycle


class RelabelKey:
    def __init__(self, view: KeysView) -> None:
        self.view = view

    def ask(self) -> None:
        v = self.view
        k = v.selected()
        if k is None:
            return
        dlg = ReasonDialog(f"Relabel key '{k.label}' ({k.usage.value})", v.widget(),
                           check=key_lifecycle.check_label, field="New &label",
                           example="what the key is for, e.g. supplier DS 2026")
        dlg.reason.setText(k.label)
        v.reason_dialog = dlg
        give_focus_back(dlg, opener(v), v.table)
        dlg.accepted.connect(lambda: self.relabel(k.key_id, dlg.reason.text()))
        dlg.open()

    def relabel(self, key_id: str, label: str) -> None:
        done = said_then_refreshed(
            self.view, lambda r: f"Key {r.key_id[:16]} is now labelled {r.label!r}.")
        key_op(self.view, key_lifecycle.relabel_key, self.view.services.ctx, key_id, label,
               name="relabel key").success(done).run()
