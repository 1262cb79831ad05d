"""Incidents: suspected key compromises and their Method 1 recovery. Record one, the SRO's
signed confirmation, re-key in one step (replacement keys and CSRs, a revocation request for the
old certificates that then waits in Approvals), the checklist and history, and closing once the
checklist is complete. Each irreversible step shows a summary first."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.gui.accessibility import spoken
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import select_on_focus
from smki_desktop.gui.widgets.confirm import open_confirmation
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.gui.widgets.dual_control import ActorPicker, ConfirmDialog
from smki_desktop.gui.widgets.field_check import FieldCheck
from smki_desktop.services import identity, incidents

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

COLUMNS = ["Incident", "State", "Reported by", "Suspected at", "Certificates", "Next step"]


class OpenDialog(QDialog):
    """A suspected compromise: when, who reported it, what, and the certificates or keys. OK
    runs the service's own check of these fields: an error is shown under the field it names,
    with focus there, and the dialog stays open with what was typed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record a suspected key compromise")
        # the title and the placeholders shown whole on a 1024x700 screen
        self.setMinimumWidth(500)
        form = QFormLayout(self)
        self.when = QLineEdit()
        self.when.setPlaceholderText("2026-12-03T22:10:00Z")
        self.reported_by = QLineEdit()
        self.description = QLineEdit()
        self.certs = QLineEdit()
        self.certs.setPlaceholderText("certificate serials, comma-separated")
        self.keys = QLineEdit()
        self.keys.setPlaceholderText("key ids (8+ hex digits), comma-separated")
        self.fields = FieldCheck()
        hints = {self.when: ("field.when",), self.reported_by: ("field.reported-by",),
                 self.certs: ("field.incident-subject",)}
        for label, w in (("&Suspected at", self.when), ("&Reported by", self.reported_by),
                         ("&Description", self.description), ("Cer&tificates", self.certs),
                         ("&Keys", self.keys)):
            w.setAccessibleName(spoken(label))
            form.addRow(label, w)
            if w in hints:
                form.addRow("", self.fields.label(w, *hints[w]))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def accept(self) -> None:
        if self.fields.passes(lambda: incidents.check_report(
                suspected_at=self.when.text(), reported_by=self.reported_by.text(),
                keys=_split(self.keys.text()), certificates=_split(self.certs.text()))):
            super().accept()


# shown in the details pane while nothing is selected (a placeholder would show one line)
EMPTY = ("No incidents recorded. When a key or certificate may be compromised, press Record "
         "incident…; an SRO confirms it, then re-keying makes replacement CSRs and the "
         "revocation request.")
SELECT = "Select an incident to see its certificates, checklist and history."


