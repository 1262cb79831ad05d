"""ADT page, validation: check the table against the profile and show every finding in place:
the cell's colour and tooltip (the table's model), and a list whose entries select their cell.

A moment after an edit the rows as they are then are checked on the job runner (a 100,000-row
file takes over a second); the answer is shown only if no edit came after it. A finding names
the table's row as the table numbers it and the file's line (which counts the header), and the
column by name: "Row 2 (file line 3), column User ID: ...". The rule codes (`[duplicate]`...)
are the command line's (`--json`), not shown here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import Issue, ValidationReport, render_csv, validate
from smki_desktop.core.eui import EuiRange
from smki_desktop.gui.controllers.adt_view import AdtView
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import QListWidgetItem

ISSUE_ROLE = 0x0100 + 7  # Qt.ItemDataRole.UserRole + 7: the Issue behind a list entry
# a message's own reference to a line ("same User ID, ... as line 2") is to the file's line
_LINE_REF = re.compile(r"(?<!file )\bline (\d+)")


def finding_text(issue: Issue) -> str:
    """A finding as the officer reads it: the table's row and the file's line, the column by
    its name, the message; no rule code."""
    if issue.row_index >= 0:
        where = f"Row {issue.row_index + 1:,} (file line {issue.line:,})"
    else:
        where = f"File line {issue.line:,}"
    if issue.column_index:
        where += f", column {issue.column}"
    mark = "⚠ Warning — " if issue.severity == "warning" else "✖ "
    message = _LINE_REF.sub(r"file line \1", issue.message)
    return f"{mark}{where}: {message}"


def omitted_text(report: ValidationReport) -> str:
    """How many findings are not listed, without the rule codes."""
    if not report.truncated:
        return ""
    return (f"{report.omitted:,} more finding(s) not listed here (the first {report.cap:,} of "
            "each kind are).")


def summary_text(report: ValidationReport) -> str:
    """The verdict under the findings, without rule codes."""
    more = f" {omitted_text(report)}" if report.truncated else ""
    if report.ok:
        w = f", {report.warning_count:,} warning(s)" if report.warning_count else ""
        return (f"Valid {report.profile.title or report.profile.kind} "
                f"({report.profile.ref}): {report.row_count:,} row(s){w}.{more}")
    return (f"Not valid against {report.profile.ref}: {report.error_count:,} error(s), "
            f"{report.warning_count:,} warning(s).{more}")


def check_rows(profile: Profile, rows: Sequence[Sequence[str]],
               ranges: list[EuiRange] | None) -> tuple[ValidationReport, bytes]:
    """Background: the findings of these rows as the file they would be saved as, and that
    file's bytes (kept for Sign while the rows do not change)."""
    data = render_csv(profile, rows)
    return validate(data, profile, ranges, keep_rows=False), data


class ShowFindings:
    def __init__(self, view: AdtView) -> None:
        self.view = view
        self.generation = 0  # counts the table's contents: a late answer is not shown
        self.op: PageOp | None = None
        self.again = False
        # what the report shown is of, when it is of the table's rows as rendered: (the
        # model's version, the profile, the Party's ranges); None for a file's own report
        self.shown_of: tuple[int, object, object] | None = None

    def validate_now(self) -> ValidationReport:
        """The findings of the table as it is: the report shown when it is of these very rows
        (after Save: 1.4 s saved for 100,000 rows checked already on the job runner), else
        checked here."""
        v = self.view
        if v.report is not None and self.shown_of == self._now():
            self.generation += 1  # a check under way is of these rows too: not needed
            return v.report
        self.generation += 1
        key = self._now()
        report = validate(v.current_bytes(), v.profile, v.party_ranges)
        self.show(report, key)
        return report

    def _now(self) -> tuple[int, object, object]:
        v = self.view
        return v.model.version, v.profile, v.party_ranges

    def validate_later(self) -> None:
        """Check the table as it is now on the job runner; one check at a time, the last
        edit's rows checked last."""
        if self.op is not None and self.op.running:
            self.again = True
            return
        self.again = False
        self.generation += 1
        v, generation, version = self.view, self.generation, self.view.model.version
        key = self._now()
        self.op = PageOp(v.widget(), v.services, check_rows, v.profile, v.model.snapshot(),
                         v.party_ranges, name="Check ADT file").background() \
            .success(lambda read: self._checked(read, generation, version, key)) \
            .failure(lambda text, _exc: v.validation.setText(f"Could not check: {text}"))
        self.op.run()

    def _checked(self, read: tuple[ValidationReport, bytes], generation: int,
                 version: int, key: tuple[int, object, object]) -> None:
        report, data = read
        self.view.model.keep_rendered(version, data)  # kept only if no edit came since
        if self.again:
            self.validate_later()
        elif generation == self.generation:
            self.show(report, key)

    def show(self, report: ValidationReport, of: tuple[int, object, object] | None = None
             ) -> None:
        """Show `report`; `of` says which rows it is of when they are the table's as
        rendered (a file's own report also speaks of its bytes: BOM, blank lines)."""
        v = self.view
        self.generation += 1  # what is shown now is newer than a check under way
        self.shown_of = of
        v.report = report
        v.model.set_findings(report.issues)
        v.issues.clear()
        for issue in report.issues:
            entry = QListWidgetItem(finding_text(issue))
            entry.setData(ISSUE_ROLE, issue)
            v.issues.addItem(entry)
        if report.truncated:
            v.issues.addItem(QListWidgetItem("… " + omitted_text(report)))
        if not report.issues:  # an empty box read as "not checked yet"
            v.issues.addItem(QListWidgetItem("No findings."))
        v.validation.setText(summary_text(report))
        v.update_buttons()

    def cell_issue_text(self, row: int, col: int) -> str:
        item = self.view.table.item(row, col)
        return item.toolTip() if item is not None else ""

    def jump(self, entry: QListWidgetItem, focus: bool = False) -> None:
        """Select the finding's cell (its row's first cell for a whole-row finding); with
        `focus` (the entry activated: Enter, double-click) the table takes the keyboard."""
        issue = entry.data(ISSUE_ROLE)
        if isinstance(issue, Issue) and 0 <= issue.row_index < self.view.table.rowCount():
            self.view.table.setCurrentCell(issue.row_index, max(issue.column_index - 1, 0))
            if focus:
                self.view.table.setFocus()
