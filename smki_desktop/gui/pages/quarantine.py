"""Quarantine page: import a Quarantined Communications Report, see the quarantined
communications, choose process or delete per row or in bulk for the rows a filter shows, and
produce the signed Action file. Decisions are kept as drafts in the store so work survives a
restart (each saving audited); a draft no audit record vouches for is not used and is named on
the summary line. The Action file is refused until every communication has a decision."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.adt.quarantine import Filter, QuarantineItem
from smki_desktop.core.errors import SmkiError
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import select_on_focus
from smki_desktop.gui.texts import error_text
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.gui.widgets.file_signing import fill_file_signing_keys, read_file_signing_keys
from smki_desktop.services import quarantine as q_service

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

# the decision next to its Quarantine ID: at 1024 wide the long Request IDs push any column
# after them off-screen, and the decision is what the officer works on
COLUMNS = ["Quarantine ID", "Decision", "User ID", "Role", "Service Request", "Request ID",
           "Quarantined At", "Threshold", "Count"]
DECISION = COLUMNS.index("Decision")


def notes_text(notes: tuple[str, ...], at_most: int = 5) -> str:
    """Saved decisions not used, for the summary line ('' when there are none)."""
    if not notes:
        return ""
    more = f"; and {len(notes) - at_most:,} more" if len(notes) > at_most else ""
    return "\nNot used: " + "; ".join(notes[:at_most]) + more + "."


class Page(QWidget):
    title = "Quarantine"
    order = 55
    shows = frozenset({"quarantine", "adt"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.report: q_service.ImportedReport | None = None
        self.report_path: Path | None = None
        self.items: list[QuarantineItem] = []
        self.decisions: dict[str, str] = {}
        self.busy = False
        self.last_result: Any = None
        # a failed operation's words: shown instead of the counts line until the officer's
        # next action on the page (`_acted`), so a refusal is not overwritten at once
        self.failure: str | None = None
        # saved decisions not used (no audit record vouches for them), said under the counts
        # until the officer decides those communications here
        self.not_used: dict[str, str] = {}

        layout = QVBoxLayout(self)
        hint = QLabel("Import the DCC's Quarantined Communications Report, decide PROCESS or "
                      "DELETE for each communication (select rows or filter, then decide in "
                      "bulk), and create the signed Action file.")
        hint.setWordWrap(True)
        layout.addWidget(hint)

        bar = QHBoxLayout()
        self.import_btn = QPushButton("&Import report…")
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: Quarantine ID, Request ID…")
        self.threshold_combo = QComboBox()
        for label, value in (("Any threshold", ""), ("User threshold", "USER"),
                             ("DCC threshold", "DCC")):
            self.threshold_combo.addItem(label, value)
        self.threshold_combo.setAccessibleName("Filter by threshold")
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText("User ID")
        bar.addWidget(self.import_btn)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.user_edit)
        bar.addWidget(self.threshold_combo)
        layout.addLayout(bar)

        bulk = QHBoxLayout()
        self.process_sel_btn = QPushButton("&Process selected")
        self.delete_sel_btn = QPushButton("&Delete selected")
        self.process_shown_btn = QPushButton("Process all &shown")
        self.delete_shown_btn = QPushButton("Delete all sho&wn")
        for b in (self.process_sel_btn, self.delete_sel_btn, self.process_shown_btn,
                  self.delete_shown_btn):
            bulk.addWidget(b)
        bulk.addStretch(1)
        layout.addLayout(bulk)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        wire_row_actions(self.table, lambda: [
            ("Process selected", lambda: self.request_decision(self.selected_ids(), "PROCESS")),
            ("Delete selected", lambda: self.request_decision(self.selected_ids(), "DELETE"))],
            lambda: None)
        layout.addWidget(self.table, 1)

        act = QHBoxLayout()
        self.key_combo = QComboBox()
        # a key's long subject must not widen the page past a laptop screen
        self.key_combo.setMinimumContentsLength(30)
        self.key_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.smsr_edit = QLineEdit()
        self.smsr_edit.setPlaceholderText("SMSR reference (optional)")
        self.smsr_edit.setToolTip("The Service Management Service Request reference, if the "
                                  "DCC gave one")
        self.smsr_edit.setAccessibleName("Service Request reference (optional)")
        self.smsr_edit.setMinimumWidth(190)
        self.action_btn = QPushButton("Create signed &Action file…")
        key_label = QLabel("File-signing &key:")
        key_label.setBuddy(self.key_combo)
        act.addWidget(key_label)
        act.addWidget(self.key_combo, 1)
        act.addWidget(self.smsr_edit)
        act.addWidget(self.action_btn)
        layout.addLayout(act)
        self.summary = QLabel("No report imported.")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)

        self.import_btn.clicked.connect(self._choose_report)
        self.filter_edit.textChanged.connect(lambda _t: self._acted(self.apply_filter))
        self.user_edit.textChanged.connect(lambda _t: self._acted(self.apply_filter))
        self.threshold_combo.currentIndexChanged.connect(
            lambda _i: self._acted(self.apply_filter))
        self.process_sel_btn.clicked.connect(
            lambda: self.request_decision(self.selected_ids(), "PROCESS"))
        self.delete_sel_btn.clicked.connect(
            lambda: self.request_decision(self.selected_ids(), "DELETE"))
        self.process_shown_btn.clicked.connect(
            lambda: self.request_decision(self.shown_ids(), "PROCESS"))
        self.delete_shown_btn.clicked.connect(
            lambda: self.request_decision(self.shown_ids(), "DELETE"))
        self.action_btn.clicked.connect(self._choose_action_out)
        self.refresh()

    def refresh(self) -> None:
        """The file-signing keys are read on the job runner; the chooser follows."""
        BackgroundRead.kept(self, "keys_read", self.services, read_file_signing_keys, self.ctx,
                            name="File-signing keys", show=self._show_keys).run()

    def _show_keys(self, keys: list[tuple[str, str]]) -> None:
        fill_file_signing_keys(self.key_combo, keys)
        self._update()

    # -- report ---------------------------------------------------------------------------
    def import_report(self, path: Path) -> None:
        self.failure = None
        self.summary.setText(f"Reading {path.name}…")

        def done(rep: q_service.ImportedReport) -> None:
            self.report, self.report_path = rep, Path(path)
            self.items = rep.items
            self.decisions = dict(rep.decisions)
            self.not_used = dict(rep.not_used)
            self._fill()
            self._update()

        self._op(q_service.import_report, self.ctx, path, name="Import quarantine report") \
            .success(done).run()

    def _op(self, fn: Any, *args: Any, name: str, **kwargs: Any) -> PageOp:
        """A quarantine job: the page is busy while it runs; a failure is said in the summary."""
        return PageOp(self, self.services, fn, *args, name=name, **kwargs) \
            .busy(hook=self._set_busy) \
            .failure(lambda text, exc: self._failed(f"{name} failed: {text}", exc))

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._update()

    def _failed(self, text: str, exc: BaseException | None = None) -> None:
        """Say a failure (or refusal) in the summary, as the Devices page does; it stays there
        until the officer's next action, whatever refreshes the page meanwhile."""
        self.last_result = exc
        self.failure = text
        self._update()

    def _acted(self, then: Any) -> None:
        """The officer did something on the page: an earlier failure has been seen."""
        self.failure = None
        then()

    def _fill(self) -> None:
        self.table.setRowCount(len(self.items))
        for r, it in enumerate(self.items):
            values = [it.quarantine_id, self.decisions.get(it.quarantine_id, ""), it.user_id,
                      it.user_role, it.service_request_type, it.request_id,
                      it.quarantined_at, it.threshold, str(it.count)]
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(v))
        self.apply_filter()

    def current_filter(self) -> Filter:
        return Filter(user_id=self.user_edit.text().strip(),
                      threshold=self.threshold_combo.currentData() or "",
                      text=self.filter_edit.text().strip())

    def apply_filter(self) -> None:
        flt = self.current_filter()
        for r, it in enumerate(self.items):
            self.table.setRowHidden(r, not flt.matches(it))
        self._update()

    def shown_ids(self) -> list[str]:
        return [it.quarantine_id for r, it in enumerate(self.items)
                if not self.table.isRowHidden(r)]

    # -- decisions ------------------------------------------------------------------------
    def _set(self, ids: list[str], action: str) -> None:
        self.failure = None
        for qid in ids:
            self.decisions[qid] = action
        index = {it.quarantine_id: r for r, it in enumerate(self.items)}
        for qid in ids:
            self.table.setItem(index[qid], DECISION, QTableWidgetItem(action))
        if self.report is not None:
            # kept as drafts with their audit record (a keyring and a store call): off the GUI
            # thread, and without the busy state, so the page's counts and any refusal show at
            # once; the Action file takes the page's decisions, not the drafts
            PageOp(self, self.services, q_service.save_decisions, self.ctx,
                   self.report.report_id, {q: self.decisions[q] for q in ids},
                   name="Save decisions").background().changes("audit").failure(
                lambda text, exc: self._failed(
                    f"The decisions were not saved as drafts: {text} They stay chosen on this "
                    "page for the Action file; choose them again after a restart.", exc)).run()
        self._update()

    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()
                       if not self.table.isRowHidden(i.row())})
        return [self.items[r].quarantine_id for r in rows]

    def decide_selected(self, action: str) -> None:
        self._set(self.selected_ids(), action)

    def request_decision(self, ids: list[str], action: str) -> None:
        """The decision buttons: one row is decided at once; several rows, or any row that
        already has the other decision, are summarised first (saying what is overwritten)."""
        self.failure = None
        if not ids:
            self.summary.setText("Select rows (or filter) first: no communication chosen.")
            return
        changed = [q for q in ids if self.decisions.get(q, action) != action]
        if len(ids) == 1 and not changed:
            self._set(ids, action)
            return
        warning = (f"This overwrites the earlier decision on {len(changed):,} "
                   f"communication(s): " + ", ".join(changed[:5])
                   + (" …" if len(changed) > 5 else "") + ".") if changed else ""
        ask_confirmation(
            self, lambda: self._set(ids, action), title=f"Decide {action}", env=self.ctx.env,
            action=f"Mark {len(ids):,} as {action}",
            what=f"Mark {len(ids):,} quarantined communication(s) as {action}. The decisions "
                 "go into the signed Action file you create next.",
            facts=[("Communications", f"{len(ids):,}"),
                   ("Already decided otherwise", f"{len(changed):,}")],
            warning=warning)

    def decide_shown(self, action: str) -> None:
        self._set(self.shown_ids(), action)

    def _update(self) -> None:
        n = len(self.items)
        decided = sum(1 for it in self.items if it.quarantine_id in self.decisions)
        proc = sum(1 for it in self.items if self.decisions.get(it.quarantine_id) == "PROCESS")
        have = self.report is not None and not self.busy
        for b in (self.process_sel_btn, self.delete_sel_btn, self.process_shown_btn,
                  self.delete_shown_btn):
            b.setEnabled(have)
        self.action_btn.setEnabled(have and n > 0 and decided == n
                                   and bool(self.key_combo.currentData()))
        self.import_btn.setEnabled(not self.busy)
        if self.failure is not None and not self.busy:
            self.summary.setText(self.failure)
        elif self.report is not None and not self.busy:
            shown = len(self.shown_ids())
            self.summary.setText(f"{self.report.name}: {n} quarantined communication(s), "
                                 f"{shown} shown; decided {decided} of {n} ({proc} process, "
                                 f"{decided - proc} delete).{notes_text(self.notes())}")

    def notes(self) -> tuple[str, ...]:
        """The saved decisions not used, of communications not decided here since."""
        return tuple(m for q, m in sorted(self.not_used.items()) if q not in self.decisions)

    # -- Action file ----------------------------------------------------------------------
    def create_action(self, out: Path, overwrite: bool = False) -> None:
        """Write and sign the Action file; existing outputs are replaced only with
        `overwrite` (the officer's answer), as the service rules for both faces."""
        if self.report_path is None:
            return
        self.failure = None

        def done(res: q_service.ActionResult) -> None:
            self.last_result = res
            self._update()
            signed = f" Signed: {res.signed.signature.name}." if res.signed else ""
            self.summary.setText(f"Action file {res.action_file} ({res.processed} process, "
                                 f"{res.deleted} delete), SHA-256 {res.sha256}.{signed}"
                                 f"{notes_text(res.drafts_not_used)}")

        self._op(q_service.build_action_file, self.ctx, self.report_path, out,
                 chosen=dict(self.decisions), key_ref=self.key_combo.currentData() or None,
                 smsr=self.smsr_edit.text().strip() or None, overwrite=overwrite,
                 name="Create Action file").changes("quarantine").success(done).run()

    def _choose_report(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Quarantined Communications Report", "",
                                              "CSV (*.csv);;All (*)")
        if name:
            self.import_report(Path(name))

    def _choose_action_out(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Action file", "action.csv", "CSV (*.csv)")
        if name:
            self.request_action(Path(name))

    def request_action(self, out: Path) -> None:
        """Summarise the Action file (counts, signing credential, environment, the existing
        files it replaces), then build; the officer's answer is the service's `overwrite`. An
        output that is the Report itself is refused at once in the service's words: there is
        nothing to replace and sign."""
        self.failure = None
        if self.report_path is not None:
            try:
                q_service.refuse_output_over_inputs(out, self.report_path)
            except SmkiError as exc:
                self._failed(f"Create Action file failed: {error_text(exc)}", exc)
                return
        in_the_way = q_service.outputs_in_the_way(self.ctx, out)
        proc = sum(1 for it in self.items if self.decisions.get(it.quarantine_id) == "PROCESS")
        dele = sum(1 for it in self.items if self.decisions.get(it.quarantine_id) == "DELETE")
        facts = [("Report", self.report.name if self.report else "—"),
                 ("Process", f"{proc:,}"), ("Delete", f"{dele:,}"),
                 ("Signing credential", self.key_combo.currentText()),
                 ("Write to", str(out))]
        if in_the_way:
            facts.append(("Replaces", ", ".join(p.name for p in in_the_way)))
        ask_confirmation(
            self, lambda: self.create_action(out, overwrite=bool(in_the_way)),
            title="Create the signed Action file", env=self.ctx.env,
            action="&Replace and sign" if in_the_way else "&Sign Action file",
            what="Write and sign the Action file for this Quarantined Communications Report. "
                 "Once sent to the DCC, DELETE decisions cannot be undone.", facts=facts,
            warning="The existing files listed are replaced." if in_the_way else "")
