"""Settings > Portal: this environment's DCC endpoint and pinned trust anchor, its credentials
(web-service client, file-signing), and in Test the embedded simulator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.widgets.outcome import OutcomeLine
from smki_desktop.services import (
    credential_vouch,
    credentials,
    officers,
    portal_endpoint,
    simulator_control,
)
from smki_desktop.services import portal as portal_service

if TYPE_CHECKING:
    from smki_desktop.core.officers import Officer
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext


@dataclass(frozen=True)
class PortalSettings:
    """What the section shows, read on the job runner."""

    endpoint: Any
    warning: str
    deadline: float
    adhoc_path: str
    credentials: list[str]
    simulator: Any


def read_portal_settings(ctx: AppContext) -> PortalSettings:
    """The endpoint, options, credentials and the Test simulator's state (a job: no Qt)."""
    rec = portal_service.configured_endpoint(ctx)
    warning = portal_service.repository_warning(ctx, rec) if rec is not None else ""
    if rec is not None and rec.source == "configured":
        # a rewritten endpoint is shown with why it is refused, not as if in use
        refused = portal_endpoint.endpoint_problem(ctx, rec)
        warning = "\n".join(w for w in (refused, warning) if w)
    now = ctx.clock.now()
    lines = []
    holders = {cr.key_id: o for o in officers.list_officers(ctx) for cr in o.credentials}
    for c in credentials.list_credentials(ctx):
        why = credential_vouch.listing_problem(ctx, c)
        lines.append(f"{c.purpose} — {_holder(holders.get(c.key_id), c.purpose)}: "
                     f"serial {c.serial}, key {c.key_id[:16]}, until "
                     f"{c.not_after:%Y-%m-%d}{'' if c.valid_at(now) else ' (not valid now)'}"
                     + (f" — REFUSED: {why}" if why else ""))
    sim = simulator_control.running(ctx) if ctx.env is Environment.TEST else None
    return PortalSettings(rec, warning or "", float(portal_service.deadline(ctx)),
                          str(portal_service.adhoc_path(ctx)), lines, sim)


def _holder(officer: Officer | None, purpose: str) -> str:
    """Whose a credential is: the officer (name, role, register id) whose key it certifies,
    else the organisation's web-service client, else a file-signing key linked to nobody."""
    if officer is not None:
        return f"{officer.name}, {officer.role.label} ({officer.officer_id})"
    if purpose == "web-service":
        return "the organisation"
    return "no officer linked (Officers › Link key…)"


