"""Settings > Team store: link this workstation to a shared PostgreSQL team store, initialise
it for this environment, see its state, disconnect. The same service calls as `smki team`; all
of it runs as background jobs (network, keyring). The password field is handed to the service,
which keeps it in the OS keyring; the window opens the store it is linked to at the next start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.team_url import example_url
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.services import team as team_svc

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

RESTART = "Restart SMKI Desktop to work on the store it is now linked to."


def describe(st: team_svc.TeamStatus) -> str:
    if not st.connected:
        return "Not connected: this workstation uses its own database."
    how = "TLS, server verified" if st.tls else "on this machine"
    if not st.reachable:
        return f"{st.where} ({how}) — UNREACHABLE: {st.error}"
    if not st.initialised:
        return f"{st.where} ({how}) — reachable, not initialised yet."
    party = f", Party {st.party_id}" if st.party_id else ""
    return f"{st.where} ({how}) — initialised for {st.environment}{party}."


class Section(QWidget):
    title = "Team store"
    order = 90

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        box = QVBoxLayout(self)
        intro = QLabel("Officers on several workstations can share one PostgreSQL team store. "
                       "Private keys and their wrapping keys always stay on this workstation.")
        intro.setWordWrap(True)
        box.addWidget(intro)
        form = QFormLayout()
        self.state = QLabel("Checking…")
        self.state.setWordWrap(True)
        form.addRow("State", self.state)
        self.url = QLineEdit()
        self.url.setPlaceholderText(example_url(services.ctx.env))
        form.addRow("Team store &URL", self.url)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("&Password", self.password)
        box.addLayout(form)
        row = QHBoxLayout()
        self.connect_button = QPushButton("&Connect")
        self.init_button = QPushButton("&Initialise")
        self.disconnect_button = QPushButton("&Disconnect")
        for b, slot in ((self.connect_button, self.connect_store),
                        (self.init_button, self.init_store),
                        (self.disconnect_button, self.disconnect_store)):
            b.clicked.connect(slot)
            row.addWidget(b)
        row.addStretch(1)
        box.addLayout(row)
        moves = QHBoxLayout()
        self.migrate_button = QPushButton("Cop&y this workstation's data in")
        self.migrate_button.setToolTip("Copy this workstation's own database into the team "
                                       "store, which must be initialised and empty")
        self.export_button = QPushButton("E&xport a copy…")
        self.export_button.setToolTip("Write a local SQLite copy of the team store")
        self.migrate_button.clicked.connect(self.migrate_in)
        self.export_button.clicked.connect(self.choose_export)
        moves.addWidget(self.migrate_button)
        moves.addWidget(self.export_button)
        moves.addStretch(1)
        box.addLayout(moves)
        self.message = QLabel()
        self.message.setWordWrap(True)
        box.addWidget(self.message)
        box.addStretch(1)
        self.refresh()

    def _root(self) -> Any:
        return self.services.ctx.paths.root

    def _busy(self, text: str) -> None:
        for b in (self.connect_button, self.init_button, self.disconnect_button,
                  self.migrate_button, self.export_button):
            b.setEnabled(False)
        self.message.setText(text)

    def _show(self, st: team_svc.TeamStatus, message: str = "") -> None:
        self.state.setText(describe(st))
        self.connect_button.setEnabled(not st.connected)
        self.init_button.setEnabled(st.connected and st.reachable and not st.initialised)
        self.disconnect_button.setEnabled(st.connected)
        ready = st.connected and st.reachable and st.initialised
        self.migrate_button.setEnabled(ready)
        self.export_button.setEnabled(ready)
        if message:
            self.message.setText(message)

    def _op(self, fn: Any, *args: Any, name: str, done: Any, failed_title: str,
            **kwargs: Any) -> None:
        """Run a team-store call; a failure (or a stop) is said in a box, then the state is
        read afresh so that the buttons match what is true."""
        def failed(_text: str, exc: BaseException) -> None:
            self.message.setText("")
            self.refresh()
            self.services.error(failed_title, exc)

        def stopped(_exc: BaseException) -> None:
            self.message.setText("")
            self.refresh()

        PageOp(self, self.services, fn, *args, name=name, **kwargs).changes("settings") \
            .success(done).failure(failed).cancelled(stopped).run()

    def refresh(self) -> None:
        def failed(_text: str, exc: BaseException) -> None:
            self.message.setText("")
            self.services.error("Team store state not read", exc)

        PageOp(self, self.services, team_svc.status, self.services.ctx.env, self._root(),
               name="Read the team store state").background().success(self._show) \
            .failure(failed).run()

    def connect_store(self) -> None:
        url, password = self.url.text().strip(), self.password.text() or None
        if not url:  # said here, in words: not "'' is not a PostgreSQL address"
            self.message.setText("Enter the team store's URL, for example "
                                 + example_url(self.services.ctx.env) + ".")
            self.url.setFocus()
            return

        def connected(st: team_svc.TeamStatus) -> None:
            # the password is kept in the field until it worked (a failure is corrected
            # without typing it again), then cleared; it is never written anywhere
            self.password.clear()
            self._show(st, "Connected. " + RESTART if st.initialised
                       else "Connected; initialise it.")

        self._busy("Connecting…")
        self._op(team_svc.connect, self.services.ctx, url, password,
                 name="Connect to the team store", failed_title="Not connected",
                 done=connected)

    def init_store(self) -> None:
        self._busy("Initialising…")
        self._op(team_svc.init, self.services.ctx.env, self._root(),
                 name="Initialise the team store", failed_title="Team store not initialised",
                 done=lambda st: self._show(st, "Initialised. " + RESTART))

    def disconnect_store(self) -> None:
        self._busy("Disconnecting…")
        self._op(team_svc.disconnect, self.services.ctx.env, self._root(),
                 name="Disconnect from the team store", failed_title="Not disconnected",
                 done=lambda st: self._show(st, "Disconnected. " + RESTART))

    def migrate_in(self) -> None:
        self._busy("Copying this workstation's data into the team store…")
        self._op(team_svc.migrate_from_local, self.services.ctx.env, self._root(),
                 name="Copy this workstation's data into the team store",
                 failed_title="Nothing copied",
                 done=lambda r: self._moved(f"Copied {r.rows} rows in {len(r.tables)} tables "
                                            f"into {r.store}. " + RESTART))

    def choose_export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export a copy of the team store",
                                              "team-store.sqlite3", "SQLite (*.sqlite3 *.db)")
        if name:
            # the dialog asked before replacing an existing file
            self.export_to(Path(name), overwrite=True)

    def export_to(self, out: Path, *, overwrite: bool = False) -> None:
        self._busy("Writing a copy of the team store…")
        self._op(team_svc.export, self.services.ctx.env, out, self._root(),
                 overwrite=overwrite, name="Export a copy of the team store",
                 failed_title="No copy written",
                 done=lambda r: self._moved(f"Wrote {r.rows} rows in {len(r.tables)} tables "
                                            f"to {r.out}."))

    def _moved(self, text: str) -> None:
        self.message.setText(text)
        self.refresh()
