"""The team store banner: under the environment banner, on every page, while the linked team
store cannot be reached ("Team store unreachable — changes are refused until it returns").

Shown by the window in one place, not by each page. While a workstation is linked, the store is
asked every PROBE_MS on the job runner (one round trip, never on the GUI thread); a failure of
any operation with the store layer's `StoreUnreachable` shows it at once and asks again sooner.
When the store answers again the banner goes and the window refreshes what its pages show.
What is on screen stays there meanwhile: pages keep their rows when a refresh fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import QLabel, QTimer, QWidget

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

TEXT = "Team store unreachable — changes are refused until it returns"
PROBE_MS = 5000  # while reachable: how often the store is asked
RETRY_MS = 1000  # while unreachable: how soon it is asked again
PROBE_NAME = "Team store check"  # the window neither shows it as work nor refreshes after it


class StoreBanner(QLabel):
    """Hidden unless the linked team store cannot be reached; `on_return` is called when it
    answers again after being unreachable."""

    def __init__(self, services: GuiServices, on_return: Callable[[], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(TEXT, parent)
        self.setObjectName("storeBanner")
        self.setStyleSheet("background: #8a1c1c; color: white; font-weight: bold; "
                           "padding: 6px; qproperty-alignment: AlignCenter;")
        self.setAccessibleName(TEXT)
        self.setWordWrap(True)
        self.services = services
        self.on_return = on_return
        self.unreachable = False
        self.reason = ""
        self._op: PageOp | None = None
        self.hide()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.probe)
        if services.ctx.team is not None:
            self.timer.start(PROBE_MS)

    def probe(self) -> None:
        """Ask the store once (in the background); a probe still under way is not doubled."""
        if self._op is not None and self._op.running:
            return
        # imported when first asked (the team service loads the audit chain): the window's
        # shell imports this module before any environment is open
        from smki_desktop.services import team as team_svc

        self._op = PageOp(self, self.services, team_svc.store_reachable, self.services.ctx,
                          name=PROBE_NAME).background() \
            .success(self._answered).failure(lambda _text, _exc: None)
        self._op.run()

    def _answered(self, reason: str) -> None:
        if reason:
            self.lost(reason)
        elif self.unreachable:
            self.unreachable = False
            self.reason = ""
            self.hide()
            self.timer.start(PROBE_MS)
            self.services.status("The team store is reachable again: changes are accepted.")
            self.on_return()

    def lost(self, reason: str) -> None:
        """The store did not answer (a probe, or an operation that failed for it)."""
        self.reason = reason
        self.setToolTip(reason)
        if not self.unreachable:
            self.unreachable = True
            self.show()
            self.timer.start(RETRY_MS)