def _split(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def incident_html(v: incidents.IncidentView) -> str:
    e = html.escape
    d = v.row.data
    certs = "".join(f"<li>{e(str(c['serial']))} — role {e(str(c['role']))}, EUI "
                    f"{e(str(c['eui']))}, {e(str(c['usage']))}</li>"
                    for c in d.get("certificates", []))
    checks = "".join(f"<li>{'☑' if i.done else '☐'} {e(i.text)}</li>" for i in v.checklist)
    events = "".join(f"<li>{e(ev.at)} {e(ev.action)} {e(ev.actor)}</li>" for ev in v.events)
    return (f"<h3>{e(v.incident_id)} — {e(v.row.state)}</h3><p>{e(str(d.get('description')))}"
            f"</p><p><b>Affected certificates</b></p><ul>{certs}</ul><p><b>Checklist</b></p>"
            f"<ul>{checks}</ul><p><b>History</b></p><ul>{events}</ul>")


def next_step(v: incidents.IncidentView) -> str:
    todo = next((i for i in v.checklist if not i.done), None)
    return "close" if todo is None and v.row.state != "closed" else (
        todo.code if todo else "-")


def read_incidents(ctx: AppContext) -> tuple[list[Any], list[Any]]:
    """Who could sign here, and the incidents (a job: no Qt here)."""
    return identity.signing_choices(ctx), list(incidents.list_incidents(ctx))


class Page(QWidget):
    title = "Incidents"
    order = 62
    shows = frozenset({"incidents"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.views: list[incidents.IncidentView] = []
        self.dialog: Any = None
        self.actor = ActorPicker()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self.show_details)
        self.details = QTextEdit()
        self.details.setAccessibleName("Incident details")
        self.details.setReadOnly(True)
        wire_row_actions(self.table, self.row_actions, self.details.setFocus)
        row = QHBoxLayout()
        self.open_button = QPushButton("&Record incident…")
        self.outcome = QComboBox()
        self.outcome.addItem("compromise confirmed", "confirmed")
        self.outcome.addItem("not compromised", "not-compromised")
        self.outcome.setAccessibleName("SRO's finding")
        self.confirm_button = QPushButton("SRO &confirmation…")
        self.rekey_button = QPushButton("Re-&key and request revocation…")
        self.close_button = QPushButton("C&lose incident")
        self.open_button.clicked.connect(self.open_incident)
        self.confirm_button.clicked.connect(self.confirm)
        self.rekey_button.clicked.connect(lambda: self.rekey())
        self.close_button.clicked.connect(self.close_incident)
        # two rows: recording, then the steps on the selected incident (one row would make
        # the page wider than a laptop screen)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addStretch(1)
        for w in (self.outcome, self.confirm_button, self.rekey_button, self.close_button):
            row.addWidget(w)
        row.addStretch(1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        box = QVBoxLayout(self)
        box.addWidget(self.actor)
        box.addLayout(top)
        box.addLayout(row)
        box.addWidget(split, 1)
        box.addWidget(self.message)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def _update_buttons(self) -> None:
        """The incident actions need a selected incident that is not closed (they did
        nothing, silently, without one)."""
        v = self.selected()
        open_ = v is not None and v.row.state != "closed"
        for b in (self.confirm_button, self.rekey_button, self.close_button):
            b.setEnabled(open_)

    def row_actions(self) -> list[tuple[str, Any]]:
        v = self.selected()
        if v is None:
            return []
        acts: list[tuple[str, Any]] = [("Show details", self.details.setFocus)]
        if v.row.state != "closed":
            acts += [("SRO confirmation…", self.confirm),
                     ("Re-key and request revocation…", lambda: self.rekey()),
                     ("Close incident", self.close_incident)]
        return acts

    def refresh(self) -> None:
        """Read on the job runner; the table is filled when the read returns."""
        BackgroundRead.kept(
            self, "reader", self.services, read_incidents, self.services.ctx, name="Incidents",
            show=self.show_read, failed=lambda text, _exc: self.message.setText(text),
            loading=self.message).run()

    def show_read(self, read: tuple[list[Any], list[Any]]) -> None:
        choices, self.views = read
        self.actor.set_choices(choices)
        keep = self.selected()
        self.table.setRowCount(len(self.views))
        for i, v in enumerate(self.views):
            d = v.row.data
            for j, text in enumerate([v.incident_id, v.row.state, str(d.get("reported_by")),
                                      str(d.get("suspected_at"))[:16],
                                      str(len(d.get("certificates", []))), next_step(v)]):
                self.table.setItem(i, j, QTableWidgetItem(text))
        if keep is not None:
            self.select(keep.incident_id)
        self.show_details()
        self._update_buttons()

    def select(self, incident_id: str) -> None:
        for i, v in enumerate(self.views):
            if v.incident_id == incident_id:
                self.table.selectRow(i)
                self.show_details()
                return

    def selected(self) -> incidents.IncidentView | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.views[min(rows)] if rows and min(rows) < len(self.views) else None

    def show_details(self) -> None:
        v = self.selected()
        self.details.setHtml(incident_html(v) if v else "<p style='color:gray'>"
                             f"{html.escape(SELECT if self.views else EMPTY)}</p>")

    def _run(self, fn: Any, *args: Any, done: str, **kwargs: Any) -> None:
        def ok(res: Any) -> None:
            self.message.setText(done)
            self.refresh()
            if isinstance(res, incidents.IncidentView):
                self.select(res.incident_id)

        PageOp(self, self.services, fn, self.services.ctx, *args, name=fn.__name__, **kwargs) \
            .changes("incidents").success(ok) \
            .failure(lambda text, _exc: self.message.setText(text)).run()

    def _actor(self) -> tuple[str | None, str | None]:
        c = self.actor.selected()
        return (c.officer_id, c.key_id) if c else (None, None)

    def open_incident(self) -> None:
        dlg = OpenDialog(self)
        self.dialog = dlg

        def go() -> None:
            self._run(incidents.open_incident, suspected_at=dlg.when.text(),
                      reported_by=dlg.reported_by.text(), description=dlg.description.text(),
                      keys=_split(dlg.keys.text()), certificates=_split(dlg.certs.text()),
                      done="Incident recorded; an SRO confirms it next.")

        dlg.accepted.connect(go)
        dlg.open()

    def confirm(self) -> None:
        v = self.selected()
        if v is None:
            return
        who, key = self._actor()
        self._run(incidents.confirm, v.incident_id, outcome=self.outcome.currentData(),
                  as_ref=who, key_ref=key, done=f"{v.incident_id}: confirmation signed by {who}.")

    def rekey(self, folder: str | None = None) -> None:
        v = self.selected()
        if v is None:
            return
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Folder for the replacement CSRs")
            if not folder:
                return
        who, key = self._actor()
        n = len(v.row.data.get("certificates", []))
        summary = (f"<p>Re-key <b>{html.escape(v.incident_id)}</b>: make {n} new key(s) and "
                   f"replacement CSR(s) in {html.escape(folder)}, and file a signed request to "
                   f"<b>revoke</b> the {n} old certificate(s) as {html.escape(str(who))} (an SRO "
                   "must approve it). New keys cannot be unmade.</p>")
        dlg = ConfirmDialog(f"Re-key {v.incident_id}", summary, "&Re-key",
                            self.services.ctx.env, v.incident_id, self)
        self.dialog = dlg
        open_confirmation(self, dlg, lambda: self._run(
            incidents.rekey, v.incident_id, as_ref=who, key_ref=key, out_dir=Path(folder),
            done=f"{v.incident_id}: replacement CSRs made; the revocation request waits in "
                 "Approvals."),
            cancelled=lambda: self.message.setText(
                f"{v.incident_id}: re-key cancelled; nothing was made or signed."))

    def close_incident(self) -> None:
        v = self.selected()
        if v is not None:
            self._run(incidents.close, v.incident_id, done=f"{v.incident_id} closed.")
