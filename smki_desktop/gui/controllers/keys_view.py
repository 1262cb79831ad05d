"""What the Keys page's action controllers see of the page (`KeysView`), and the one way they
run a key operation (`key_op`). Each user action has its own controller beside this module:

- `keys_generate.GenerateKey`: the Generate dialog, then the key made in the background;
- `keys_backup.BackUpKey`: a passphrase-protected or split (SLIP-39 shares) backup;
- `keys_retire.RetireKey`: archive or delete with a reason, after a summary;
- `keys_relabel.RelabelKey`: a new label;
- `keys_csr.MakeCsrWithKey`: an Organisation CSR made with a key already here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from smki_desktop.core.keys import KeyInfo
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QApplication,
    QDialog,
    QLabel,
    QPushButton,
    QTableWidget,
    QWidget,
)
from smki_desktop.gui.services import GuiServices


class KeysView(Protocol):
    """The Keys page as its controllers use it. The dialog a controller opens is kept on the
    page (`reason_dialog`, `backup_dialog`, `csr_dialog`) so that it stays alive while open."""

    services: GuiServices
    keys: list[KeyInfo]
    message: QLabel
    table: QTableWidget
    no_party: bool  # Live without a Party profile: no key or CSR can be made
    generate_button: QPushButton
    backup_button: QPushButton
    reason_dialog: QDialog | None
    backup_dialog: QDialog | None
    csr_dialog: QDialog | None

    def widget(self) -> QWidget:
        """The page itself, as the parent of the dialogs a controller opens."""
        ...

    def selected(self) -> KeyInfo | None: ...

    def refresh(self) -> None: ...

    def select_key(self, key_id: str) -> None: ...


def opener(view: KeysView) -> QWidget | None:
    """The page's control that has the keyboard focus as a dialog opens (the button pressed,
    the table): the focus goes back to it when the dialog closes."""
    had = QApplication.focusWidget()
    return had if had is not None and view.widget().isAncestorOf(had) else None


def key_op(view: KeysView, fn: Callable[..., object], *args: object, name: str) -> PageOp:
    """A key operation run for the page: it changes keys (the pages showing them refresh); a
    failure is said on the page's message line."""
    return PageOp(view.widget(), view.services, fn, *args, name=name).changes("keys") \
        .failure(lambda text, _exc: view.message.setText(text))


def said_then_refreshed(view: KeysView, say: Callable[[Any], str]) -> Callable[[Any], None]:
    """A success callback: the outcome on the message line, then the table read afresh."""
    def done(res: Any) -> None:
        view.message.setText(say(res))
        view.refresh()
    return done
