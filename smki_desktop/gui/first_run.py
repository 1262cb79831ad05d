"""The first-run set-up: who this installation acts for (Party profile) and who uses it
(officer profile). Either can be skipped and done later from the Dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smki_desktop.core.errors import SmkiError
from smki_desktop.gui.forms import OfficerForm, PartyForm
from smki_desktop.gui.qt import QDialog, QDialogButtonBox, QGroupBox, QLabel, QVBoxLayout, QWidget
from smki_desktop.services import party as party_service

if TYPE_CHECKING:
    from smki_desktop.gui.main_window import GuiServices


class FirstRunDialog(QDialog):
    def __init__(self, services: GuiServices, parent: QWidget | None = None,
                 *, show_party: bool = True, show_officer: bool = True) -> None:
        super().__init__(parent)
        self.services = services
        ctx = services.ctx
        self.setWindowTitle(f"Set up SMKI Desktop — {ctx.env.label}")
        lay = QVBoxLayout(self)
        intro = QLabel(
            f"Welcome. This set-up is for the <b>{ctx.env.label}</b> environment only; the other "
            "environment has its own. You can skip it and finish later from the Dashboard.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.party_form: PartyForm | None = None
        self.officer_form: OfficerForm | None = None
        if show_party:
            box = QGroupBox("Your organisation (Party profile)")
            bl = QVBoxLayout(box)
            self.party_form = PartyForm(ctx.party())
            bl.addWidget(self.party_form)
            lay.addWidget(box)
        if show_officer:
            box = QGroupBox("You (local officer profile)")
            bl = QVBoxLayout(box)
            self.officer_form = OfficerForm(ctx.officer())
            bl.addWidget(self.officer_form)
            lay.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Skip for now")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        lay.addWidget(buttons)

    def save(self) -> None:
        try:
            party = self.party_form.profile() if self.party_form else None
            officer = self.officer_form.profile() if self.officer_form else None
        except SmkiError as exc:
            for f in (self.party_form, self.officer_form):
                if f is not None:
                    f.validate()
            self.services.status(exc.message)
            return
        self.save_button.setEnabled(False)

        def work() -> None:
            ctx = self.services.ctx
            if party is not None:
                party_service.set_party(ctx, party)
            if officer is not None:
                party_service.set_officer(ctx, officer)

        def done(_: object) -> None:
            self.services.status("Profile saved.")
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.services.error("Could not save the profile", exc)

        self.services.jobs.submit(work, on_done=done, on_error=failed, name="save profile")
