"""Dashboard: who this installation acts for, who is using it, and what is not set up yet."""

from __future__ import annotations

import html
import importlib
from typing import TYPE_CHECKING, Any

from smki_desktop.gui.hints import gui_hint
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.widgets.expiry import ExpiryWidget
from smki_desktop.services import party as party_service
from smki_desktop.services.dashboard import Facts, dashboard_facts
from smki_desktop.services.standing import officer_standing

READINESS_DELAY_MS = 50  # after the window's first paint
KEYRING_CHECK_DELAY_MS = 1000

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices


def register_summary(ctx: Any) -> tuple[str, str, list[tuple[str, str]]]:
    """What the officer register (not the profile) says about this workstation's user, the
    revocation summary, and what is missing beyond the profiles and keys (an active register
    entry, a file-signing credential, the Live portal). A job (no Qt): it imports the
    register's modules off the GUI thread."""
    from smki_desktop.services import certificates as certs
    from smki_desktop.services import officers
    from smki_desktop.services import revocation_state as rstate
    from smki_desktop.services.setup_gaps import working_gaps

    linked = officers.profile_officer(ctx)
    standing = officer_standing(ctx.officer(), linked)
    revoked = len(certs.list_certificates(ctx, status="revoked"))
    summary = (f"Revocation: {revoked} certificate(s) revoked; {rstate.waiting_count(ctx)} "
               "request(s) waiting for an SRO's approval.")
    return standing, summary, working_gaps(ctx)


