"""The main window: environment banner (cannot be hidden), navigation sidebar, pages, status
bar, and the environment switch (with confirmation, reopening on the other environment's data).

The window opens in two steps, as the environment is known before any of its data is read: the
shell (title, environment banner and colours, menus, sidebar, the first page's frame saying the
environment is opening) is shown at once; the environment's context (its database or team
store, the key store and its sweep of half-stored keys) is opened on the job runner, with what
the Dashboard shows first read in the same job, and the pages are built when it is open. A team
store that takes its connect timeout to answer holds nothing but the page. Until then what
needs the context waits (a page picked in the sidebar is built when the context is open) or is
disabled (the environment switch, the welcome); a failure to open is said in the page's place
and in an error box, with a way to try again.
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import StoreUnreachable
from smki_desktop.gui import style, texts
from smki_desktop.gui.env_memory import remember_environment
from smki_desktop.gui.jobs import JobRunner
from smki_desktop.gui.keyboard import keep_tab_leaving_tables
from smki_desktop.gui.opening import Opened, OpeningPage, open_environment_job, simulator_pid
from smki_desktop.gui.page_frame import Banner, ErrorPage, PageEntry, PageFrame, WaitingPage
from smki_desktop.gui.page_op import BackgroundRead, PageOp
from smki_desktop.gui.passphrases import GuiPassphrases
from smki_desktop.gui.qt import (
    QAction,
    QApplication,
    QGuiApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QShortcut,
    QStackedWidget,
    QTimer,
    QVBoxLayout,
    QWidget,
    isValid,
    set_enum_property,
)
from smki_desktop.gui.services import CHANGES, GuiServices
from smki_desktop.gui.standing_refresh import StandingOnActivate
from smki_desktop.gui.status_line import StatusLine
from smki_desktop.gui.store_banner import PROBE_NAME, StoreBanner
from smki_desktop.gui.tables import UiState
from smki_desktop.gui.tones import text_style

if TYPE_CHECKING:
    # the environment's context and the services it brings (its store, key store, team link)
    # are imported by the job that opens it, not by the window's shell: see the docstring
    from smki_desktop.core.party import OfficerProfile
    from smki_desktop.services.context import AppContext

BACKGROUND_START_MS = 50  # background work that loads heavy modules waits for the first paint
STATUS_NAME = "Status bar"  # the status line's read: not shown as work, no refresh after it
STANDING_TIP = ("The officer register does not back this role: what it allows is refused "
                "until the entry is active. Ask an SRO (Officers page).")
STANDING_NAME = "Officer standing"  # the register's say on the officer, for the status line
WELCOME_NAME = "Welcome check"  # is the welcome due: not shown as work
QUIET_JOBS = frozenset({PROBE_NAME, STATUS_NAME, STANDING_NAME, WELCOME_NAME})


def waiting_requests(ctx: AppContext) -> int:
    """How many revocation requests wait for an approval (a job: no Qt here)."""
    return int(importlib.import_module("smki_desktop.services.revocation_state")
               .waiting_count(ctx))


def discover_pages() -> list[PageEntry]:
    """Every page module, in sidebar order, without importing the registered ones."""
    import smki_desktop.gui.pages as pkg

    entries: list[PageEntry] = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name in pkg.REGISTRY:
            title, order = pkg.REGISTRY[info.name]
            entries.append(PageEntry(info.name, title, order))
            continue
        entry = PageEntry(info.name, info.name, 999)
        cls = entry.page_class()
        if cls is not None:
            entry.title, entry.order = str(cls.title), int(getattr(cls, "order", 500))
        elif entry.error:
            entry.title = f"{info.name} (failed)"
        else:
            continue
        entries.append(entry)
    entries.sort(key=lambda e: (e.order, e.module))
    return entries


def officer_standing_job(ctx: AppContext) -> tuple[OfficerProfile | None, str]:
    """The profile and the status bar's words for it from the officer register's standing
    (`services.standing`, the Dashboard's words; a job: no Qt, the register's modules are
    imported here, off the GUI thread)."""
    standing = importlib.import_module("smki_desktop.services.standing")
    return standing.status_bar_words(ctx)  # type: ignore[no-any-return]


def officer_text(officer: OfficerProfile | None) -> str:
    """Who the status bar says is working here until the officer register's standing for this
    profile is read: the profile alone grants no role (identity comes from the register, issue
    11), so neither its role nor its register entry is shown as held."""
    if officer is None:
        return "no officer profile"
    return f"{officer.name} (reading the officer register…)"


def page_keys(row: int) -> str:
    """The sidebar entry's tooltip: the keys that reach its page."""
    return (f"Ctrl+{row + 1}; " if row < 9 else "") + "Ctrl+PgDn / Ctrl+PgUp: next / previous page"


