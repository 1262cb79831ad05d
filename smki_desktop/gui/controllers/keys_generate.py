"""Keys page, "Generate key…": usage and label asked in a dialog, then the key is generated
and stored (OS keyring or token) in the background, then selected (and scrolled to) in the
table, so that the next action (Back up…) is on it. In Live the dialog is framed in red and
says so, and the key is made only after the Live confirmation (the summary and its "I have
checked this" tick); in Test Generate makes it at once. The dialog grows to fit an error
shown under a field (its wrapped labels need their height for the width)."""

from __future__ import annotations

from typing import Any

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
    QFrame,
    QLabel,
    QLineEdit,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tones import text_style, tone
from smki_desktop.gui.widgets.confirm import ConfirmDialog, ask_confirmation, give_focus_back
from smki_desktop.gui.widgets.field_check import FieldCheck
from smki_desktop.services import key_lifecycle
from smki_desktop.services import keys as key_service

USAGE_HELP = {
    KeyUsage.SIGNING: "Organisation Certificate, digitalSignature (P-256)",
    KeyUsage.KEY_AGREEMENT: "Organisation Certificate, keyAgreement (P-256)",
    KeyUsage.FILE_SIGNING: "your ARO file-signing credential (ADT and quarantine files)",
    KeyUsage.CLIENT_AUTH: "DCC web-service client credential (RSA-2048)",
}


LIVE_WORDS = ("LIVE environment: this makes a real key for live smart meters. You check "
              "a summary and confirm before it is made.")


def live_frame_style() -> str:
    """The Live frame (a thick red border on a red tint), as the Live confirmations draw it."""
    return (f"QFrame#liveGenerate {{ border: 3px solid {tone('live_border')}; "
            f"background: {tone('live_bg')}; }}")


class GenerateKeyDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, env: Environment | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.live = env is Environment.LIVE
        self.confirmation: ConfirmDialog | None = None
        # the environment in the title, as every dialog that makes something says where
        self.setWindowTitle("Generate a key" + (f" — {env.label}" if env is not None else ""))
        outer = QVBoxLayout(self)
        self.live_frame = QFrame()
        self.live_frame.setObjectName("liveGenerate")
        self.live_frame.setStyleSheet(live_frame_style())
        live_box = QVBoxLayout(self.live_frame)
        self.live_note = QLabel(LIVE_WORDS)
        self.live_note.setWordWrap(True)
        self.live_note.setStyleSheet(text_style("error", bold=True))
        live_box.addWidget(self.live_note)
        self.live_frame.setVisible(self.live)
        outer.addWidget(self.live_frame)
        form = QFormLayout()
        outer.addLayout(form)
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
        self.note = QLabel(texts.KEYRING_HINT)
        self.note.setWordWrap(True)
        form.addRow(self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        # Live: more follows (the summary to check and confirm), so the button says so
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            "&Generate…" if self.live else "&Generate")
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        self._type()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.fit()

    def fit(self) -> None:
        """Tall enough for every row at the width shown: a wrapped label (the keyring note, an
        error under a field) needs more height than the dialog was given when it opened."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        need = layout.totalHeightForWidth(self.width())
        if need > self.height():
            self.resize(self.width(), need)

    def _type(self) -> None:
        self.key_type.setText(key_service.default_key_type(self.chosen_usage()).value)

    def chosen_usage(self) -> KeyUsage:
        return KeyUsage(self.usage.currentData())

    def _accept(self) -> None:
        if not self.fields.passes(lambda: key_lifecycle.check_label(self.label.text())):
            QTimer.singleShot(0, self.fit)  # the error label is laid out on the next turn
            self.fit()
            return
        if not self.live:
            self.accept()
            return
        usage = self.chosen_usage()
        self.confirmation = ask_confirmation(
            self, self.accept, title="Check before a Live key is made", env=Environment.LIVE,
            action="&Make this Live key",
            what="Make a new key in the Live environment, for real certificates of live "
                 "smart meters.",
            facts=[("Usage", f"{usage.value} — {USAGE_HELP[usage]}"),
                   ("Label", self.label.text().strip()), ("Type", self.key_type.text()),
                   ("Kept", "encrypted in the Live data folder, unlocked by your OS keyring")],
            focus_to=self.label)


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
