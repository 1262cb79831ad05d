"""Settings > Profiles: the SMKI profile values of this environment (policy OIDs, hwType, CA
names, roles per party type) with their version and source, and the PKCS#11 token to use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.widgets.details import DetailsTree, sections_from_mapping
from smki_desktop.profile_data import override_path
from smki_desktop.services import csr as csr_service
from smki_desktop.services import token as token_service

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext


def read_token_settings(ctx: AppContext) -> tuple[str, str]:
    """The PKCS#11 module and token label in use (a job: no Qt here)."""
    return (ctx.setting(csr_service.SETTING_PKCS11_MODULE) or "",
            ctx.setting(csr_service.SETTING_PKCS11_TOKEN) or "")


class Section(QWidget):
    title = "Profiles"
    order = 20

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        ctx = services.ctx
        profile = csr_service.profile_for(ctx)
        box = QVBoxLayout(self)
        form = QFormLayout()
        override = override_path(ctx.paths.env_dir, ctx.env)
        form.addRow("Environment", QLabel(profile.environment.label))
        form.addRow("Version", QLabel(profile.version))
        src = QLabel(profile.source)
        src.setWordWrap(True)
        form.addRow("Source", src)
        form.addRow("Override file", QLabel(f"{override} "
                                             f"({'in use' if override.is_file() else 'none'})"))
        form.addRow("Organisation policy OIDs",
                    QLabel(", ".join(sorted(profile.org_policy_oids)) or "not configured"))
        form.addRow("Device policy OIDs",
                    QLabel(", ".join(sorted(profile.device_policy_oids)) or "not configured"))
        form.addRow("hwType OIDs",
                    QLabel(", ".join(sorted(profile.hw_type_oids)) or "not configured"))
        form.addRow("CA names", QLabel("; ".join(profile.org_ca_names + profile.device_ca_names)
                                       or "not configured"))
        box.addLayout(form)
        self.document = DetailsTree("profileDocument")
        self.document.setAccessibleName("The certificate profile in use")
        self.document.show_sections(sections_from_mapping(profile.to_json()))
        box.addWidget(self.document)
        token = QFormLayout()
        self.module = QLineEdit()
        self.module.setPlaceholderText("/usr/lib/softhsm/libsofthsm2.so")
        self.token = QLineEdit()
        self.save = QPushButton("Save &token settings")
        self.save.clicked.connect(self.save_token)
        self.status = QLabel()
        token.addRow("PKCS#11 &module", self.module)
        token.addRow("Token &label", self.token)
        token.addRow(self.save, self.status)
        box.addLayout(token)
        BackgroundRead(self, services, read_token_settings, ctx, name="Token settings",
                       show=self._show_token, loading=self.status).run()

    def _show_token(self, read: tuple[str, str]) -> None:
        """The settings read, in fields the officer has not begun to fill meanwhile."""
        for field, value in zip((self.module, self.token), read, strict=True):
            if not field.text():
                field.setText(value)

    def save_token(self) -> None:
        """Saved and audited in the background: the audit record is a keyring write."""
        module, token = self.module.text().strip(), self.token.text().strip()
        self.status.setText("Saving…")

        def failed(text: str, exc: BaseException) -> None:
            self.status.setText(f"Not saved: {text}")
            self.services.error("Token settings not saved", exc)

        PageOp(self, self.services, token_service.use_token, self.services.ctx, module, token,
               name="Save the token settings").busy(self.save).changes("settings", "keys") \
            .success(lambda _entry: self.status.setText("Saved.")).failure(failed) \
            .cancelled(lambda _exc: self.status.setText("Not saved.")).run()