class MainWindow(QMainWindow):
    def __init__(self, data_root: Path, env: Environment, *, first_run: bool = True,
                 start_page: str | None = None) -> None:
        super().__init__()
        self.data_root = data_root
        self.jobs = JobRunner()
        self.passphrases = GuiPassphrases(self)  # token PINs asked from jobs, shown here
        self.ctx: AppContext | None = None
        self.services: GuiServices
        self.pages: list[QWidget] = []
        self.store_banner: StoreBanner | None = None  # once the context is open
        self.open_error = ""  # why the environment could not be opened ("" while it opens)
        self._closing = False
        self._first_run = first_run
        self._after_open: list[Any] = []
        self._opening_pages: list[OpeningPage] = []
        # the register's standing for a profile, in the status bar's words (once read)
        self._standing: tuple[OfficerProfile | None, str] | None = None
        self.resize(1180, 760)
        self.setStyleSheet(style.STYLE_SHEET)  # one look for every page and dialog in it
        screen = QGuiApplication.primaryScreen()
        if screen is not None:  # never larger than the screen (a 1024x700 laptop)
            area = screen.availableGeometry()
            self.resize(min(1180, area.width()), min(760, area.height()))
        self._sim_pid_at_open: int | None = None
        self._shown_row = -1  # the page row on screen: a status message belongs to it
        self.status_line = StatusLine(self)
        self.setStatusBar(self.status_line)
        self._build_menu()
        self.job_label = QLabel("")
        self.statusBar().addPermanentWidget(self.job_label)
        self.jobs.busy_changed.connect(self._on_busy)
        # the register may have changed while the window was in the background (the CLI,
        # another workstation): coming back reads the standing again, throttled
        self.standing_on_activate = StandingOnActivate(self, self.refresh_standing)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            keep_tab_leaving_tables(app)
        self.open_environment(env, at_start=True)
        if start_page:  # shown opening, built when the context is open
            rows = [r for r, e in enumerate(self.entries) if e.title == start_page]
            if rows:
                self.sidebar.setCurrentRow(rows[0])
            else:
                self.say(f"No page called {start_page!r}.", 10000)

    # -- environment ------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        """The environment's context is open and the pages can be built."""
        return self.ctx is not None

    def open_environment(self, env: Environment, then: Any = None, *,
                         at_start: bool = False) -> None:
        """Close the environment open (if any), show the shell of `env` at once and open its
        context on the job runner; `then()` runs once it is open. At start the opening job is
        submitted once the event loop runs (the window is shown by then): a job submitted
        while the window is being built competes with it for the interpreter."""
        if self.ctx is not None:
            self.save_ui_state()
            self.passphrases.cancel_all()
            self.jobs.wait(30000)
            self.stop_own_simulator()
            self.ctx.close()
            self.ctx = None
        self.status_line.clearMessage()  # it said something about the other environment
        self.env = env
        self.ui_state = UiState(self.data_root / env.value)  # EnvPaths.for_env's env_dir
        self.ui_state.restore_window(self)
        self.setWindowTitle(texts.window_title(env))
        self.officer_label.setText(f"{env.label} · opening…")
        self._after_open = [then] if then is not None else []
        self._build_central()
        self.switch_action.setText(
            f"Switch to the {self._other(env).label} environment…")
        self._opening_state()
        if at_start:
            QTimer.singleShot(0, self, self._start_open)
        else:
            self._start_open()

    def _opening_state(self) -> None:
        """What needs the context is disabled until it is open; the pages say it opens."""
        self.open_error = ""
        for action in (self.switch_action, self.welcome_action):
            action.setEnabled(False)  # they need the context: back when it is open
        for page in self._opening_pages:
            if isValid(page):
                page.opening()

    def _start_open(self) -> None:
        if self._closing:
            return
        self._opening_state()
        row = self.sidebar.currentRow()
        dashboard = 0 <= row < len(self.entries) and self.entries[row].module == "dashboard"
        self.jobs.submit(open_environment_job, self.env, self.data_root, self.passphrases,
                         self._first_run, dashboard, on_done=self._opened,
                         on_error=self._open_failed, name=f"Open the {self.env.label} environment")

    def _opened(self, opened: Opened) -> None:
        ctx = opened.ctx
        if self._closing or self.ctx is not None or ctx.env is not self.env:
            ctx.close()  # the window closed (or moved on) while it opened
            return
        self.ctx = ctx
        self._sim_pid_at_open = opened.simulator_pid
        remember_environment(self.data_root, self.env)
        self.services = GuiServices(ctx, self.jobs, self)
        self._attach_context()
        for action in (self.switch_action, self.welcome_action):
            action.setEnabled(True)
        row = max(self.sidebar.currentRow(), 0)
        self._show_page(row)
        prefill = getattr(self.pages[row], "prefill", None)
        if opened.dashboard is not None and callable(prefill):
            prefill(opened.dashboard)
        self._opening_pages = []
        after, self._after_open = self._after_open, []
        for then in after:
            then()
        # the welcome is asked at each environment's opening (a first switch to Live offers
        # Live's own set-up); the opening job notes it shown, so each shows it once
        if opened.welcome_due:
            QTimer.singleShot(0, self._maybe_first_run)

    def _open_failed(self, exc: BaseException) -> None:
        if self._closing:
            return
        self.open_error = texts.error_text(exc)
        for page in self._opening_pages:
            if isValid(page):
                page.failed(self.open_error)
        self.officer_label.setText(f"{self.env.label} · not opened")
        self.switch_action.setEnabled(True)  # the other environment may still be opened
        self.show_error(f"Could not open the {self.env.label} environment", exc)

    def store_lost(self) -> bool:
        """The banner says the team store cannot be reached: pages keep what they show and
        nothing asks the store on the GUI thread until it answers the banner's probe again."""
        return self.store_banner is not None and bool(self.store_banner.unreachable)

    def refresh_status(self) -> None:
        """The status bar's environment, officer and role, read afresh on the job runner
        (asked when a page is shown and whenever a job ends, so a profile change shows at
        once); one read at a time, and one more if asked again meanwhile."""
        if self.ctx is None or self.store_lost():
            return  # what it showed stays
        self.status_read.run()

    def refresh_standing(self) -> None:
        """The officer register's standing of the profile's officer, read afresh on the job
        runner (as the Dashboard reads it): when the context opens, a page is shown, the
        register or the profile changes, the team store answers again, or the window is
        activated (`standing_refresh`, throttled; never once the window closes)."""
        if self.ctx is None or self._closing or self.store_lost():
            return
        self.standing_read.run()

    def _show_status(self, officer: OfficerProfile | None) -> None:
        """The profile read: its standing if the register was read for this very profile,
        else "reading the officer register" until that read (asked here) answers."""
        standing = self._standing
        if officer is not None and standing is not None and standing[0] == officer:
            text = standing[1]
        else:
            text = officer_text(officer)
            if officer is not None:
                self.refresh_standing()
        self.officer_label.setText(f"{self.env.label} · {text}")

    def _show_standing(self, standing: tuple[OfficerProfile | None, str]) -> None:
        self._standing = standing  # the newest read of both the profile and the register
        self.officer_label.setText(f"{self.env.label} · {standing[1]}")
        # a role the register does not back is marked, not grey like the working state
        unbacked = standing[0] is not None and (
            "grants nothing" in standing[1] or "(claimed " in standing[1])
        self.officer_label.setStyleSheet(text_style("warn", bold=True) if unbacked else "")
        self.officer_label.setToolTip(STANDING_TIP if unbacked else "")

    def _standing_failed(self, _text: str, _exc: BaseException) -> None:
        """A register that cannot be read is said, not guessed (a lost team store: the banner)."""
        self._standing = None
        if not self.store_lost():
            self.officer_label.setText(
                f"{self.env.label} · the officer register could not be read")

    # -- the embedded simulator --------------------------------------------------------------
    def _simulator_pid(self) -> int | None:
        return None if self.ctx is None else simulator_pid(self.ctx)

    def stop_own_simulator(self) -> bool:
        """Stop the Test simulator if it was started while this window had the environment
        open (one already running before, e.g. from the command line, is left alone)."""
        pid = self._simulator_pid()
        if pid is None or pid == self._sim_pid_at_open or self.ctx is None:
            return False
        from smki_desktop.services import simulator_control

        try:
            return bool(simulator_control.stop(self.ctx, timeout=5.0))
        except Exception:
            return False

    @staticmethod
    def _other(env: Environment) -> Environment:
        return Environment.LIVE if env is Environment.TEST else Environment.TEST

    def request_switch(self) -> bool:
        from smki_desktop.gui.qt import QMessageBox  # its type is made when first needed

        target = self._other(self.env)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Switch environment")
        unsaved = self.unsaved_pages()  # the pages reopen on the other environment's data
        box.setText(texts.switch_question(self.env, target, unsaved))
        yes = box.addButton(f"Discard edits and &switch to {target.label}" if unsaved
                            else f"&Switch to {target.label}", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is not yes:
            return False
        self.open_environment(target, then=lambda: self._record_switch(target))
        return True

    def _record_switch(self, target: Environment) -> None:
        """The switch is audited in the environment switched to, once its context is open."""
        assert self.ctx is not None
        # imported here: it brings the audit chain's types (~10 ms), which start-up does not need
        from smki_desktop.services import environment_switch

        PageOp(self, self.services, environment_switch.record_switch, self.ctx,
               self._other(target), name="Record the switch") \
            .error_title("Audit record failed").changes("audit").run()

    # -- layout -----------------------------------------------------------------------------
    def _build_menu(self) -> None:
        m = self.menuBar().addMenu("&File")
        self.switch_action = QAction("Switch environment…", self)
        # setShortcuts (plural, here and below): PySide's setShortcut would build its whole
        # `Qt` namespace (~90 enums, ~15-30 ms) at start to weigh its overloads
        self.switch_action.setShortcuts([QKeySequence("Ctrl+Shift+E")])
        self.switch_action.triggered.connect(self.request_switch)
        m.addAction(self.switch_action)
        m.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcuts(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        m.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        self.help_action = QAction("Help for this &page", self)
        self.help_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.HelpContents)])
        set_enum_property(self.help_action, "shortcutContext", "ApplicationShortcut")
        self.help_action.triggered.connect(self.show_page_help)
        help_menu.addAction(self.help_action)
        self.welcome_action = QAction("Welcome and first steps…", self)
        self.welcome_action.setEnabled(False)  # until the environment is open
        self.welcome_action.triggered.connect(self.open_first_run)
        help_menu.addAction(self.welcome_action)
        # the status line's messages, whole: one cut with "…" is read here (gui/status_line.py)
        self.recent_action = QAction("Recent &messages…", self)
        self.recent_action.setShortcuts([QKeySequence("Ctrl+Shift+M")])
        self.recent_action.triggered.connect(self.status_line.open_recent)
        help_menu.addAction(self.recent_action)
        self.about_action = QAction("&About SMKI Desktop", self)
        self.about_action.triggered.connect(self.open_about)
        help_menu.addAction(self.about_action)
        for menu in (m, help_menu):  # standard icons, made when a menu is first opened
            menu.aboutToShow.connect(lambda menu=menu: style.add_action_icons(menu.actions()))
        self.officer_label = QLabel("")
        self.status_line.set_idle(self.officer_label)

    def _build_central(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.banner = Banner(self.env)
        outer.addWidget(self.banner)
        self._outer = outer  # the team store banner goes under it once the context is open
        self.store_banner = None
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(190)  # its look: the app's style sheet (gui/style.py)
        self.sidebar.setAccessibleName("Pages")
        self.stack = QStackedWidget()
        body.addWidget(self.sidebar)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        # Pages are built when first shown, once the context is open: until then the page
        # picked shows that the environment is opening.
        self.pages = []
        self._opening_pages = []
        self.entries = discover_pages()
        for i, entry in enumerate(self.entries):
            placeholder = QWidget()
            self.pages.append(placeholder)
            self.stack.addWidget(placeholder)
            item = QListWidgetItem(entry.title)
            # Ctrl+1..9 reach the first nine pages; every page, the tenth on too, is one
            # Ctrl+PgDn / Ctrl+PgUp from its neighbours (as tabs are in Qt and browsers)
            item.setToolTip(page_keys(i))
            self.sidebar.addItem(item)
        self.sidebar.currentRowChanged.connect(self._show_page)
        for i in range(min(9, len(self.pages))):
            sc = QShortcut(QKeySequence(f"Ctrl+{i + 1}"), central)
            sc.activated.connect(lambda row=i: self.sidebar.setCurrentRow(row))
        for keys, step in (("Ctrl+PgDown", 1), ("Ctrl+PgUp", -1)):
            sc = QShortcut(QKeySequence(keys), central)
            sc.activated.connect(lambda step=step: self.sidebar.setCurrentRow(
                (self.sidebar.currentRow() + step) % self.sidebar.count()))
        self.setCentralWidget(central)
        self._badges_due = False
        self._shown_row = -1
        self.sidebar.setCurrentRow(0)
        self.sidebar.setFocus()

    def _attach_context(self) -> None:
        """The parts of the window that read the context, made once it is open."""
        central = self.centralWidget()
        assert self.ctx is not None and central is not None
        # hidden unless the linked team store cannot be reached: one place for every page
        self.store_banner = StoreBanner(self.services, self._store_returned)
        self._outer.insertWidget(1, self.store_banner)
        # the status line's read belongs to this environment's central widget: a read still
        # running at a switch finds it deleted, and its answer is dropped
        self.status_read = BackgroundRead(central, self.services, self.ctx.officer,
                                          name=STATUS_NAME, show=self._show_status)
        self._standing = None  # the other environment's register said it
        self.standing_read = BackgroundRead(central, self.services, officer_standing_job,
                                            self.ctx, name=STANDING_NAME,
                                            show=self._show_standing,
                                            failed=self._standing_failed)
        # the badge count imports the revocation modules (X.509): on the job runner, and only
        # once the first page is up, so that a thread importing does not compete with it
        QTimer.singleShot(BACKGROUND_START_MS, central, self._start_badges)

    def _show_opening(self, row: int) -> None:
        """The page picked while the context opens: its frame, saying so (built when open)."""
        if not isinstance(self.stack.widget(row), PageFrame):
            page = OpeningPage(self.env, self._start_open)
            if self.open_error:
                page.failed(self.open_error)
            self._opening_pages.append(page)
            old = self.stack.widget(row)
            self.stack.insertWidget(row, PageFrame(self.entries[row], page))
            if old is not None:
                self.stack.removeWidget(old)
                old.deleteLater()
        self.stack.setCurrentIndex(row)

    def _start_badges(self) -> None:
        self._badges_due = True
        self.update_badges()

    def update_badges(self) -> None:
        """The Approvals entry shows how many requests wait for an approval (counted on the
        job runner: the revocation modules are not imported on the GUI thread at start-up)."""
        if self.ctx is None or not getattr(self, "_badges_due", False) or self.store_lost():
            return
        self.badge_job = PageOp(self, self.services, waiting_requests, self.ctx,
                                name="Approvals badge").background() \
            .success(self._show_badge).failure(lambda _text, _exc: None).run()

    def _show_badge(self, waiting: int) -> None:
        for row, entry in enumerate(self.entries):
            if entry.module == "approvals" and row < self.sidebar.count():
                item = self.sidebar.item(row)
                item.setText(f"{entry.title} ({waiting})" if waiting else entry.title)
                waits = f"{waiting} request(s) waiting for an SRO's approval; " if waiting else ""
                item.setToolTip(waits + page_keys(row))  # the page's keys stay said

    def _build_page(self, row: int) -> QWidget:
        entry = self.entries[row]
        page_cls = entry.page_class()
        if page_cls is None:
            widget: QWidget = ErrorPage(entry.module, entry.error)
        elif self.store_lost():
            widget = WaitingPage(entry.title)  # its constructor would ask the store
        else:
            try:
                widget = page_cls(self.services)
            except StoreUnreachable as exc:  # the store went as the page was built
                self.store_unreachable(exc.message)
                widget = WaitingPage(entry.title)
            except Exception:
                widget = ErrorPage(entry.module, traceback.format_exc())
            else:
                style.decorate(widget)  # standard icons on the page's main actions
        old = self.stack.widget(row)
        self.stack.insertWidget(row, PageFrame(entry, widget))
        self.ui_state.restore_page(entry.module, widget)
        if old is not None:
            self.stack.removeWidget(old)
            old.deleteLater()
        self.pages[row] = widget
        return widget

    def frame_at(self, row: int) -> PageFrame | None:
        w = self.stack.widget(row)
        return w if isinstance(w, PageFrame) else None

    def show_page_help(self) -> None:
        """F1: open (or close) the help panel of the page shown."""
        frame = self.frame_at(self.stack.currentIndex())
        if frame is not None:
            frame.toggle_help()

    def page_at(self, row: int) -> QWidget:
        """The page widget in this row, built if it was not yet (the context must be open)."""
        if self.ctx is None:
            raise RuntimeError(f"The {self.env.label} environment is not open yet.")
        if type(self.pages[row]) is QWidget:
            return self._build_page(row)
        return self.pages[row]

    def _show_page(self, row: int) -> None:
        if row < 0:
            return
        if row != self._shown_row:  # what the line said was about the page left
            self.status_line.clearMessage()
            self._shown_row = row
        if self.ctx is None:
            self._show_opening(row)
            return
        page = self.page_at(row)
        self.stack.setCurrentIndex(row)
        self.refresh_status()
        if self._standing is not None:  # read again, as the page shown reads its own (the
            self.refresh_standing()     # first read is asked by the profile's, above)
        frame = self.frame_at(row)
        if frame is not None:  # controls a page added since (a loaded section, a list)
            from smki_desktop.gui.accessibility import name_controls

            name_controls(frame)
        refresh = getattr(page, "refresh", None)
        if callable(refresh) and not self.store_lost():  # else what it showed stays
            try:
                refresh()
            except StoreUnreachable as exc:  # the banner says it; what is shown stays
                self.store_unreachable(exc.message)
            except Exception as exc:
                self.show_error("Could not refresh the page", exc)
        self.update_badges()

    def page(self, title: str) -> QWidget:
        for row, entry in enumerate(self.entries):
            if entry.title == title:
                return self.page_at(row)
        raise KeyError(title)

    def pages_changed(self, changes: frozenset[str], origin: QWidget | None) -> None:
        """An operation changed these kinds of thing (GuiServices.changed): refresh the page on
        screen if it shows one of them (its `shows`) and did not run the operation itself (the
        origin refreshes itself; an operation run from a dialog refreshes the page behind it).
        A page not on screen is refreshed when it is shown (`_show_page`), so no work is spent
        on it now. The status bar and the Approvals badge follow too. While the team store
        cannot be reached nothing is refreshed: what the pages show stays."""
        if self.store_lost():
            return
        for row, page in enumerate(self.pages):
            if page is origin or type(page) is QWidget or not isValid(page) \
                    or not page.isVisible():
                continue
            shows = frozenset(getattr(page, "shows", ()))
            refresh = getattr(page, "refresh", None)
            if changes & shows and callable(refresh):
                try:
                    refresh()
                except StoreUnreachable as exc:  # the banner says it; what is shown stays
                    self.store_unreachable(exc.message)
                except Exception as exc:
                    self.show_error(f"Could not refresh the {self.entries[row].title} page", exc)
        if changes & {"officers", "profile"}:
            self.refresh_status()
            self.refresh_standing()  # the register's say may have changed with the profile
        if changes & {"approvals", "requests"}:
            self.update_badges()

    def go_to(self, title: str) -> QWidget:
        for row, entry in enumerate(self.entries):
            if entry.title == title:
                self.sidebar.setCurrentRow(row)
                return self.page_at(row)
        raise KeyError(title)

    # -- feedback ---------------------------------------------------------------------------
    def say(self, text: str, msecs: int = 6000) -> None:
        """A message on the status line about the page shown: it goes when the officer moves
        to another page or environment (or after `msecs`); "Recent messages" keeps it."""
        row = self.sidebar.currentRow() if hasattr(self, "sidebar") else -1
        page = self.entries[row].title if 0 <= row < len(getattr(self, "entries", [])) else ""
        self.status_line.where = f"{self.env.label} · {page}" if page else self.env.label
        self.status_line.showMessage(text, msecs)

    def _on_busy(self, busy: bool, name: str) -> None:
        # the label names what still runs, not the job that just started or ended: a quiet
        # job (the store probe, the status read) ending last must still clear "Working: …"
        working = self.jobs.running_names(exclude=QUIET_JOBS)
        self.job_label.setText(f"Working: {working[-1]}…" if working else "")
        if not busy and name not in QUIET_JOBS:
            self.refresh_status()

    def _store_returned(self) -> None:
        """The team store answers again: the pages first opened while it could not be
        reached (or built with a part missing) are built now, the rest refreshed."""
        for row, page in enumerate(self.pages):
            if isinstance(page, WaitingPage) or getattr(page, "incomplete", False):
                self._build_page(row)
                if row == self.sidebar.currentRow():
                    self.stack.setCurrentIndex(row)
        self.refresh_status()
        self.refresh_standing()
        self.pages_changed(CHANGES, None)

    def store_unreachable(self, reason: str) -> None:
        if self.store_banner is not None:
            self.store_banner.lost(reason)
        self.say(reason, 15000)

    def show_error(self, title: str, exc: BaseException | str) -> None:
        from smki_desktop.gui.qt import QMessageBox

        message = texts.error_text(exc)
        if isinstance(exc, StoreUnreachable) and self.store_banner is not None:
            self.store_banner.lost(message)
        from smki_desktop.gui.widgets.outcome import failure_text

        self.say(failure_text(f"{title}: {message}"), 15000)  # shown as a failure on the line
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=self)
        box.setObjectName("errorBox")
        box.open()

    def open_about(self) -> None:
        from smki_desktop.gui.about import AboutDialog  # built when asked for, not at start

        dlg = AboutDialog(self.env, self.data_root, self)
        dlg.open()
        self.about_dialog = dlg

    def open_first_run(self) -> None:
        """Help > Welcome: opened once the profiles it shows are read (on the job runner)."""
        from smki_desktop.gui.first_run import read_profiles

        assert self.ctx is not None
        PageOp(self, self.services, read_profiles, self.ctx, name="Welcome") \
            .success(lambda profiles: self._open_welcome(profiles)).run()

    def _open_welcome(self, profiles: Any) -> None:
        from smki_desktop.gui.first_run import FirstRunDialog

        dlg = FirstRunDialog(self.services, self, profiles=profiles)
        dlg.finished.connect(lambda _r: self._show_page(self.sidebar.currentRow()))
        dlg.open()
        self.first_run_dialog = dlg

    def _maybe_first_run(self) -> None:
        """The welcome is due (the opening job found neither profile and noted it shown): both
        profiles are known to be unset, so nothing is read for it."""
        if isValid(self) and not self._closing:
            self._open_welcome((None, None))

    def unsaved_pages(self) -> list[str]:
        """Titles of built pages with edits not saved (a page says so with has_unsaved())."""
        out = []
        for row, entry in enumerate(getattr(self, "entries", [])):
            page = self.pages[row] if row < len(self.pages) else None
            check = getattr(page, "has_unsaved", None)
            if callable(check) and check():
                out.append(entry.title)
        return out

    def quit_held(self) -> str:
        """Why the window must not quit now, as a page says it (holds_quit()); "" if none."""
        for page in self.pages:
            check = getattr(page, "holds_quit", None)
            if callable(check) and (why := check()):
                return str(why)
        return ""

    def closeEvent(self, event: Any) -> None:
        if held := self.quit_held():
            from smki_desktop.gui.qt import QMessageBox

            box = QMessageBox(QMessageBox.Icon.Information, "Not now", held, parent=self)
            box.setObjectName("quitHeldBox")
            self.quit_box = box
            box.open()
            event.ignore()
            return
        unsaved = self.unsaved_pages()
        if unsaved and not getattr(self, "_discard_confirmed", False):
            from smki_desktop.gui.qt import QMessageBox

            box = QMessageBox(QMessageBox.Icon.Question, "Unsaved edits",
                              "Edits not saved on: " + ", ".join(unsaved) + ". Quit and "
                              "discard them?", parent=self)
            box.setObjectName("quitDiscardBox")
            keep = box.addButton("&Keep working", QMessageBox.ButtonRole.RejectRole)
            quit_ = box.addButton("&Discard and quit", QMessageBox.ButtonRole.DestructiveRole)
            box.setDefaultButton(keep)
            box.setEscapeButton(keep)
            self.quit_box = box

            def answered(_r: int) -> None:
                if box.clickedButton() is quit_:
                    self._discard_confirmed = True
                    self.close()

            box.finished.connect(answered)
            box.open()
            event.ignore()
            return
        self._closing = True  # a context that opens from now on is closed at once
        for job in list(self.jobs._running):
            job.cancel()
        self.passphrases.cancel_all()  # a job waiting for a PIN must not hold the close
        self.jobs.wait(10000)
        if self.ctx is not None:
            self.save_ui_state()
            self.stop_own_simulator()
            self.ctx.close()
        super().closeEvent(event)

    def save_ui_state(self) -> None:
        """Window size and every built page's column widths and sort, for this environment."""
        state = getattr(self, "ui_state", None)
        if state is None or self.ctx is None:  # nothing opened: nothing to keep
            return
        state.save_window(self)
        for row, entry in enumerate(getattr(self, "entries", [])):
            page = self.pages[row] if row < len(self.pages) else None
            if page is not None and type(page) is not QWidget and isValid(page):
                state.save_page(entry.module, page)
        state.sync()
