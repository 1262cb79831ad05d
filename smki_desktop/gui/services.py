"""What every page, dialog and controller gets from the window: the environment's context, the
job runner, and a narrow view of the window (status line, error box, change notification).

It lives here, not in `main_window`, so that pages depend downward only: nothing under
`gui/pages`, `gui/controllers`, `gui/widgets` or `gui/wizards` imports the window module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from smki_desktop.core.errors import StoreUnreachable
from smki_desktop.gui.jobs import JobRunner
from smki_desktop.gui.qt import QStatusBar, QWidget

if TYPE_CHECKING:  # the window's shell is shown before the context's modules are loaded
    from smki_desktop.services.context import AppContext

#: What a page operation can say it changed; a page lists those it shows in `Page.shows`, and
#: the window refreshes the built pages that show what an operation changed.
CHANGES = frozenset({
    "keys", "certificates", "requests", "approvals", "devices", "adt", "quarantine",
    "officers", "incidents", "forecast", "repository", "audit", "ceremony", "settings",
    "profile",
})


class Window(Protocol):
    """The part of the main window that pages may use."""

    def statusBar(self) -> QStatusBar: ...

    def say(self, text: str, msecs: int = 6000) -> None:
        """A message on the status line about the page shown (gone when the officer leaves
        it; "Recent messages" keeps it whole)."""
        ...

    def show_error(self, title: str, exc: BaseException | str) -> None: ...

    def refresh_status(self) -> None: ...

    def go_to(self, title: str) -> QWidget: ...

    def pages_changed(self, changes: frozenset[str], origin: QWidget | None) -> None: ...

    def store_unreachable(self, reason: str) -> None: ...


class GuiServices:
    """What every page gets: the environment's context, the job runner, and the window. (A
    plain class, not a dataclass: the window's start makes none, ~0.5 ms each to create.)"""

    def __init__(self, ctx: AppContext, jobs: JobRunner, window: Window) -> None:
        self.ctx = ctx
        self.jobs = jobs
        self.window = window

    def status(self, text: str, msecs: int = 6000) -> None:
        """Say `text` on the status line, for the page shown: it is cleared when the officer
        moves to another page; a long one is cut with "…", whole in its tooltip and in
        "Recent messages"."""
        self.window.say(text, msecs)

    def failed(self, text: str, msecs: int = 15000) -> None:
        """Say on the status line that something failed: "Failed: " first (unless the text
        already says so), so that the line shows it as a failure (warning icon, error tone)."""
        from smki_desktop.gui.widgets.outcome import failure_text

        self.window.say(failure_text(text), msecs)

    def error(self, title: str, exc: BaseException | str) -> None:
        self.window.show_error(title, exc)

    def unreachable(self, exc: StoreUnreachable) -> None:
        """The team store did not answer a read nobody asked for: the window's banner says so
        (no box; a change the officer asked for is refused in a box by `error`)."""
        self.window.store_unreachable(exc.message)

    def changed(self, changes: Iterable[str], origin: QWidget | None = None) -> None:
        """Say that an operation changed these kinds of thing (see CHANGES): the window
        refreshes every built page that shows one of them, except `origin` (the page that ran
        the operation refreshes itself, as it knows what to select afterwards)."""
        names = frozenset(changes)
        unknown = names - CHANGES
        if unknown:
            raise ValueError(f"unknown change kind(s): {', '.join(sorted(unknown))}")
        if names:
            self.window.pages_changed(names, origin)
