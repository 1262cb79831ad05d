"""ADT page, "Add row" / "Delete row" / "Save" / "Save as…": edits to the table and writing it
to a file through the service (which checks the rows as the CLI does)."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.errors import SmkiError
from smki_desktop.gui.controllers.adt_view import AdtView
from smki_desktop.gui.qt import QFileDialog
from smki_desktop.services import adt as adt_service

NOTHING_TO_SAVE = "Nothing to save: create a file from the template or open one first."


class EditTable:
    def __init__(self, view: AdtView) -> None:
        self.view = view

    def add_row(self) -> None:
        v = self.view
        v.table.insertRow(v.table.rowCount())
        v.dirty = True
        v.revalidate_soon()

    def delete_row(self) -> None:
        v = self.view
        rows = sorted({i.row() for i in v.table.selectedIndexes()}, reverse=True)
        for r in rows:
            v.table.removeRow(r)
        v.dirty = v.dirty or bool(rows)
        v.revalidate_soon()

    def save(self, path: Path | None = None, overwrite: bool = True) -> Path | None:
        """Write the table to `path` (or the file it came from; with neither, ask where)."""
        v = self.view
        if not v.has_document():
            v.services.status(NOTHING_TO_SAVE)
            return None
        target = Path(path) if path else v.path
        if target is None:
            self.choose_save_as()
            return v.path
        try:
            adt_service.save_edited(v.ctx, target, v.rows(), overwrite=overwrite)
        except SmkiError as exc:
            v.services.error("Save ADT file", exc)
            return None
        v.path = target
        v.dirty = False
        v.history.setText("")  # the history shown was of the bytes before
        v.validate_now()
        v.services.status(f"Saved {target}.")
        return target

    def choose_save_as(self) -> None:
        if not self.view.has_document():
            self.view.services.status(NOTHING_TO_SAVE)
            return
        name, _ = QFileDialog.getSaveFileName(self.view.widget(), "Save ADT file", "adt.csv",
                                              "CSV (*.csv)")
        if name:
            self.save(Path(name))
