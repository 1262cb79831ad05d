"""Opening an environment for the main window: the job that opens its context off the GUI
thread (the store, the key store and its sweep of half-stored keys: a team store can take its
connect timeout), and the page shown in place of a page until it is open, or saying why it
could not be opened, with Try again (gui/main_window.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Cancelled
from smki_desktop.gui.qt import QLabel, QPushButton, QVBoxLayout, QWidget

if TYPE_CHECKING:
    # imported by the job, not by the window's shell: its modules load the store and key store
    from smki_desktop.core.ports import PassphraseProvider, ProgressSink
    from smki_desktop.services.context import AppContext
    from smki_desktop.services.dashboard import Facts


def simulator_pid(ctx: AppContext) -> int | None:
    """The Test simulator's process if one runs for this environment (no Qt here)."""
    if ctx.env is not Environment.TEST:
        return None
    from smki_desktop.services import simulator_control

    try:
        info = simulator_control.running(ctx)
    except Exception:
        return None
    return info.pid if info else None


class Opened(NamedTuple):
    """What the job that opens an environment hands the window. (A named tuple, not a
    dataclass: the window's start makes none, ~0.5 ms each to create.)"""

    ctx: AppContext
    simulator_pid: int | None  # the simulator already running (the window stops only its own)
    welcome_due: bool  # the first-run welcome is to be shown (and is noted as shown)
    dashboard: Facts | None = None  # what the Dashboard shows first, when it is the page shown


def open_environment_job(env: Environment, data_root: Path, passphrases: PassphraseProvider,
                         welcome: bool, dashboard: bool = False,
                         progress: ProgressSink | None = None) -> Opened:
    """A job (no Qt): open the environment's context (its store, the key store and its sweep
    of half-stored keys); with `welcome`, whether the first-run welcome is due; with
    `dashboard`, what the Dashboard shows first (one trip to the job runner fewer before the
    first page is filled in; a failure to read it is left to the page's own read). Cancelled
    (the window closed meanwhile), the context is closed here: its answer may never be read."""
    from smki_desktop.services import welcome as welcome_service
    from smki_desktop.services.context import open_context

    ctx = open_context(env, data_root, passphrases=passphrases)
    try:
        if progress is not None and progress.cancelled:
            raise Cancelled(f"Opening the {env.label} environment: cancelled.")
        due = welcome and welcome_service.take_welcome(ctx)
        return Opened(ctx, simulator_pid(ctx), due, _dashboard(ctx) if dashboard else None)
    except BaseException:
        ctx.close()
        raise


def _dashboard(ctx: AppContext) -> Facts | None:
    from smki_desktop.services.dashboard import dashboard_facts

    try:
        return dashboard_facts(ctx)
    except Exception:  # the Dashboard's own read says it
        return None


class OpeningPage(QWidget):
    """In place of a page while the environment's context is being opened: says so, and if
    the opening failed, why (the store refused, the keyring locked, a folder of the other
    environment...) with a button to try again."""

    def __init__(self, env: Environment, retry: Callable[[], None]) -> None:
        super().__init__()
        self.setObjectName("openingEnvironment")
        lay = QVBoxLayout(self)
        self.label = QLabel(f"Opening the {env.label} environment: its data and key store…")
        self.label.setObjectName("openingText")
        self.label.setWordWrap(True)
        lay.addWidget(self.label)
        self.retry_button = QPushButton("Try again")
        self.retry_button.setAccessibleName(f"Try again to open the {env.label} environment")
        self.retry_button.clicked.connect(retry)
        self.retry_button.hide()
        lay.addWidget(self.retry_button)
        lay.addStretch(1)
        self.env = env

    def failed(self, message: str) -> None:
        self.label.setText(f"The {self.env.label} environment could not be opened: {message}")
        self.retry_button.show()

    def opening(self) -> None:
        self.label.setText(f"Opening the {self.env.label} environment: its data and key "
                           "store…")
        self.retry_button.hide()
