"""The nomination wizard's picker of the nominating SRO (an ARO's form): the active SROs of
the officer register, read on the job runner like every other read of the store — a team store
that does not answer would otherwise hold the window until its timeout. Until they come the
picker says "Loading…" and cannot be opened; a failed read is said in plain words under it,
with Try again; an answer that arrives after the wizard was closed, or after its pages were
built again for another form, is dropped (the read's PageOp belongs to the picker: a deleted
picker is never filled, and `stop()` marks a closed wizard's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from smki_desktop.core.errors import StoreUnreachable
from smki_desktop.core.officers import OfficerRole, OfficerStatus
from smki_desktop.gui.page_op import LOADING, PageOp
from smki_desktop.gui.qt import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget
from smki_desktop.gui.tones import text_style
from smki_desktop.services import officers as officer_service

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices
    from smki_desktop.services.context import AppContext

CHOOSE = "— choose the nominating SRO —"
NOT_READ = "— the SROs could not be read —"

#: (register ID, name, organisation) of one active SRO
Sro = tuple[str, str, str]


def active_sros(ctx: AppContext) -> list[Sro]:
    """The active SROs of this environment's register, in its order (run on the job runner)."""
    return [(o.officer_id, o.name, o.organisation)
            for o in officer_service.list_officers(ctx)
            if o.role is OfficerRole.SRO and o.status is OfficerStatus.ACTIVE]


class SroPicker(QComboBox):
    """The register IDs of the active SROs to choose from; `chosen(officer_id or "")` is
    called when the officer picks one (never while the list is filled in). `status_row()` is
    the line under it that says why the list is missing, with Try again."""

    def __init__(self, services: GuiServices, current: str,
                 chosen: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.current = current  # the answer already given (a resumed draft), kept meanwhile
        self.names: dict[str, str] = {}  # the listed SROs' names, by register ID
        self.op: PageOp | None = None
        self.stopped = False
        self.status = QLabel("")
        self.status.setObjectName("sroPickerStatus")
        self.status.setWordWrap(True)
        self.status.setStyleSheet(text_style("error"))
        self.retry = QPushButton("&Try again")
        self.retry.setObjectName("sroPickerRetry")
        self.retry.setAccessibleName("Read the active SROs again")
        self.retry.setAutoDefault(False)
        self.retry.clicked.connect(self.load)
        self._row: QWidget | None = None
        self._chosen = chosen
        self._placeholder(LOADING)
        self.currentIndexChanged.connect(self._picked)

    def status_row(self) -> QWidget:
        """The failure line and Try again (hidden while there is nothing to say)."""
        if self._row is None:
            self._row = QWidget()
            hl = QHBoxLayout(self._row)
            hl.setContentsMargins(0, 0, 0, 0)
            hl.addWidget(self.status, 1)
            hl.addWidget(self.retry)
            self._row.hide()
        return self._row

    def loading(self) -> bool:
        """The read is under way (tests wait on it)."""
        return self.op is not None and self.op.running

    def load(self) -> None:
        """Read the active SROs on the job runner; the picker says "Loading…" meanwhile."""
        if self.stopped or self.loading():
            return
        self._placeholder(LOADING)
        self._say("")
        self.setAccessibleDescription("Loading the active SROs…")
        self.op = PageOp(self, self.services, active_sros, self.services.ctx,
                         name="Read the active SROs").background() \
            .success(self._loaded).failure(self._failed)
        self.op.run()

    def stop(self) -> None:
        """The wizard is closed: an answer still to come is not shown."""
        self.stopped = True

    def _picked(self, _index: int) -> None:
        self.current = str(self.currentData() or "")
        self._chosen(self.current)

    # -- the answer (GUI thread) ---------------------------------------------------------------
    def _loaded(self, sros: list[Sro]) -> None:
        if self.stopped:
            return
        self.names = {officer_id: name for officer_id, name, _org in sros}
        self.blockSignals(True)  # filling in is not a choice: the answer stays as it was
        try:
            self.clear()
            self.addItem(CHOOSE, "")
            for officer_id, name, organisation in sros:
                self.addItem(f"{officer_id} — {name} ({organisation})", officer_id)
            idx = self.findData(self.current)
            if idx < 0 and self.current:
                self.addItem(f"{self.current} (not an active SRO here)", self.current)
                idx = self.count() - 1
            self.setCurrentIndex(max(idx, 0))
        finally:
            self.blockSignals(False)
        self.setEnabled(True)
        self.setAccessibleDescription("" if sros else "No active SRO in the register here.")

    def _failed(self, text: str, exc: BaseException) -> None:
        if self.stopped:
            return
        if isinstance(exc, StoreUnreachable):
            self.services.unreachable(exc)  # the window's banner says so too
        self._placeholder(NOT_READ)
        message = f"The active SROs could not be read from the officer register: {text}"
        self._say(message)
        self.setAccessibleDescription(message)

    def _placeholder(self, text: str) -> None:
        """One item saying why there is nothing to choose, holding the answer already given;
        the picker is disabled until the SROs are read."""
        self.blockSignals(True)
        try:
            self.clear()
            self.addItem(text, self.current)
        finally:
            self.blockSignals(False)
        self.setEnabled(False)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status_row().setVisible(bool(text))
