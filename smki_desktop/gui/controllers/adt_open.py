"""ADT page, "New from template" / "Open…": put a file in the table, after asking what to do
with edits not saved (Keep editing is the default; Save; Discard). A file is read and checked
in the background, and its rows are put in the table's model as read (no widget per cell: a
100,000-row file opens without holding the window); findings name the table's row and the
file's own line, and a file that cannot be read as rows (encoding, BOM) is shown as findings
only. The line under the buttons says what the table holds: the file opened, or a new file
from the template not saved yet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import ValidationReport, render_csv, template_rows
from smki_desktop.gui.controllers.adt_view import AdtView, adt_op
from smki_desktop.gui.qt import QFileDialog, QMessageBox
from smki_desktop.services import adt as adt_service
from smki_desktop.services.context import AppContext


class OpenFile:
    def __init__(self, view: AdtView, show: Callable[[ValidationReport], None]) -> None:
        self.view = view
        self.show = show  # how the page shows a file's findings (adt_validate.ShowFindings)

    def unless_unsaved(self, then: Callable[[], None]) -> None:
        """Before the table is replaced: with edits not saved, ask first."""
        v = self.view
        if not (v.dirty and v.table.rowCount() > 0):
            then()
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved ADT edits",
                          "The table has edits that are not saved to a file. Save them first, "
                          "or discard them?", parent=v.widget())
        box.setObjectName("adtDiscardBox")
        keep = box.addButton("&Keep editing", QMessageBox.ButtonRole.RejectRole)
        save = box.addButton("&Save", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("&Discard", QMessageBox.ButtonRole.DestructiveRole)
        for b, name in ((keep, "keepEditing"), (save, "save"), (discard, "discard")):
            b.setObjectName(name)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        v.discard_box = box

        def answered(_r: int) -> None:
            clicked = box.clickedButton()
            if clicked is save:
                if v.save() is not None and not v.dirty:
                    then()
            elif clicked is discard:
                v.dirty = False
                then()

        box.finished.connect(answered)
        box.open()

    def new_from_template(self) -> None:
        v = self.view
        v.path = None
        ranges = v.party_ranges  # read with the page, not here on the GUI thread
        rows = template_rows(v.profile, ranges[0].first if ranges else None)
        v.set_rows(rows)
        v.dirty = True  # not in a file yet
        # the line under the buttons said what was open before ("Opened …/big.csv (100,000
        # rows)") while the table held the template
        v.summary.setText(f"New ADT file from the template ({len(rows):,} rows), not saved "
                          "yet: edit it, then save it.")
        v.history.setText("")
        v.update_buttons()
        v.services.status("New ADT file from the template: edit it, save it, then sign it.")

    def choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.view.widget(), "Open ADT file", "",
                                              "CSV (*.csv);;All (*)")
        if name:
            self.open_file(Path(name))

    def open_file(self, path: Path) -> None:
        v = self.view

        def done(read: tuple[ValidationReport, list[tuple[str, ...]], bytes]) -> None:
            report, rows, rendered = read
            v.path = Path(path)
            # the rows as read, and the file's own findings (encoding, header, blank lines):
            # not checked again, nor rendered for Sign, here on the GUI thread
            v.set_rows(rows, report, rendered)
            v.dirty = False
            v.update_buttons()
            v.summary.setText(f"Opened {v.path} ({len(rows):,} rows).")

        adt_op(v, _load, v.ctx, Path(path), v.profile, done=done, name="Open ADT file")


def _load(ctx: AppContext, path: Path, profile: Profile
          ) -> tuple[ValidationReport, list[tuple[str, ...]], bytes]:
    """Background: the findings of a file, its rows as the table's model holds them (not the
    report's row objects besides) and those rows as the table renders them for Sign."""
    report = adt_service.validate_file(ctx, path, "adt-file", profile, keep_rows=True)
    rows = [r.values for r in report.rows]
    report.rows = []
    return report, rows, render_csv(profile, rows)
