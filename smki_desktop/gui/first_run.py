"""The welcome flow: Test and Live in two sentences; who this installation acts for (Party
profile) and who uses it (officer profile); then, in Test, a walk to a first accepted
certificate against the local simulator, with a sample ADT file signed at the end.

Each walk step is one call of `services.first_run.run_step`, run on the job runner one after
the other; the dialog only shows their progress. Reopened from Help > Welcome and first steps.
Either part can be skipped and done later from the Dashboard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import SmkiError
from smki_desktop.gui import texts
from smki_desktop.gui.forms import OfficerForm, PartyForm
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGroupBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.services import first_run as walk_service
from smki_desktop.services import party as party_service

if TYPE_CHECKING:
    from smki_desktop.core.party import OfficerProfile, PartyProfile
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

TEST_AND_LIVE = (
    "<b>Test</b> is for practice: keys, requests and certificates there come from a local "
    "simulator and mean nothing to the DCC. <b>Live</b> is the real SMKI: what you make there "
    "is sent to the DCC and used on real meters.")
PENDING, RUNNING, DONE, FAILED = "○", "…", "✔", "✖"


Profiles = tuple["PartyProfile | None", "OfficerProfile | None"]


def read_profiles(ctx: AppContext) -> Profiles:
    """The Party and officer profiles the dialog starts from (a job: no Qt here)."""
    return ctx.party(), ctx.officer()


class FirstRunDialog(QDialog):
    def __init__(self, services: GuiServices, parent: QWidget | None = None,
                 *, show_party: bool = True, show_officer: bool = True,
                 profiles: Profiles | None = None) -> None:
        """`profiles` as the opener read them on the job runner (read here when not given)."""
        super().__init__(parent)
        self.services = services
        ctx = services.ctx
        self.profiles = profiles if profiles is not None else read_profiles(ctx)
        self.setObjectName("firstRunDialog")
        self.setWindowTitle(f"Welcome to SMKI Desktop — {ctx.env.label}")
        lay = QVBoxLayout(self)
        lay.setSpacing(10)
        # the same banner as the main window: setting up Live must look like Live
        banner = QLabel(texts.BANNER[ctx.env])
        banner.setObjectName("welcomeBanner")
        banner.setWordWrap(True)
        banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        banner.setStyleSheet(texts.BANNER_STYLE[ctx.env] + "font-weight:bold; padding:6px;")
        lay.addWidget(banner)
        intro = QLabel(f"{TEST_AND_LIVE}<br><br>You are setting up the <b>{ctx.env.label}</b> "
                       "environment; the other one has its own set-up.")
        intro.setObjectName("welcomeIntro")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.stack = QStackedWidget()
        lay.addWidget(self.stack, 1)
        self.stack.addWidget(self._profiles_page(show_party, show_officer))
        self.walk_page = self._walk_page()
        self.stack.addWidget(self.walk_page)
        self.walk = walk_service.Walk()
        self.walking = False
        self.setMinimumWidth(560)
        self.setMaximumWidth(760)  # long wrapped texts must not stretch it past the screen
        self.resize(640, self.sizeHint().height())

    # -- page 1: profiles ------------------------------------------------------------------
    def _profiles_page(self, show_party: bool, show_officer: bool) -> QWidget:
        ctx = self.services.ctx
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(0, 0, 0, 0)
        # the forms scroll when the screen is short (errors under the fields make them taller):
        # squeezed, Qt drew an error over the EUI-64 box
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setSizeAdjustPolicy(QScrollArea.SizeAdjustPolicy.AdjustToContents)
        forms = QWidget()
        lay = QVBoxLayout(forms)
        lay.setContentsMargins(0, 0, 0, 0)
        scroll.setWidget(forms)
        self.profiles_scroll = scroll
        outer.addWidget(scroll, 1)
        self.party_form: PartyForm | None = None
        self.officer_form: OfficerForm | None = None
        if show_party:
            box = QGroupBox("Your organisation (Party profile)")
            bl = QVBoxLayout(box)
            self.party_form = PartyForm(self.profiles[0])
            bl.addWidget(self.party_form)
            lay.addWidget(box)
        if show_officer:
            box = QGroupBox("You (officer profile)")
            bl = QVBoxLayout(box)
            self.officer_form = OfficerForm(self.profiles[1])
            bl.addWidget(self.officer_form)
            lay.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("S&kip for now")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        # mnemonics clear of the forms' (&Signifier takes Alt+S)
        self.save_button.setText("Save and &continue" if ctx.env is Environment.TEST
                                 else "Sa&ve")
        outer.addWidget(buttons)
        return page

    def save(self) -> None:
        forms = [f for f in (self.party_form, self.officer_form) if f is not None]
        for f in forms:
            f.show_all()  # Save shows the errors of fields not reached yet too
        wrong = next((w for f in forms if (w := f.first_wrong()) is not None), None)
        if wrong is not None:  # the officer starts at the first field to put right
            wrong.setFocus()
            self.profiles_scroll.ensureWidgetVisible(wrong)
        try:
            party = self.party_form.checked_profile() if self.party_form else None
            officer = self.officer_form.profile() if self.officer_form else None
        except SmkiError as exc:
            self.services.status(exc.message)
            return
        def work() -> None:
            ctx = self.services.ctx
            if party is not None:
                party_service.set_party(ctx, party)
            if officer is not None:
                party_service.set_officer(ctx, officer)

        def done(_: object) -> None:
            self.services.status("Profile saved.")
            if self.services.ctx.env is Environment.TEST:
                self.stack.setCurrentWidget(self.walk_page)
            else:
                self.accept()

        PageOp(self, self.services, work, name="Save profile").busy(self.save_button) \
            .changes("profile").error_title("Could not save the profile").success(done).run()

    # -- page 2 (Test): the walk to a first accepted certificate -----------------------------
    def _walk_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lead = QLabel(
            "Now make a first Test certificate, the way you will make a Live one: a key, its "
            "request, the portal, the certificate checked and accepted. It takes a minute, "
            "and ends by signing a sample ADT file.")
        lead.setWordWrap(True)
        lay.addWidget(lead)
        box = QGroupBox("Your first Test certificate")
        bl = QVBoxLayout(box)
        self.step_labels: dict[str, QLabel] = {}
        for name, title in walk_service.STEPS:
            label = QLabel(f"{PENDING}  {title}")
            label.setObjectName(f"step-{name}")
            label.setWordWrap(True)
            self.step_labels[name] = label
            bl.addWidget(label)
        lay.addWidget(box)
        self.walk_result = QLabel("")
        self.walk_result.setObjectName("walkResult")
        self.walk_result.setWordWrap(True)
        lay.addWidget(self.walk_result)
        lay.addStretch(1)
        buttons = QDialogButtonBox()
        self.walk_button = QPushButton("&Start")
        self.walk_button.setDefault(True)
        self.walk_button.clicked.connect(self.start_walk)
        buttons.addButton(self.walk_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = QPushButton("&Later")
        self.close_button.clicked.connect(self.accept)
        buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)
        lay.addWidget(buttons)
        return page

    def start_walk(self) -> None:
        self.walking = True
        self.walk_button.setEnabled(False)
        self.walk_result.setText("")
        self._run(0)

    def _run(self, index: int) -> None:
        if index >= len(walk_service.STEPS):
            self._finished()
            return
        name, title = walk_service.STEPS[index]
        self.step_labels[name].setText(f"{RUNNING}  {title}")
        # a step stopped by the officer (a PIN not given) stops the walk as a failure does
        PageOp(self, self.services, walk_service.run_step, self.services.ctx, name, self.walk,
               name=f"First run: {title}") \
            .changes("keys", "requests", "certificates", "adt", "settings") \
            .success(lambda result: self._step_done(index, str(result))) \
            .failure(lambda _text, exc: self._step_failed(index, exc)) \
            .cancelled(lambda exc: self._step_failed(index, exc)).run()

    def _step_done(self, index: int, result: str) -> None:
        name, title = walk_service.STEPS[index]
        self.step_labels[name].setText(f"{DONE}  {title}: {result}")
        self._run(index + 1)

    def _step_failed(self, index: int, exc: BaseException) -> None:
        name, title = walk_service.STEPS[index]
        message = getattr(exc, "message", None) or str(exc)
        self.step_labels[name].setText(f"{FAILED}  {title}: {message}")
        self.walk_result.setText("Stopped. Fix what it says, then press Try again: the steps "
                                 "already done are not repeated.")
        self.walk_button.setText("&Try again")
        self.walk_button.setEnabled(True)
        self.walking = False

    def _finished(self) -> None:
        self.walking = False
        w = self.walk
        self.walk_result.setText(
            f"Done. Certificate {w.certificate_serial} is accepted (Certificates page); the "
            f"sample ADT file {w.sample_adt} is signed ({w.sample_signature}). In Live the "
            "same steps go to the DCC.")
        self.walk_button.setText("&Run again")
        self.walk_button.setEnabled(True)
        self.close_button.setText("&Finish")
        self.services.status("First Test certificate accepted.")
