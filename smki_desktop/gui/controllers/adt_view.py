"""What the ADT page's action controllers see of the page (`AdtView`), and the one way they
run an ADT operation (`adt_op`). The page (`gui/pages/adt.py`) builds the widgets and holds
the open file's state; each user action lives in its own small controller beside this module:

- `adt_open.OpenFile`: new from the template, open a CSV (asking first about unsaved edits);
- `adt_edit.EditTable`: add and delete rows, save, save as;
- `adt_validate.ShowFindings`: validate the table and show each finding in place;
- `adt_sign.SignFile`: the summary (what it replaces), then sign with the file-signing key;
- `adt_verify.VerifySignature`: verify a signed file and name the signer;
- `adt_confirm.SroConfirm`: the summary, then the SRO's signed confirmation;
- `adt_deliver.DeliverPackage`: write the delivery package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import ValidationReport
from smki_desktop.core.errors import SmkiError
from smki_desktop.core.eui import EuiRange
from smki_desktop.gui.adt_table import AdtModel, AdtTable
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QWidget,
)
from smki_desktop.gui.services import GuiServices
from smki_desktop.gui.widgets.outcome import OutcomeLine
from smki_desktop.services.context import AppContext


class AdtView(Protocol):
    """The ADT page as its controllers use it."""

    services: GuiServices
    ctx: AppContext
    profile: Profile
    path: Path | None  # the file the table was opened from or saved to
    report: ValidationReport | None
    busy: bool
    loading: bool  # the table is being filled: its edits are not the officer's
    party_ranges: list[EuiRange] | None  # the Party's EUI ranges, read with the page
    dirty: bool  # the table has edits not saved to a file
    last_result: Any
    discard_box: QMessageBox | None
    model: AdtModel  # the rows and their findings
    table: AdtTable  # the view over `model`
    issues: QListWidget
    key_combo: QComboBox
    smsr_edit: QLineEdit
    decision_combo: QComboBox
    resubmitter_edit: QLineEdit
    summary: OutcomeLine
    validation: QLabel
    history: OutcomeLine

    def widget(self) -> QWidget:
        """The page itself, as the parent of the dialogs a controller opens."""
        ...

    def rows(self) -> list[list[str]]: ...

    def set_rows(self, rows: list[list[str]] | list[tuple[str, ...]],
                 report: ValidationReport | None = None, rendered: bytes | None = None
                 ) -> None: ...

    def current_bytes(self) -> bytes: ...

    def validate_now(self) -> ValidationReport: ...

    def revalidate_soon(self) -> None: ...

    def save(self, path: Path | None = None, overwrite: bool = True) -> Path | None: ...

    def show_history(self) -> list[dict[str, Any]]: ...

    def update_buttons(self) -> None: ...

    def has_document(self) -> bool: ...


def smsr(view: AdtView) -> str | None:
    """The Service Request reference typed, or None."""
    return view.smsr_edit.text().strip() or None


def adt_op(view: AdtView, fn: Callable[..., Any], *args: Any, done: Callable[[Any], None],
           name: str, **kwargs: Any) -> PageOp:
    """Run an ADT operation for the page: controls follow the page's rules while it runs, the
    outcome (or the failure) is said on the summary line and kept as `last_result`, and the
    file's history is read afresh; it changes "adt"."""
    view.summary.setText(f"{name}…")

    def ok(result: Any) -> None:
        view.last_result = result
        done(result)
        view.show_history()
        view.update_buttons()

    def failed(text: str, exc: BaseException) -> None:
        view.last_result = exc
        view.summary.failed(f"{name} failed: {text}")  # icon, tone: never like a success
        view.update_buttons()
        if not isinstance(exc, SmkiError):
            view.services.error(name, exc)

    def set_busy(busy: bool) -> None:
        # a focused button greyed here has the keyboard back at the end: PageOp keeps it
        view.busy = busy
        view.update_buttons()

    op = PageOp(view.widget(), view.services, fn, *args, name=name, **kwargs) \
        .busy(hook=set_busy).changes("adt").success(ok).failure(failed)
    op.run()
    return op
