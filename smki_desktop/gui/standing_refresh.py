"""The status bar's officer standing read again when the main window is activated.

The officer register can change while the window is in the background: an SRO suspends the
officer with `smki officer suspend`, or from another workstation on the team store. The standing
the status bar shows (amber, with its tooltip, while the register does not back the role) was
read when the environment opened, a page was shown or this window changed the register; coming
back to the window now reads it again too.

The read is the window's own (`MainWindow.refresh_standing`: a `BackgroundRead` on the job
runner, so nothing is read on the GUI thread, and one read at a time). Activations are
throttled: the first reads at once, those within `MIN_INTERVAL_MS` of the last read are folded
into one more read when that interval ends, so that flicking between windows cannot pile up
reads while the last activation still sees the register as it is after it.
"""

from __future__ import annotations

from collections.abc import Callable

from smki_desktop.gui.qt import QElapsedTimer, QEvent, QObject, QTimer, QWidget

MIN_INTERVAL_MS = 3000  # at most one register read per this interval from activations


class StandingOnActivate(QObject):
    """Calls `read` (the window's standing read) when `window` is activated, throttled."""

    def __init__(self, window: QWidget, read: Callable[[], None], *,
                 min_interval_ms: int = MIN_INTERVAL_MS) -> None:
        super().__init__(window)
        self.read = read
        self.min_interval_ms = min_interval_ms
        self.reads = 0  # how many reads activations asked for (tests, diagnostics)
        self._since = QElapsedTimer()  # since the last read asked (invalid before the first)
        self._due = QTimer(self)  # the read folded from activations within the interval
        self._due.setSingleShot(True)
        self._due.timeout.connect(self._read)
        self._activate = QEvent.Type.WindowActivate
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == self._activate:
            self.activated()
        return False  # the window handles its activation as ever

    def activated(self) -> None:
        """Read now, or once when the interval since the last read ends (asked at most once)."""
        if self._due.isActive():
            return  # a read is already due: this activation is folded into it
        if self._since.isValid() and self._since.elapsed() < self.min_interval_ms:
            self._due.start(max(0, self.min_interval_ms - int(self._since.elapsed())))
            return
        self._read()

    def _read(self) -> None:
        self._since.start()
        self.reads += 1
        self.read()
