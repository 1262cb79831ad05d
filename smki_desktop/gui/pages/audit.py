"""Audit log page: the records, newest first, and a verification of the whole chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smki_desktop.core.audit import VerifyReport
from smki_desktop.gui.audit_actions import action_text, pruned
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
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
from smki_desktop.gui.services import CHANGES
from smki_desktop.gui.tables import select_on_focus
from smki_desktop.gui.tones import text_style
from smki_desktop.gui.widgets.details import (
    DetailsTree,
    sections_from_mapping,
    wire_row_actions,
    words,
)
from smki_desktop.services import audit_log
from smki_desktop.services.view_rows import Row, Section

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

COLUMNS = ["#", "When (UTC)", "Who", "Action", "Action code", "Details"]

ACTION = COLUMNS.index("Action")


def read_audit(ctx: AppContext, query: dict[str, str]) -> list[Any]:
    """The newest 2,000 audit records whose action starts with the filter (a job)."""
    return list(audit_log.records(ctx, limit=2000, action_prefix=query.get("prefix", "")))


def _cell_details(details: dict[str, Any]) -> dict[str, Any]:
    """The details a table cell shows: the app version (on every record) is left to the
    record's details below, so what differs leads."""
    return {k: v for k, v in details.items() if k != "app_version"}


class Page(QWidget):
    title = "Audit log"
    order = 90
    shows = CHANGES  # every change writes an audit record

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Every change made in this environment, "
                             "hash-chained; the chain's head is kept in your OS keyring."))
        bar = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by action, e.g. key. or csr.")
        self.filter.textChanged.connect(self.refresh)
        self.verify_button = QPushButton("&Verify chain")
        self.verify_button.clicked.connect(self.verify)
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.verify_button)
        lay.addLayout(bar)
        self.result = QLabel("")
        self.result.setObjectName("verifyResult")
        self.result.setWordWrap(True)
        lay.addWidget(self.result)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1,
                                                           QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        lay.addWidget(self.table, 1)
        self.entries: list[Any] = []
        self.details = DetailsTree("auditDetails")
        self.details.setAccessibleName("The selected audit record")
        self.details.setMaximumHeight(200)
        lay.addWidget(self.details)
        self.table.itemSelectionChanged.connect(self.show_details)
        wire_row_actions(self.table, lambda: [("Show the record", self.focus_details)],
                         self.focus_details)
        self.query: dict[str, str] = {}
        self.reader = BackgroundRead(self, services, read_audit, services.ctx, self.query,
                                     name="Audit log", show=self.show_entries,
                                     failed=lambda text, _exc: self.result.setText(text),
                                     loading=self.result)

    def refresh(self) -> None:
        """Read on the job runner with the filter as it is now; shown when it returns."""
        self.query["prefix"] = self.filter.text().strip()
        self.reader.run()

    def show_entries(self, entries: list[Any]) -> None:
        self.entries = entries
        self.table.setRowCount(len(entries))
        for row, e in enumerate(entries):
            vals = [str(e.seq), e.ts[:19].replace("T", " "), e.actor, action_text(e.action),
                    e.action, words(pruned(_cell_details(e.details)))[:300]]
            for col, v in enumerate(vals):
                item = QTableWidgetItem(v)
                if col == ACTION:
                    item.setToolTip(f"Action code {e.action}")
                elif col == len(vals) - 1 and v:
                    item.setToolTip(v)  # the whole of what a narrow column cuts off
                self.table.setItem(row, col, item)

    def show_details(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        if not rows or rows[0] >= len(self.entries):
            return
        e = self.entries[rows[0]]
        record = Section("Record", (Row("Number", str(e.seq)), Row("Time", e.ts),
                                    Row("Who", e.actor), Row("Action", action_text(e.action)),
                                    Row("Action code", e.action),
                                    Row("Environment", e.environment)))
        artifacts = tuple(Row(k.replace("_", " "), f"SHA-256 {v}")
                          for k, v in e.artifacts.items())
        self.details.show_sections([record, *sections_from_mapping(pruned(e.details), "Details"),
                                    *([Section("Files and data (hashes)", artifacts)]
                                      if artifacts else [])])

    def focus_details(self) -> None:
        self.show_details()
        self.details.setFocus()

    def verify(self) -> None:
        self.result.setText("Verifying…")

        def done(rep: VerifyReport) -> None:
            if rep.ok:
                self.result.setStyleSheet(text_style("ok"))
                self.result.setText(f"Intact: {rep.rows} records, head matches the OS keyring."
                                    + "".join(f"\nNote: {n}" for n in rep.notes))
            else:
                self.result.setStyleSheet(text_style("error", bold=True))
                self.result.setText("FAILED:\n" + "\n".join(rep.problems))

        def failed(_text: str, exc: BaseException) -> None:
            self.result.setText("")
            self.services.error("Could not verify the audit log", exc)

        PageOp(self, self.services, audit_log.verify, self.services.ctx,
               name="verify audit log").busy(self.verify_button).success(done) \
            .failure(failed).run()
