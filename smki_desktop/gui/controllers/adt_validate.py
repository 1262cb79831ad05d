"""ADT page, validation: check the table against the profile (at once after an edit: a few
milliseconds for thousands of rows) and show every finding in place: the cell's colour and
tooltip, and a list whose entries jump to their cell."""

from __future__ import annotations

from typing import Any

from smki_desktop.core.adt.validate import Issue, ValidationReport, validate
from smki_desktop.gui.controllers.adt_view import AdtView
from smki_desktop.gui.qt import QColor, QListWidgetItem, QTableWidgetItem
from smki_desktop.gui.tones import qcolor

ISSUE_ROLE = 0x0100 + 7  # Qt.ItemDataRole.UserRole + 7: the Issue behind a list entry


def _colour(severity: str) -> Any:
    return qcolor("error_bg") if severity == "error" else qcolor("warn_bg")


class ShowFindings:
    def __init__(self, view: AdtView) -> None:
        self.view = view

    def validate_now(self) -> ValidationReport:
        v = self.view
        report = validate(v.current_bytes(), v.profile, v.party_ranges)
        self.show(report)
        return report

    def show(self, report: ValidationReport) -> None:
        v = self.view
        v.report = report
        v.loading = True
        try:
            for r in range(v.table.rowCount()):
                for c in range(v.table.columnCount()):
                    item = v.table.item(r, c)
                    if item is not None:
                        item.setBackground(QColor(0, 0, 0, 0))
                        item.setToolTip(v.profile.columns[c].doc)
            for issue in report.issues:
                self._mark(issue)
        finally:
            v.loading = False
        v.issues.clear()
        for issue in report.issues:
            entry = QListWidgetItem(("⚠ " if issue.severity == "warning" else "✖ ") + str(issue))
            entry.setData(ISSUE_ROLE, issue)
            v.issues.addItem(entry)
        if report.truncated:
            v.issues.addItem(QListWidgetItem("… " + report.omitted_text()))
        v.validation.setText(report.summary())
        v.update_buttons()

    def _mark(self, issue: Issue) -> None:
        table = self.view.table
        if issue.row_index < 0 or issue.row_index >= table.rowCount():
            return
        cols = [issue.column_index - 1] if issue.column_index else \
            list(range(table.columnCount()))
        for c in cols:
            item = table.item(issue.row_index, c)
            if item is None:
                item = QTableWidgetItem("")
                table.setItem(issue.row_index, c, item)
            item.setBackground(_colour(issue.severity))
            item.setToolTip(f"{issue.message} [{issue.rule}]")

    def cell_issue_text(self, row: int, col: int) -> str:
        item = self.view.table.item(row, col)
        return item.toolTip() if item is not None else ""

    def jump(self, entry: QListWidgetItem) -> None:
        issue = entry.data(ISSUE_ROLE)
        if isinstance(issue, Issue) and issue.row_index >= 0:
            self.view.table.setCurrentCell(issue.row_index, max(issue.column_index - 1, 0))
