"""Approvals inbox: revocation requests and their state; the SRO sees exactly what would be
revoked, decoded, and approves or rejects with a reason (signing as an officer of the register
with their linked key); an approved request is submitted to the DCC. A summary comes before
anything irreversible, and in Live a typed confirmation."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QComboBox,
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
from smki_desktop.gui.widgets.dual_control import (
    REASON_TEXT,
    ActorPicker,
    ConfirmDialog,
    reason_text,
)
from smki_desktop.services import identity, officers, revocation
from smki_desktop.services import revocation_state as rstate

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext
    from smki_desktop.services.identity import SigningChoice

COLUMNS = ["Request", "State", "Requested by", "Reason", "Urgency", "Certificates", "Expires"]
# shown in the details pane while nothing is selected (a placeholder would show one line)
EMPTY = ("No revocation requests yet. An ARO files one on the Certificates page (select a "
         "certificate, then Revoke…); it then waits here for an SRO's approval.")
SELECT = "Select a request to see exactly what it would revoke."


def officer_text(officer_id: object, names: dict[str, str]) -> str:
    """An officer as people know them, with the register id: "Bob Aro (ARO-0001)"."""
    name = names.get(str(officer_id), "")
    return f"{name} ({officer_id})" if name else str(officer_id)


def request_html(v: rstate.RequestView, decoded: list[dict[str, Any]],
                 names: dict[str, str] | None = None) -> str:
    """The request as the approver reads it (a serial, EUI or issuer never wrapped mid-way)."""
    e = html.escape
    b = v.body
    names = names or {}
    keep = "<td style='white-space:nowrap'>"
    rows = "".join(
        f"<tr>{keep}{e(str(c['serial']))}</td>{keep}{e(c['role'])}</td>"
        f"{keep}{e(str(c['eui']))}</td>{keep}{e(str(c['usage']))}</td>"
        f"{keep}{e(str(c['issuer']))}</td><td>{e(c['depends'])}</td></tr>" for c in decoded)
    approvals = ", ".join(f"{officer_text(s.officer_id, names)} at {s.signed_at}"
                          for s in v.approvals()) or "none"
    rej = v.rejection()
    out = (f"<h3>{e(v.request_id)} — {e(v.state)}</h3>"
           f"<p><b>Revoke {len(decoded)} certificate{'s' if len(decoded) != 1 else ''}</b> "
           f"({e(str(b.get('environment')).title())} environment). This cannot be undone.</p>"
           "<table border='1' cellspacing='0' cellpadding='3'><tr>"
           + "".join(f"<th style='white-space:nowrap'>{h}</th>" for h in
                     ("Serial", "Role", "EUI", "Usage", "Issuer", "In this store")) + "</tr>"
           f"{rows}</table>"
           f"<p><b>Reason:</b> {e(reason_text(str(b.get('reason'))))} &nbsp; <b>Urgency:</b> "
           f"{e(str(b.get('urgency')))}<br><b>Justification:</b> "
           f"{e(str(b.get('justification')))}<br><b>Requested by:</b> "
           f"{e(officer_text(b.get('requested_by'), names))} at {e(str(b.get('created')))}<br>"
           f"<b>Expires:</b> {e(str(b.get('expires')))}<br><b>Approvals:</b> {e(approvals)}")
    if rej is not None:
        out += f"<br><b>Rejected by</b> {e(officer_text(rej.officer_id, names))}"
    if v.row.outcome:
        out += f"<br><b>DCC:</b> {e(v.row.outcome)}"
    for problem in v.problems:  # stored rows whose signatures do not verify: not counted
        out += f"<br><b>Problem:</b> {e(problem)}"
    return out + "</p>"


def read_request_details(ctx: AppContext, want: dict[str, rstate.RequestView]
                         ) -> tuple[rstate.RequestView, list[dict[str, Any]]]:
    """The request asked for and what it would revoke, decoded (a job: no Qt here)."""
    v = want["view"]
    return v, list(rstate.decoded_certificates(ctx, v))


def read_approvals(ctx: AppContext, query: dict[str, str | None]
                   ) -> tuple[list[Any], list[Any], dict[str, str]]:
    """Who could sign here, the revocation requests in the state asked for, and the register's
    names by id (a job)."""
    names = {o.officer_id: o.name for o in officers.list_officers(ctx)}
    return (identity.signing_choices(ctx), list(rstate.list_views(ctx, query.get("state"))),
            names)


def eligible(choices: list[SigningChoice], v: rstate.RequestView | None) -> SigningChoice | None:
    """Who may approve or reject `v`: an SRO who did not request it (the rule the service
    applies after the confirmation), for "Sign as" to offer first."""
    if v is None:
        return None
    requester = str(v.body.get("requested_by"))
    signed = {s.officer_id for s in v.approvals()}
    return next((c for c in choices if c.role.lower() == "sro" and c.officer_id != requester
                 and c.officer_id not in signed), None)


class Page(QWidget):
    title = "Approvals"
    order = 35
    shows = frozenset({"approvals", "requests", "certificates"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.views: list[rstate.RequestView] = []
        self.confirm: ConfirmDialog | None = None
        top = QHBoxLayout()
        self.actor = ActorPicker()
        self.actor.combo.activated.connect(lambda _i: self._chosen_by_officer())
        self.chosen: str | None = None  # the request for which the officer picked "Sign as"
        self.names: dict[str, str] = {}
        top.addWidget(self.actor, 1)
        self.f_state = QComboBox()
        self.f_state.addItem("all states", "")
        for s in ("waiting", "approved", "rejected", "expired", "deferred", "submitted",
                  "revoked"):
            self.f_state.addItem(s, s)
        self.f_state.setAccessibleName("Filter by state")
        self.f_state.currentIndexChanged.connect(self.refresh)
        top.addWidget(self.f_state)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("approvalsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self.show_details)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        self.details = QTextEdit()
        self.details.setAccessibleName("Revocation request details")
        self.details.setReadOnly(True)
        self.details.setObjectName("requestDetails")
        wire_row_actions(self.table, self.row_actions, self.details.setFocus)
        buttons = QHBoxLayout()
        self.approve_button = QPushButton("&Approve (sign)…")
        self.reject_reason = QLineEdit()
        self.reject_reason.setPlaceholderText("reason for rejecting")
        self.reject_reason.setAccessibleName("Reason for rejecting")
        self.reject_button = QPushButton("&Reject…")
        self.submit_button = QPushButton("&Submit to the DCC…")
        self.approve_button.clicked.connect(self.approve)
        self.reject_button.clicked.connect(self.reject)
        self.submit_button.clicked.connect(self.submit)
        for w in (self.approve_button, self.reject_reason, self.reject_button,
                  self.submit_button):
            buttons.addWidget(w)
        self.message = QLabel("")
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setSizes([200, 300])
        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addWidget(split, 1)
        box.addLayout(buttons)
        box.addWidget(self.message)
        self.query: dict[str, str | None] = {}
        self.summary: tuple[rstate.RequestView, str] | None = None  # the shown request's
        self.detail_of: dict[str, rstate.RequestView] = {}
        self.detail_read = BackgroundRead(self, services, read_request_details, services.ctx,
                                          self.detail_of, name="Request details",
                                          show=self._show_request,
                                          failed=lambda text, _e: self.message.setText(text))
        self.reader = BackgroundRead(self, services, read_approvals, services.ctx, self.query,
                                     name="Approvals", show=self.show_read,
                                     failed=lambda text, _exc: self.message.setText(text),
                                     loading=self.message)
        self._update_buttons()

    # -- data ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read on the job runner with the state filter as it is now; shown when it returns."""
        self.query["state"] = self.f_state.currentData() or None
        self.reader.run()

    def show_read(self, read: tuple[list[Any], list[Any], dict[str, str]]) -> None:
        choices, self.views, self.names = read
        self.summary = None  # the names may have changed
        self.actor.set_choices(choices)
        keep = self.selected()
        self.views.sort(key=lambda v: (v.state != "waiting", v.row.created), reverse=False)
        self.table.setRowCount(len(self.views))
        for i, v in enumerate(self.views):
            certs = ", ".join(str(c.get("serial", ""))[-8:] for c in v.body["certificates"])
            for j, text in enumerate([v.request_id, v.state,
                                      officer_text(v.body.get("requested_by"), self.names),
                                      REASON_TEXT.get(str(v.body.get("reason")),
                                                      str(v.body.get("reason"))),
                                      str(v.body.get("urgency")),
                                      certs, str(v.body.get("expires"))[:16]]):
                self.table.setItem(i, j, QTableWidgetItem(text))
        if keep is not None:
            self.select(keep.request_id)
        self.show_details()
        win = self.window()
        badge = getattr(win, "update_badges", None)
        if callable(badge):
            badge()
        self._update_buttons()

    def select(self, request_id: str) -> None:
        for i, v in enumerate(self.views):
            if v.request_id == request_id:
                self.table.selectRow(i)
                self.show_details()
                return

    def selected(self) -> rstate.RequestView | None:
        rows = {i.row() for i in self.table.selectedItems()}
        return self.views[min(rows)] if rows and min(rows) < len(self.views) else None

    def show_details(self) -> None:
        """The selected request, with what it would revoke read on the job runner."""
        v = self.selected()
        if v is None:
            self.details.setHtml("<p style='color:gray'>"
                                 f"{html.escape(SELECT if self.views else EMPTY)}</p>")
        elif self.summary is not None and self.summary[0] is v:
            self.details.setHtml(self.summary[1])
        else:
            self.detail_of["view"] = v
            self.detail_read.run()
        self._default_actor(v)
        self._update_buttons()

    def _chosen_by_officer(self) -> None:
        v = self.selected()
        self.chosen = v.request_id if v is not None else None

    def _default_actor(self, v: rstate.RequestView | None) -> None:
        """"Sign as" offers an officer who may sign the selected request, unless the officer
        picked one for it themselves (their choice stands; the service says why if refused)."""
        if v is None or self.chosen == v.request_id:
            return
        c = eligible(self.actor.choices, v)
        if c is not None:
            self.actor.select(c.officer_id, c.key_id)

    def _show_request(self, read: tuple[rstate.RequestView, list[dict[str, Any]]]) -> None:
        v, certs = read
        if v is not self.selected():
            return  # the selection or the list moved on: its own read follows
        self.summary = (v, request_html(v, certs, self.names))
        self.details.setHtml(self.summary[1])

    def _update_buttons(self) -> None:
        v = self.selected()
        waiting = v is not None and v.state == "waiting"
        self.approve_button.setEnabled(waiting)
        self.reject_button.setEnabled(waiting)
        self.submit_button.setEnabled(v is not None and v.state == "approved")

    def row_actions(self) -> list[tuple[str, Any]]:
        """The right-click menu: the same actions as the buttons, where they apply."""
        v = self.selected()
        if v is None:
            return []
        acts: list[tuple[str, Any]] = [("Show details", self.details.setFocus)]
        if v.state == "waiting":
            acts += [("Approve (sign)…", self.approve), ("Reject…", self.reject)]
        if v.state == "approved":
            acts.append(("Submit to the DCC…", self.submit))
        return acts

    # -- actions --------------------------------------------------------------------------
    def _confirm(self, title: str, action: str, then: Any) -> None:
        v = self.selected()
        if v is None:
            return
        if self.summary is None or self.summary[0] is not v:
            # what it would revoke is read first (on the job runner); asked again after
            self.message.setText("Reading the request…")
            def read(got: tuple[rstate.RequestView, list[dict[str, Any]]]) -> None:
                self._show_request(got)
                self._confirm_read(title, action, then)

            PageOp(self, self.services, read_request_details, self.services.ctx,
                   {"view": v}, name="Request details").background().success(read) \
                .failure(lambda text, _e: self.message.setText(text)).run()
            return
        self._confirm_read(title, action, then)

    def _confirm_read(self, title: str, action: str, then: Any) -> None:
        v = self.selected()
        if v is None or self.summary is None or self.summary[0] is not v:
            return
        if self.message.text() == "Reading the request…":
            self.message.clear()
        summary = self.summary[1]
        dlg = ConfirmDialog(title, summary, action, self.services.ctx.env, v.request_id, self)
        self.confirm = dlg

        def cancelled() -> None:  # an earlier refusal is no longer the news
            self.message.setText(f"{v.request_id}: cancelled; nothing was signed or sent.")

        def closed(_code: int) -> None:
            if self.confirm is dlg:
                self.confirm = None

        dlg.finished.connect(closed)
        open_confirmation(self, dlg, then, cancelled=cancelled)

    def _run(self, fn: Any, *args: Any, done: str, **kwargs: Any) -> None:
        def ok(_res: Any) -> None:
            self.message.setText(done)
            self.refresh()

        def failed(text: str, _exc: BaseException) -> None:
            self.message.setText(text)
            self.refresh()

        PageOp(self, self.services, fn, self.services.ctx, *args, name=fn.__name__, **kwargs) \
            .changes("approvals", "requests", "certificates").success(ok).failure(failed).run()

    def _actor(self) -> tuple[str | None, str | None]:
        c = self.actor.selected()
        return (c.officer_id, c.key_id) if c else (None, None)

    def approve(self) -> None:
        v = self.selected()
        if v is None:
            return
        who, key = self._actor()

        def go() -> None:
            self._run(revocation.approve, v.request_id, as_ref=who, key_ref=key,
                      done=f"{v.request_id}: approved by {who}.")

        self._confirm(f"Approve {v.request_id}: sign as {who}", "&Approve and sign", go)

    def reject(self) -> None:
        v = self.selected()
        if v is None:
            return
        reason = self.reject_reason.text().strip()
        if not reason:
            self.message.setText("Reason for rejecting: say why the request is rejected (the "
                                 "reason is signed).")
            self.reject_reason.setFocus()  # where the officer types it, not the page list
            return
        who, key = self._actor()

        def go() -> None:  # a signed, final rejection: a summary first, like approving
            self._run(revocation.reject, v.request_id, as_ref=who, key_ref=key, reason=reason,
                      done=f"{v.request_id}: rejected by {who}.")

        self._confirm(f"Reject {v.request_id}: sign as {who} — reason: {reason}",
                      "&Reject and sign", go)

    def submit(self) -> None:
        v = self.selected()
        if v is None:
            return

        def go() -> None:
            self._run(revocation.submit, v.request_id,
                      done=f"{v.request_id}: submitted; the DCC revoked the certificates. "
                           "The next portal poll fetches the CRL.")

        self._confirm(f"Submit {v.request_id} to the DCC", "Re&voke at the DCC", go)