class Section(QWidget):
    title = "Portal"
    order = 40

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.op: PageOp | None = None
        box = QVBoxLayout(self)
        ep = QGroupBox("DCC endpoint")
        form = QFormLayout(ep)
        self.current = QLabel()
        self.current.setWordWrap(True)
        form.addRow("In use", self.current)
        self.portal_url = QLineEdit()
        self.portal_url.setPlaceholderText("https://… (SMKI web services, mutual TLS)")
        self.repo_url = QLineEdit()
        self.repo_url.setPlaceholderText("https://… (SMKI Repository, API key)")
        self.anchor = QLineEdit()
        self.anchor.setPlaceholderText("the DCC's root certificate (PEM or DER)")
        pick = QPushButton("&Choose…")
        pick.setAccessibleName("Choose the trust anchor file")
        pick.clicked.connect(self._pick_anchor)
        row = QHBoxLayout()
        row.addWidget(self.anchor)
        row.addWidget(pick)
        # each label an Alt letter to its field, each once on the tab: clear of the menus (F, H),
        # the Settings tabs (G, R, K, O, E, S) and each other
        form.addRow(buddy("Portal UR&L", self.portal_url), self.portal_url)
        form.addRow(buddy("Repository &URL", self.repo_url), self.repo_url)
        form.addRow(buddy("Trust a&nchor", self.anchor), row)
        self.save_btn = QPushButton("Save endpoint and pin the &trust anchor")
        self.save_btn.clicked.connect(self.save_endpoint)
        form.addRow(self.save_btn)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("the repository API key the DCC gave you")
        key_btn = QPushButton("Store in the ke&yring")
        key_btn.clicked.connect(self.save_api_key)
        krow = QHBoxLayout()
        krow.addWidget(self.api_key)
        krow.addWidget(key_btn)
        form.addRow(buddy("Repository AP&I key", self.api_key), krow)
        self.deadline = QLineEdit()
        self.deadline.setPlaceholderText("seconds (default 60)")
        self.deadline.setToolTip("The longest a call to the DCC may take, retries included.")
        self.adhoc_path = QLineEdit()
        self.adhoc_path.setToolTip("Where the ad hoc Device CSR web service is under the "
                                   "portal URL (the SMKI User Guide gives it).")
        opt_btn = QPushButton("Sa&ve")
        opt_btn.setAccessibleName("Save the web-service options")
        opt_btn.clicked.connect(self.save_options)
        orow = QHBoxLayout()
        orow.addWidget(buddy("C&all deadline (s)", self.deadline))
        orow.addWidget(self.deadline)
        orow.addWidget(buddy("A&d hoc path", self.adhoc_path))
        orow.addWidget(self.adhoc_path, 2)
        orow.addWidget(opt_btn)
        form.addRow("Web services", orow)
        box.addWidget(ep)
        cr = QGroupBox("Credentials")
        cform = QVBoxLayout(cr)
        self.creds = QLabel()
        self.creds.setWordWrap(True)
        cform.addWidget(self.creds)
        self.request_btn = QPushButton("Request the &web-service client credential")
        self.request_btn.clicked.connect(self.request_web_service)
        cform.addWidget(self.request_btn)
        self.signing_btn = QPushButton("Re&quest a file-signing credential")
        self.signing_btn.setToolTip("The credential that signs ADT files and offline request "
                                    "bundles; it names you (the officer profile).")
        self.signing_btn.clicked.connect(self.request_file_signing)
        cform.addWidget(self.signing_btn)
        box.addWidget(cr)
        self.sim_box = QGroupBox("Simulator (Test)")
        sform = QHBoxLayout(self.sim_box)
        self.sim_state = QLabel()
        self.sim_start = QPushButton("Start the si&mulator")
        self.sim_stop = QPushButton("Sto&p")
        self.sim_stop.setAccessibleName("Stop the simulator")
        sform.addWidget(self.sim_state, 1)
        sform.addWidget(self.sim_start)
        sform.addWidget(self.sim_stop)
        self.sim_start.clicked.connect(lambda: self._run(simulator_control.start, "Starting"))
        self.sim_stop.clicked.connect(lambda: self._run(simulator_control.stop, "Stopping"))
        box.addWidget(self.sim_box)
        self.sim_box.setVisible(self.ctx.env is Environment.TEST)
        self.message = OutcomeLine()  # a failure with its icon and tone, never like a success
        box.addWidget(self.message)
        box.addStretch(1)
        self.reader = BackgroundRead(self, services, read_portal_settings, self.ctx,
                                     name="Portal settings", show=self.show_read,
                                     failed=lambda text, _e: self.message.failed(text),
                                     loading=self.message.label)
        self.refresh()

    def refresh(self) -> None:
        """Read on the job runner; the section is filled when the read returns."""
        self.reader.run()

    def show_read(self, read: PortalSettings) -> None:
        rec, warning = read.endpoint, read.warning
        if rec is None:
            self.current.setText("The embedded simulator, started on demand." if
                                 self.ctx.env is Environment.TEST else
                                 "Not configured: set the DCC's endpoint and trust anchor.")
        else:
            self.current.setText(f"{'Simulator' if rec.source == 'simulator' else 'Configured'}"
                                 f": {rec.endpoint.portal_url} / {rec.endpoint.repository_url}"
                                 + (f"\n{warning}" if warning else ""))
        self.deadline.setText(f"{read.deadline:g}")
        self.adhoc_path.setText(read.adhoc_path)
        self.creds.setText("\n".join(read.credentials) or "No credentials yet.")
        if self.ctx.env is Environment.TEST:
            info = read.simulator
            self.sim_state.setText(f"Running on {info.portal_url}" if info else "Not running.")

    def _pick_anchor(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Trust anchor", "",
                                              "Certificates (*.pem *.crt *.cer *.der)")
        if path:
            self.anchor.setText(path)

    def save_endpoint(self) -> None:
        where = self.anchor.text().strip()
        if not where:
            self.message.failed("Trust anchor: choose the DCC's root certificate file "
                                "(PEM or DER) that the portal's TLS certificate chains to.")
            self.anchor.setFocus()
            return
        try:
            data = Path(where).read_bytes()
        except OSError as exc:
            self.message.failed(f"Trust anchor: {where}: {exc.strerror or exc}.")
            self.anchor.setFocus()
            return
        self._run(portal_service.set_endpoint, "Saving", self.portal_url.text().strip(),
                  self.repo_url.text().strip(), data)

    def save_options(self) -> None:
        self._run(_save_options, "Saving the web-service options", self.deadline.text(),
                  self.adhoc_path.text())

    def save_api_key(self) -> None:
        key = self.api_key.text()
        self.api_key.clear()
        self._run(portal_service.set_api_key, "Storing the API key", key)

    def request_web_service(self) -> None:
        self._request("web-service")

    def request_file_signing(self) -> None:
        self._request("file-signing")

    def _request(self, purpose: str) -> None:
        """Request a credential; the names it carries come from the profiles, so say which
        profile is missing rather than let the service name a command-line option."""
        self._run(request_credential, f"Requesting the {purpose} credential", purpose)

    @property
    def job(self) -> PageOp | None:
        """The portal or credential job running, if one is."""
        return self.op if self.op is not None and self.op.running else None

    def _run(self, fn: Any, what: str, *args: Any, **kwargs: Any) -> None:
        self.message.setText(f"{what}…")
        self.op = PageOp(self, self.services, fn, self.ctx, *args, name=what, **kwargs) \
            .changes("settings").success(self._done).failure(self._failed)
        self.op.run()

    def _done(self, result: Any) -> None:
        self.message.ok(done_text(result))
        self.refresh()

    def _failed(self, text: str, _exc: BaseException) -> None:
        self.message.failed(text)
        self.refresh()


