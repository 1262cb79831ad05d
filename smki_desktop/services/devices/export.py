"""Writing what the user sees to files: the device rows of a view as CSV (the Devices page's
Export, `smki devices rows --export`), audited; and a validation's reject report as CSV
(`smki devices validate --report`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smki_desktop.core import device_batch as batch
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.spreadsheet import safe_cell
from smki_desktop.services.context import AppContext
from smki_desktop.services.devices.overview import CsrRow, csr_rows
from smki_desktop.store.atomic import write_atomic, write_recorded

COLUMNS = ("Device EUI", "Usage", "Status", "Detail", "Source", "Entry")
"""The columns of a device-row view (the Devices page's table, and its CSV export)."""

ViewRow = tuple[str, str, str, str, str, str]


def view_row(r: CsrRow) -> ViewRow:
    """A stored Device CSR as a row of the view: its batch is its source, its file its entry."""
    return (r.device_eui, r.usage, r.status, r.detail, r.batch_id, r.file_name)


def rows_csv(rows: Sequence[Sequence[str]]) -> bytes:
    """The view's rows as CSV (UTF-8, a header line); no cell is read as a formula."""
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows([safe_cell(v) for v in r] for r in rows)  # no formula from a file name
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class ExportResult:
    path: Path
    rows: int
    replaced: bool
    audit: AuditEntry

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "rows": self.rows, "replaced": self.replaced}


def export_rows(ctx: AppContext, path: Path, rows: Sequence[Sequence[str]] | None = None, *,
                batch_id: str | None = None, overwrite: bool = False) -> ExportResult:
    """Write device rows as CSV and audit it: the rows given (a view as filtered and sorted
    by the user), else every stored Device CSR (of `batch_id` if given). An existing file is
    replaced only with `overwrite` (the GUI's save dialog has asked); written atomically."""
    path = Path(path)
    if rows is None:
        rows = [view_row(r) for r in csr_rows(ctx, batch_id)]
    data = rows_csv(rows)
    replaced = path.exists()
    # recorded before the file is put in place (store/atomic.write_recorded)
    out, entry = write_recorded(path, data, lambda p: ctx.audit.record(
        "devices.export", {"path": str(p), "rows": len(rows), "replaced": replaced},
        {"csv": data}), overwrite=overwrite)
    return ExportResult(out, len(rows), replaced, entry)


def write_reject_report(path: Path, rejected: Sequence[batch.Rejection], *,
                        overwrite: bool = False) -> Path:
    """A validation's rejections as the CSV reject report (written atomically)."""
    return write_atomic(Path(path), batch.reject_report_csv(rejected),
                        overwrite=overwrite)
