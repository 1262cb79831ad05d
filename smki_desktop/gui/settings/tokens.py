"""Settings > Tokens: the PKCS#11 tokens behind the module, each with its PIN state in words
(tokens report "count low", "final try" or "locked" rather than a number), the keys held on
the token in use; test the PIN, change it. PINs are asked in the PIN dialog from the job and
never shown or kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import select_on_focus
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.services import token_manager
from smki_desktop.services.csr import SETTING_PKCS11_MODULE

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

COLUMNS = ["Token", "Maker / model", "Serial", "PIN state", "Keys here"]


class Section(QWidget):
    title = "Tokens"
    order = 30

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.tokens: list[token_manager.TokenInfo] = []
        self.op: PageOp | None = None
        box = QVBoxLayout(self)
        form = QFormLayout()
        self.module = QLineEdit()
        self.module_read = BackgroundRead(
            self, services, self.ctx.setting, SETTING_PKCS11_MODULE, name="Token settings",
            show=lambda value: self.module.setText(self.module.text() or value or ""))
        self.module_read.run()
        self.module.setPlaceholderText("/usr/lib/softhsm/libsofthsm2.so")
        self.module.setAccessibleName("PKCS#11 module")
        form.addRow("PKCS#11 &module", self.module)
        box.addLayout(form)
        bar = QHBoxLayout()
        self.list_btn = QPushButton("&List tokens")
        self.login_btn = QPushButton("&Test the PIN…")
        self.pin_btn = QPushButton("&Change the PIN…")
        for b in (self.list_btn, self.login_btn, self.pin_btn):
            bar.addWidget(b)
        bar.addStretch(1)
        box.addLayout(bar)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("tokens")
        self.table.setAccessibleName("Tokens")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        wire_row_actions(self.table, lambda: [("Test the PIN…", self.test_login),
                                              ("Change the PIN…", self.ask_change_pin)],
                         self.test_login)
        box.addWidget(self.table, 1)
        self.message = QLabel("")
        self.message.setObjectName("tokenMessage")
        self.message.setWordWrap(True)
        box.addWidget(self.message)
        self.list_btn.clicked.connect(self.list_tokens)
        self.login_btn.clicked.connect(self.test_login)
        self.pin_btn.clicked.connect(self.ask_change_pin)
        self._sync()

    def _sync(self) -> None:
        busy = self.job is not None
        self.list_btn.setEnabled(not busy)
        chosen = self.selected() is not None
        self.login_btn.setEnabled(not busy and chosen)
        self.pin_btn.setEnabled(not busy and chosen)

    def selected(self) -> token_manager.TokenInfo | None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return self.tokens[rows[0]] if rows and rows[0] < len(self.tokens) else None

    @property
    def job(self) -> PageOp | None:
        """The token job running, if one is."""
        return self.op if self.op is not None and self.op.running else None

    def _run(self, fn: Any, *args: Any, done: Any, name: str) -> None:
        self.op = PageOp(self, self.services, fn, self.ctx, *args, name=name) \
            .busy(hook=lambda _busy: self._sync()).success(done) \
            .failure(lambda text, _exc: self.message.setText(text))
        self.op.run()

    def list_tokens(self) -> None:
        self.message.setText("Looking for tokens…")
        self._run(token_manager.list_tokens, self.module.text().strip() or None,
                  done=self._show, name="list tokens")

    def _show(self, tokens: list[token_manager.TokenInfo]) -> None:
        self.tokens = tokens
        self.table.setRowCount(len(tokens))
        for r, t in enumerate(tokens):
            cells = [t.label + (" (in use)" if t.in_use else ""),
                     f"{t.manufacturer} / {t.model}", t.serial, t.pin_state,
                     ", ".join(k.label for k in t.keys) or "—"]
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        if tokens:
            self.table.selectRow(0)
        self.message.setText(f"{len(tokens)} token(s) present." if tokens else
                             "No token present behind this module.")

    def test_login(self) -> None:
        t = self.selected()
        if t is None or self.job is not None:
            return
        self._run(token_manager.test_login, t.label, self.module.text().strip() or None,
                  done=lambda _e: self.message.setText(f"PIN accepted by {t.label!r}."),
                  name="test the token PIN")

    def ask_change_pin(self) -> None:
        t = self.selected()
        if t is None or self.job is not None:
            return
        ask_confirmation(
            self, lambda: self._run(token_manager.change_pin, t.label,
                                    self.module.text().strip() or None,
                                    done=lambda _e: self.message.setText(
                                        f"PIN of {t.label!r} changed."),
                                    name="change the token PIN"),
            title="Change the token PIN", env=self.ctx.env, action="&Change PIN",
            what="Change the user PIN of this token: you type the current PIN, then the new "
                 "one twice. Everyone who uses the token needs the new PIN.",
            facts=[("Token", t.label), ("PIN state", t.pin_state)])