def buddy(text: str, field: QWidget) -> QLabel:
    """A label whose Alt letter puts the keyboard in `field`."""
    label = QLabel(text)
    label.setBuddy(field)
    return label


def request_credential(ctx: AppContext, purpose: str) -> Any:
    """The profiles the credential names are checked, then it is requested (a job: the
    profiles are in the store)."""
    if ctx.party() is None:
        raise InputError("Set up the Party profile first (Dashboard > Edit Party profile): "
                         "the credential names your organisation.")
    prof = ctx.officer()
    if purpose == "file-signing" and prof is None:
        raise InputError("Set up your officer profile first (Settings > Profiles): the "
                         "file-signing credential names you.")
    # a file-signing credential names the register entry the profile is linked to
    officer = prof.register_id if purpose == "file-signing" and prof else None
    return credentials.request_credential(ctx, purpose, officer=officer or None)


def _save_options(ctx: Any, deadline: str, adhoc_path: str) -> None:
    portal_service.set_portal_setting(ctx, portal_service.DEADLINE_SETTING, deadline)
    portal_service.set_portal_setting(ctx, portal_service.ADHOC_PATH_SETTING, adhoc_path)


def done_text(result: Any) -> str:
    """What a finished action left behind, in words (a credential CSR: where it is)."""
    if isinstance(result, credentials.CredentialRequestResult):
        if result.csr_path is not None:
            return (f"The {result.purpose} credential request (CSR) is in {result.csr_path}: "
                    "send it to the DCC, then import the certificate it issues.")
        if result.credential is not None:
            return (f"The {result.purpose} credential was issued: serial "
                    f"{result.credential.serial}.")
    return "Done."
