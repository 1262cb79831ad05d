"""Keys page, "Make an Organisation CSR with this key…": role, EUI and common name asked, then
the CSR is made with the key already here (submitted next from the Requests page)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smki_desktop.core.keys import KeyInfo
from smki_desktop.gui.controllers.keys_view import KeysView, key_op, opener, said_then_refreshed
from smki_desktop.gui.page_op import BackgroundRead
from smki_desktop.gui.qt import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget
from smki_desktop.gui.widgets.confirm import give_focus_back
from smki_desktop.services import csr as csr_service

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext


class CsrForKeyDialog(QDialog):
    """Role and EUI for an Organisation CSR made with a key already on the Keys page."""

    def __init__(self, key: KeyInfo, services: GuiServices,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Organisation CSR with key '{key.label}' ({key.usage.value})")
        form = QFormLayout(self)
        self.role = QLineEdit()
        self.role.setPlaceholderText("role code or name, e.g. 02 or supplier")
        self.role.setAccessibleName("Remote Party Role")
        self.eui = QLineEdit()
        self.eui.setAccessibleName("Entity EUI-64")
        self.cn = QLineEdit()
        self.cn.setPlaceholderText("optional")
        self.cn.setAccessibleName("Common name (optional)")
        form.addRow(QLabel(f"Key: {key.label} ({key.usage.value})"))
        form.addRow("&Role", self.role)
        form.addRow("&EUI-64", self.eui)
        form.addRow("&Common name", self.cn)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Make CSR")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        # the Party's first EUI as the default, read on the job runner (the store may be a
        # team store that does not answer)
        self.party_read = BackgroundRead(self, services, first_party_eui, services.ctx,
                                         name="Party profile", show=self._default_eui)
        self.party_read.run()

    def _default_eui(self, eui: str) -> None:
        if not self.eui.text():
            self.eui.setText(eui)


def first_party_eui(ctx: AppContext) -> str:
    """The first EUI-64 of the Party's ranges, "" without a Party profile (a job)."""
    party = ctx.party()
    return str(party.eui_ranges[0].first) if party else ""


class MakeCsrWithKey:
    def __init__(self, view: KeysView) -> None:
        self.view = view

    def ask(self) -> None:
        v = self.view
        k = v.selected()
        if k is None:
            return
        dlg = CsrForKeyDialog(k, v.services, v.widget())
        v.csr_dialog = dlg
        give_focus_back(dlg, opener(v), v.table)
        dlg.accepted.connect(lambda: self.make(k.key_id, dlg.role.text().strip(),
                                               dlg.eui.text().strip(),
                                               dlg.cn.text().strip() or None))
        dlg.open()

    def make(self, key_id: str, role: str, eui: str, cn: str | None) -> None:
        done = said_then_refreshed(self.view, lambda r: (
            f"Organisation CSR {r.csr_id} made with key {r.key.short_id}: submit it from the "
            "Requests page."))
        key_op(self.view, csr_service.create_org_csr, self.view.services.ctx, key_id, role, eui,
               cn, name="CSR with this key").changes("requests").success(done).run()
