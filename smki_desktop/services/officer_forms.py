"""An officer's nomination form printed again from the register (with the verification
meeting record once there is one): rendered, written atomically and audited in one step. The
CLI's `smki officer pdf` and the GUI's Officers page ("Print the form") call this same entry
point, with the same output rule: an existing file is replaced only when the caller says so
(the CLI's `--overwrite`; the GUI's save dialog has asked the officer)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from smki_desktop.core.audit import AuditEntry
from smki_desktop.services import nomination
from smki_desktop.services.context import AppContext
from smki_desktop.services.officers import get_officer
from smki_desktop.store.atomic import check_output, write_recorded


@dataclass(frozen=True)
class FormWritten:
    officer_id: str
    path: Path
    audit: AuditEntry


def write_officer_form(ctx: AppContext, officer_ref: str, path: Path, *,
                       overwrite: bool = False) -> FormWritten:
    """Render the form of the officer `officer_ref` (id or unique prefix) to the PDF `path`,
    audited as `officer.pdf` with the PDF's hash. The output is checked before the (slow)
    rendering: an existing file without `overwrite`, a folder or an unwritable place is refused
    and nothing is made."""
    officer = get_officer(ctx, officer_ref)
    check_output(Path(path), overwrite=overwrite)
    data = nomination.render_existing(ctx, officer.officer_id)
    # recorded before the file is put in place (store/atomic.write_recorded)
    out, entry = write_recorded(Path(path), data, lambda p: ctx.audit.record(
        "officer.pdf", {"officer": officer.officer_id, "path": str(p)}, {"pdf": data}),
        overwrite=overwrite)
    return FormWritten(officer.officer_id, out, entry)
