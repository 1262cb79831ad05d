"""Keys page, "Generate key…": usage and label asked in a dialog, then the key is generated
and stored (OS keyring or token) in the background, then selected (and scrolled to) in the
table, so that the next action (Back up…) is on it."""

from __future__ import annotations

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.gui import texts
from smki_desktop.gui.controllers.keys_view import KeysView, opener
from smki_desktop.gui.jobs import Job
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)
from smki_desktop.gui.widgets.confirm import give_focus_back
from smki_desktop.gui.widgets.field_check import FieldCheck
from smki_desktop.services import key_lifecycle
from smki_desktop.services import keys as key_service

USAGE_HELP = {
    KeyUsage.SIGNING: "Organisation Certificate, digitalSignature (P-256)",
    KeyUsage.KEY_AGREEMENT: "Organisation Certificate, keyAgreement (P-256)",
    KeyUsage.FILE_SIGNING: "your ARO file-signing credential (ADT and quarantine files)",
    KeyUsage.CLIENT_AUTH: "DCC web-service client credential (RSA-2048)",
}


class GenerateKeyDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, env: Environment | None = None) -> None:
        super().__init__(parent)
        # the environment in the title, as every dialog that makes something says where
        self.setWindowTitle("Generate a key" + (f" — {env.label}" if env is not None else ""))
        form = QFormLayout(self)
        self.usage = QComboBox()
        for u in KeyUsage:
            self.usage.addItem(f"{u.value} — {USAGE_HELP[u]}", u.value)
        self.label = QLineEdit()
        self.label.setPlaceholderText("e.g. supplier DS 2026")
        self.key_type = QLabel()
        self.usage.currentIndexChanged.connect(self._type)
        form.addRow("&Usage", self.usage)
        form.addRow("&Label", self.label)
        self.fields = FieldCheck()  # an empty label is named under the field, not in its hint
        form.addRow("", self.fields.label(self.label, "field.label"))
        form.addRow("Type", self.key_type)
        note = QLabel(texts.KEYRING_HINT)
        note.setWordWrap(True)
        form.addRow(note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Generate")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._type()

    def _type(self) -> None:
        self.key_type.setText(key_service.default_key_type(self.chosen_usage()).value)

    def chosen_usage(self) -> KeyUsage:
        return KeyUsage(self.usage.currentData())

    def _accept(self) -> None:
        if self.fields.passes(lambda: key_lifecycle.check_label(self.label.text())):
            self.accept()


class GenerateKey:
    def __init__(self, view: KeysView) -> None:
        self.view = view
        self.dialog: GenerateKeyDialog | None = None

    def open(self) -> None:
        v = self.view
        if v.no_party:  # the button is disabled; the page says why
            return
        dlg = GenerateKeyDialog(v.widget(), v.services.ctx.env)
        self.dialog = dlg
        give_focus_back(dlg, opener(v), v.table)
        dlg.accepted.connect(lambda: self.generate(dlg.chosen_usage(), dlg.label.text().strip()))
        dlg.open()

    def generate(self, usage: KeyUsage, label: str, key_type: KeyType | None = None) -> Job:
        v = self.view
        v.services.status(f"Generating a {usage.value} key…", 0)

        def done(result: key_service.KeyGenerated) -> None:
            v.select_key(result.key.key_id)  # when the table read next returns it
            v.refresh()
            v.services.status(f"Generated key {result.key.short_id} ({label}).")

        return PageOp(v.widget(), v.services, key_service.generate_key, v.services.ctx, usage,
                      label, key_type, name="generate key") \
            .busy(v.generate_button).changes("keys").success(done) \
            .error_title("Could not generate the key").run()
