"""Requests page: the Organisation CSRs made here (with "Submit this CSR" and, for the SMKI
Portal, "Show the paste text"), every request in the portal outbox with its state, next action
and errors in plain words; submit a CSR file; send and poll now (in the background)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import SmkiError
from smki_desktop.gui.hints import gui_hint
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QFileDialog,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import select_on_focus
from smki_desktop.gui.texts import SENT_TO, error_text
from smki_desktop.gui.widgets.confirm import ask_confirmation, open_confirmation
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.gui.widgets.dual_control import ActorPicker, ConfirmDialog
from smki_desktop.services import csr_list, identity, org_csr_approval, revocation_state
from smki_desktop.services import portal as portal_service
from smki_desktop.services.portal import OutboxItem

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext
    from smki_desktop.services.identity import SigningChoice

COLUMNS = ["Request", "What", "State", "DCC id / status", "Next action", "Created"]
KIND_WORDS = {"org-csr": "Organisation CSR", "device-batch": "Device CSR batch",
              "device-adhoc": "Ad hoc Device CSR", "revocation": "Revocation"}
CSR_COLUMNS = ["CSR", "Role / EUI", "Usage", "Made", "Submitted", "Key"]
SELECT_CSR_FIRST = "Select an Organisation CSR first."
STATE_WORDS = {"queued": "waiting to be sent", "submitted": "with the DCC",
               "done": "complete", "failed": "refused"}


def read_requests(ctx: AppContext) -> tuple[list[OutboxItem], list[csr_list.OrgCsr]]:
    """The outbox and the Organisation CSRs (a job: no Qt here)."""
    items = list(portal_service.outbox(ctx).items()) + revocation_state.sent_to_dcc(ctx)
    items.sort(key=lambda i: i.created)
    return items, list(csr_list.org_csrs(ctx))


class Page(QWidget):
    title = "Requests"
    order = 30
    shows = frozenset({"requests", "certificates", "keys"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.op: PageOp | None = None
        box = QVBoxLayout(self)
        intro = QLabel("Requests to the DCC are stored here before they are sent and kept until "
                       "the DCC confirms them; a failed send is retried with the same "
                       "reference, so nothing is submitted twice.")
        intro.setWordWrap(True)
        box.addWidget(intro)
        bar = QHBoxLayout()
        self.submit_btn = QPushButton("Submit a CSR f&ile…")
        self.send_btn = QPushButton("&Send now")
        self.poll_btn = QPushButton("&Poll for results")
        self.refresh_btn = QPushButton("&Refresh")
        for b in (self.submit_btn, self.send_btn, self.poll_btn, self.refresh_btn):
            bar.addWidget(b)
        bar.addStretch(1)
        box.addLayout(bar)
        box.addWidget(QLabel("<b>Organisation CSRs made here</b>"))
        csr_bar = QHBoxLayout()
        self.csr_submit_btn = QPushButton("Su&bmit this CSR…")
        self.csr_paste_btn = QPushButton("Show the paste te&xt")
        self.csr_paste_btn.setToolTip("The text to paste into the SMKI Portal's Organisation "
                                      "CSR form")
        # in Live (and in Test when the rule is on) an Organisation CSR is sent only with an
        # active SRO's signed authorisation: the SRO gives it here, on the CSR itself
        self.csr_authorise_btn = QPushButton("SRO: au&thorise this CSR…")
        self.csr_authorise_btn.setToolTip("An active SRO signs the authorisation that lets "
                                          "this Organisation CSR be sent to the DCC")
        for b in (self.csr_submit_btn, self.csr_authorise_btn, self.csr_paste_btn):
            csr_bar.addWidget(b)
        csr_bar.addStretch(1)
        box.addLayout(csr_bar)
        self.csr_table = QTableWidget(0, len(CSR_COLUMNS))
        self.csr_table.setObjectName("orgCsrs")
        self.csr_table.setAccessibleName("Organisation CSRs made here")
        self.csr_table.setHorizontalHeaderLabels(CSR_COLUMNS)
        self.csr_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.csr_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.csr_table)  # Tab into the table selects a row: the buttons follow
        self.csr_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.csr_table.setMaximumHeight(150)
        box.addWidget(self.csr_table)
        self.csrs: list[csr_list.OrgCsr] = []
        self.csr_submit_btn.clicked.connect(self.ask_submit_csr)
        self.csr_paste_btn.clicked.connect(self.show_paste_text)
        self.csr_authorise_btn.clicked.connect(self.ask_authorise_csr)
        self.authorise_dialog: ConfirmDialog | None = None
        self.csr_table.itemSelectionChanged.connect(self._csr_selected)
        wire_row_actions(self.csr_table, self.csr_actions, self.show_paste_text)
        box.addWidget(QLabel("<b>Requests to the DCC</b>"))
        self.summary = QLabel()
        box.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        self.table.horizontalHeader().setSectionResizeMode(
            4, QHeaderView.ResizeMode.Stretch)
        box.addWidget(self.table)
        wire_row_actions(self.table, lambda: [("Show details", self._focus_details)],
                         self._focus_details)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(180)
        self.details.setPlaceholderText("Select a request to see its details.")
        box.addWidget(self.details)
        self.items: list[OutboxItem] = []
        self.table.itemSelectionChanged.connect(self._show_details)
        self.submit_btn.clicked.connect(self._pick_and_submit)
        self.send_btn.clicked.connect(lambda: self._run(portal_service.send_pending, "Sending",
                                                        force=True))
        self.poll_btn.clicked.connect(lambda: self._run(portal_service.poll, "Polling",
                                                        force=True))
        self.refresh_btn.clicked.connect(self.refresh)
        self.timer = QTimer(self)  # states change in the background (other jobs, the CLI)
        self.timer.setInterval(15_000)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.reader = BackgroundRead(self, services, read_requests, self.ctx, name="Requests",
                                     show=self.show_read)
        self.refresh()

    def _tick(self) -> None:
        if self.isVisible() and self.job is None:
            self.refresh()

    # ------------------------------------------------------------------ data
    def refresh(self) -> None:
        """Read on the job runner; the tables are filled when the read returns."""
        self.reader.run()

    def show_read(self, read: tuple[list[OutboxItem], list[csr_list.OrgCsr]]) -> None:
        self.show_items(read[0])
        self.show_csrs(read[1])

    def show_csrs(self, csrs: list[csr_list.OrgCsr]) -> None:
        """Fill the CSR table; the selected CSR stays selected across refreshes, and a lone CSR
        is selected, so its buttons act on it without a click first."""
        kept = self.selected_csr()
        kept_id = kept.row.csr_id if kept is not None else None
        self.csrs = csrs
        self.csr_table.setRowCount(len(csrs))
        for row, c in enumerate(csrs):
            r = c.row
            cells = [str(r.csr_id), f"{r.role or '-'} / {r.eui or '-'}", r.usage,
                     r.created[:16].replace("T", " "),
                     (f"{c.outbox_ref}: {STATE_WORDS.get(c.outbox_state, c.outbox_state)}"
                      if c.outbox_ref else "not submitted"), r.key_id[:16]]
            for col, text in enumerate(cells):
                self.csr_table.setItem(row, col, QTableWidgetItem(text))
        ids = [c.row.csr_id for c in csrs]
        if kept_id in ids:
            self.csr_table.selectRow(ids.index(kept_id))
        elif len(csrs) == 1:
            self.csr_table.selectRow(0)

    def _csr_selected(self) -> None:
        """A "select first" hint is stale once a CSR is selected."""
        if (self.selected_csr() is not None
                and self.details.toPlainText() == SELECT_CSR_FIRST):
            self.details.clear()

    def selected_csr(self) -> csr_list.OrgCsr | None:
        rows = sorted({i.row() for i in self.csr_table.selectedIndexes()})
        return self.csrs[rows[0]] if rows and rows[0] < len(self.csrs) else None

    def csr_actions(self) -> list[tuple[str, Callable[[], None]]]:
        if self.selected_csr() is None:
            return []
        return [("Submit this CSR…", self.ask_submit_csr),
                ("SRO: authorise this CSR…", self.ask_authorise_csr),
                ("Show the paste text", self.show_paste_text)]

    def ask_authorise_csr(self) -> None:
        """The SRO's authorisation of one Organisation CSR: who may sign is read on the job
        runner (the register and the credentials: a team store may take its timeout), then the
        dialog says who signs and what, then it is signed."""
        c = self.selected_csr()
        if c is None:
            self.details.setPlainText(SELECT_CSR_FIRST)
            return
        PageOp(self, self.services, identity.signing_choices, self.ctx,
               name="Read who may sign").busy(self.csr_authorise_btn) \
            .success(lambda choices: self._open_authorise(c, choices)).run()

    def _open_authorise(self, c: csr_list.OrgCsr, choices: list[SigningChoice]) -> None:
        r = c.row
        summary = (f"<p>Authorise <b>Organisation CSR {r.csr_id}</b> (role {r.role or '-'}, "
                   f"EUI {r.eui or '-'}, {r.usage}, key {r.key_id[:16]}) to be sent to the "
                   f"DCC in the <b>{self.ctx.env.label}</b> environment. The authorisation is "
                   "signed with the SRO's file-signing credential and covers these exact "
                   "bytes only.</p>")
        dlg = ConfirmDialog(f"Authorise Organisation CSR {r.csr_id}", summary,
                            "&Authorise and sign", self.ctx.env, "AUTHORISE", self)
        picker = ActorPicker(dlg)
        picker.set_choices(choices)
        sro = next((ch for ch in choices if ch.role.lower() == "sro"), None)
        if sro is not None:  # the act needs an SRO: offer one first
            picker.select(sro.officer_id, sro.key_id)
        lay = dlg.layout()
        assert isinstance(lay, QVBoxLayout)
        lay.insertWidget(1, picker)
        dlg.picker = picker  # type: ignore[attr-defined]
        self.authorise_dialog = dlg

        def go() -> None:
            who = picker.selected()
            self._run(org_csr_approval.authorise, "Signing the SRO's authorisation", r.der,
                      as_ref=who.officer_id if who else None,
                      key_ref=who.key_id if who else None)

        open_confirmation(self, dlg, go)

    def show_paste_text(self) -> None:
        c = self.selected_csr()
        if c is None:
            self.details.setPlainText(SELECT_CSR_FIRST)
            return
        text = csr_list.paste_text(self.ctx, c.row.csr_id)
        self.details.setPlainText(
            f"Organisation CSR {c.row.csr_id} ({c.row.usage}, role {c.row.role or '-'}, "
            f"EUI {c.row.eui or '-'}). Paste this into the SMKI Portal's Organisation CSR "
            "form, then import the certificate you pick up (Certificates page):\n\n" + text)
        QGuiApplication.clipboard().setText(text)
        self.services.status("The paste text is on the clipboard.")

    def ask_submit_csr(self) -> None:
        """What would refuse the CSR (no SRO authorisation, no Party profile in Live...) is
        asked first, on the job runner and without side effects: a refusal is said in plain
        words before the officer is asked to confirm anything."""
        c = self.selected_csr()
        if c is None:
            self.details.setPlainText(SELECT_CSR_FIRST)
            return
        PageOp(self, self.services, csr_list.check_submit, self.ctx, c.row.csr_id,
               name="Check the CSR can be sent").busy(self.csr_submit_btn) \
            .success(lambda _r: self._confirm_submit_csr(c)) \
            .failure(lambda _t, exc: self._refused_before_sending(c, exc)).run()

    def _refused_before_sending(self, c: csr_list.OrgCsr, exc: BaseException) -> None:
        """Nothing went to the DCC: say what is missing and what to do next."""
        title, text = not_sent_text(c.row.csr_id, exc)
        self.details.setPlainText(f"{title}.\n\n{text}")
        self.services.error(title, text)

    def _confirm_submit_csr(self, c: csr_list.OrgCsr) -> None:
        r = c.row
        ask_confirmation(
            self, lambda: self._run(csr_list.submit, "Submitting", r.csr_id,
                                    refused=lambda exc: not_sent_text(r.csr_id, exc)),
            title="Submit the Organisation CSR", env=self.ctx.env, action="&Submit CSR",
            what=("Send this Organisation CSR to the DCC through the SMKI Portal: you paste "
                  "the text shown next." if self.ctx.env is Environment.LIVE else
                  f"Send this Organisation CSR to {SENT_TO[self.ctx.env]}."),
            facts=[("CSR", str(r.csr_id)), ("Role / EUI", f"{r.role or '-'} / {r.eui or '-'}"),
                   ("Usage", r.usage), ("Key", r.key_id[:16]), ("How many", "1")],
            warning=(f"It was submitted before ({c.outbox_ref}); submitting again sends it a "
                     "second time." if c.submitted else ""))

    def show_items(self, items: list[OutboxItem]) -> None:
        self.items = items
        self.table.setRowCount(len(items))
        for row, i in enumerate(items):
            server = " ".join(x for x in (i.server_id or "", i.server_status or "") if x)
            cells = [i.ref, KIND_WORDS.get(i.kind, i.kind), STATE_WORDS.get(i.state, i.state),
                     server or "-", i.next_action, f"{i.created:%Y-%m-%d %H:%M}"]
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if i.last_error:
                    cell.setToolTip(i.last_error)
                self.table.setItem(row, col, cell)
        counts: dict[str, int] = {}
        for i in items:
            counts[i.state] = counts.get(i.state, 0) + 1
        self.summary.setText(", ".join(f"{n} {STATE_WORDS.get(s, s)}"
                                       for s, n in sorted(counts.items()))
                             or "No requests yet.")

    def _focus_details(self) -> None:
        self._show_details()
        self.details.setFocus()

    def _show_details(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if not rows or rows[0] >= len(self.items):
            self.details.clear()
            return
        self.details.setPlainText(details_text(self.items[rows[0]]))

    # ------------------------------------------------------------------ actions
    @property
    def job(self) -> PageOp | None:
        """The DCC request running, if one is."""
        return self.op if self.op is not None and self.op.running else None

    def _run(self, fn: Any, what: str, *args: Any,
             refused: Callable[[BaseException], tuple[str, str]] | None = None,
             **kwargs: Any) -> None:
        """Run a request on the job runner; `refused(exc)` gives the title and text of a
        refusal raised before anything was sent (default: the DCC request did not complete)."""
        self.services.status(f"{what}…")
        self.op = PageOp(self, self.services, fn, self.ctx, *args, name=what, **kwargs) \
            .busy(self.submit_btn, self.send_btn, self.poll_btn, self.csr_submit_btn,
                  self.csr_authorise_btn) \
            .changes("requests", "certificates").success(self._done) \
            .failure(lambda text, exc: self._failed(text, exc, refused))
        self.op.run()

    def _done(self, _result: Any) -> None:
        self.refresh()
        self.services.status("Done.")

    def _failed(self, _text: str, exc: BaseException,
                refused: Callable[[BaseException], tuple[str, str]] | None = None) -> None:
        self.refresh()
        if refused is not None and isinstance(exc, SmkiError):  # refused before sending
            self.services.error(*refused(exc))
            return
        self.services.error("The DCC request did not complete", exc)

    def _pick_and_submit(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Organisation CSR", "",
                                              "CSR (*.csr *.pem *.der);;All files (*)")
        if path:
            self.submit_file(Path(path))

    def submit_file(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.services.error("Could not read the CSR", error_text(exc))
            return
        self._run(portal_service.submit_org_csr, "Submitting", data, source=str(path),
                  refused=lambda exc: ("Nothing was sent to the DCC",
                                       f"The CSR file was not submitted: {error_text(exc)}"))


def not_sent_text(csr_id: int, exc: BaseException) -> tuple[str, str]:
    """The title and plain words for an Organisation CSR refused before anything was sent."""
    title = f"Organisation CSR {csr_id} was not sent"
    if getattr(exc, "hint", "") == "csr.authorise":
        return title, (
            f"Nothing was sent to the DCC. Organisation CSR {csr_id} needs an active SRO's "
            "authorisation before it can be sent, and it has no valid one yet.\n\n"
            "What to do: ask an active SRO to authorise it: "
            f"{gui_hint('csr.authorise')}; then submit it again.\n\n"
            f"Details: {getattr(exc, 'message', '') or error_text(exc)}")
    return title, f"Nothing was sent to the DCC.\n\n{error_text(exc)}"


def details_text(item: OutboxItem) -> str:
    """One request in plain words; for a hand-submitted Organisation CSR, the paste text."""
    lines = [f"Request {item.ref}: {KIND_WORDS.get(item.kind, item.kind)}, "
             f"{STATE_WORDS.get(item.state, item.state)}.",
             f"Next: {item.next_action}."]
    if item.server_id:
        lines.append(f"DCC id {item.server_id} ({item.server_status or '-'}).")
    if item.last_error:
        lines.append(f"Last problem: {item.last_error}")
    lines.append(f"Send attempts: {item.attempts}.")
    paste = item.meta.get("paste_text")
    if paste and item.state == "submitted":
        lines += ["", "Paste this into the SMKI Portal's Organisation CSR form, then import "
                      "the certificate you pick up (Certificates page):", "", str(paste)]
    return "\n".join(lines)