class Page(QWidget):
    title = "Dashboard"
    order = 0
    shows = frozenset({"keys", "certificates", "requests", "approvals", "officers", "profile",
                       "devices", "incidents"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.party_box = QGroupBox("Organisation (Party profile)")
        self.party_label = QLabel()
        self.party_label.setWordWrap(True)
        pl = QVBoxLayout(self.party_box)
        pl.addWidget(self.party_label)
        self.edit_party = QPushButton("Edit Party profile…")
        self.edit_party.clicked.connect(lambda: self._edit(party=True))
        pl.addWidget(self.edit_party)
        row.addWidget(self.party_box, 1)
        self.officer_box = QGroupBox("You (local officer profile)")
        self.officer_label = QLabel()
        self.officer_label.setWordWrap(True)
        ol = QVBoxLayout(self.officer_box)
        ol.addWidget(self.officer_label)
        self.register_label = QLabel()  # the register's say, not the profile's
        self.register_label.setObjectName("registerStanding")
        self.register_label.setWordWrap(True)
        ol.addWidget(self.register_label)
        self.edit_officer = QPushButton("Edit your profile…")
        self.edit_officer.clicked.connect(lambda: self._edit(party=False))
        ol.addWidget(self.edit_officer)
        row.addWidget(self.officer_box, 1)
        lay.addLayout(row)
        self.todo_box = QGroupBox("Not set up yet")
        self.todo_label = QLabel()
        self.todo_label.setObjectName("setupTodo")
        self.todo_label.setWordWrap(True)
        QVBoxLayout(self.todo_box).addWidget(self.todo_label)
        lay.addWidget(self.todo_box)
        self.expiry = ExpiryWidget(services)
        lay.addWidget(self.expiry)
        self.revocation_label = QLabel()  # issue 11: revoked certificates, waiting approvals
        self.revocation_label.setObjectName("revocationSummary")
        self.revocation_label.setWordWrap(True)
        lay.addWidget(self.revocation_label)
        self.readiness: QWidget | None = None
        self._layout = lay
        lay.addStretch(1)
        self.keyring_problem: str | None = None
        self._register_due = False  # the register summary's job starts once the window is up
        self.facts: Facts | None = None
        # what the register, credentials and portal lack (None until read): the summary claims
        # nothing is missing only once these are known
        self.gaps: list[tuple[str, str]] | None = None
        self.read = BackgroundRead(self, services, dashboard_facts, services.ctx,
                                   name="Dashboard", show=self._show_facts)
        self.refresh()
        QTimer.singleShot(READINESS_DELAY_MS, self, self._start_register_summary)
        # The readiness checklist pulls in the officer register's modules: import those (no Qt
        # in them) on the job runner once the window is up (a thread importing while the
        # window is built competes with it for the interpreter), then build the checklist's
        # widgets here on the GUI thread, the only thread that touches Qt.
        QTimer.singleShot(READINESS_DELAY_MS, self, self.load_readiness)
        # whether the OS keyring can hold keys: a D-Bus round trip (and `keyring`'s imports), so
        # on the job runner, once start-up work is done
        QTimer.singleShot(KEYRING_CHECK_DELAY_MS, self, self.check_keyring)

    def load_readiness(self) -> None:
        PageOp(self, self.services, importlib.import_module, "smki_desktop.services.readiness",
               name="Readiness checklist").background().success(self._add_readiness).run()

    def check_keyring(self) -> None:
        PageOp(self, self.services, party_service.keyring_problem, self.services.ctx,
               name="Keyring check").background().success(self._keyring_checked).run()

    def _keyring_checked(self, problem: str | None) -> None:
        self.keyring_problem = problem
        if self.facts is not None:
            self._show_facts(self.facts)

    def _add_readiness(self, _service: Any) -> None:
        from smki_desktop.gui.widgets.readiness import ReadinessWidget

        self.readiness = ReadinessWidget(self.services)
        self._layout.insertWidget(self._layout.count() - 1, self.readiness)
        self.readiness.show()  # a child added to a shown parent is not shown by itself

    def refresh(self) -> None:
        """Read everything again on the job runner; the boxes fill in as the reads end."""
        self.read.run()
        if self._register_due:
            self._submit_register_summary()
        if hasattr(self, "expiry"):
            self.expiry.refresh()
        refresh = getattr(self.readiness, "refresh", None)
        if callable(refresh):
            refresh()

    def prefill(self, facts: Facts) -> None:
        """What the window's opening job read with the context: shown at once (the page's
        own reads, already asked, show the same or newer)."""
        if self.facts is None:
            self._show_facts(facts)

    def _show_facts(self, facts: Facts) -> None:
        self.facts = facts
        party, officer = facts.party, facts.officer
        if party:
            ranges = "<br>".join(html.escape(str(r)) for r in party.eui_ranges)
            self.party_label.setText(
                f"<b>{html.escape(party.name)}</b><br>Party ID {html.escape(party.party_id)} · "
                f"{html.escape(party.party_type.label)}<br>EUI-64 ranges:<br>{ranges}"
                + (f"<br>Signifier: {html.escape(party.signifier)}" if party.signifier else ""))
        else:
            self.party_label.setText("<i>No Party profile yet.</i>")
        self.officer_label.setText(
            f"<b>{html.escape(officer.name)}</b>"  # the role: the register's line below
            + (f"<br>{html.escape(officer.email)}" if officer.email else "")
            if officer else "<i>No officer profile yet: audit records will say 'unknown'.</i>")
        todo = [f"{text}: {gui_hint(hint)}" if gui_hint(hint) else text
                for text, hint in [*facts.todo, *(self.gaps or [])]]
        if self.keyring_problem:
            todo.insert(0, self.keyring_problem)
        self.todo_box.setTitle("Not set up yet" if todo else "Set-up")
        if todo:
            self.todo_label.setText(
                "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in todo) + "</ul>")
        elif self.gaps is None:
            self.todo_label.setText("Profiles and keys are set up; checking the officer "
                                    "register, your credential and the portal…")
        else:
            self.todo_label.setText(
                "Everything basic is in place: profiles, keys, your active register entry and "
                f"file-signing credential. {facts.n_keys} key(s) in this environment.")

    def _start_register_summary(self) -> None:
        """The register and revocation summary load the register's modules (X.509): on the job
        runner, after the first paint, like the readiness checklist."""
        self._register_due = True
        self._submit_register_summary()

    def _submit_register_summary(self) -> None:
        # a register that cannot be read is not the Dashboard's error: the lines stay empty
        PageOp(self, self.services, register_summary, self.services.ctx,
               name="Register summary").background().success(self._show_register) \
            .failure(lambda _text, _exc: self._show_gaps([(
                "Whether you are an active officer with a credential could not be read (the "
                "officer register did not answer)", "")])).run()

    def _show_register(self, texts: tuple[str, str, list[tuple[str, str]]]) -> None:
        standing, summary, gaps = texts
        self.register_label.setText(standing)
        self.revocation_label.setText(summary)
        self._show_gaps(gaps)

    def _show_gaps(self, gaps: list[tuple[str, str]]) -> None:
        self.gaps = gaps
        if self.facts is not None:
            self._show_facts(self.facts)

    def _edit(self, party: bool) -> None:
        """The profile dialog, opened once the profiles are read (on the job runner)."""
        from smki_desktop.gui.first_run import read_profiles

        PageOp(self, self.services, read_profiles, self.services.ctx, name="Profiles") \
            .success(lambda profiles: self._open_edit(party, profiles)).run()

    def _open_edit(self, party: bool, profiles: Any) -> None:
        from smki_desktop.gui.first_run import FirstRunDialog

        dlg = FirstRunDialog(self.services, self, show_party=party, show_officer=not party,
                             profiles=profiles)
        dlg.setWindowTitle("Party profile" if party else "Your officer profile")
        dlg.accepted.connect(self.refresh)
        dlg.accepted.connect(self.services.window.refresh_status)  # the officer in the status bar
        dlg.open()
