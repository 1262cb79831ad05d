"""Start the desktop application: choose the environment, open its context, show the window.

The GUI remembers the environment last chosen in the GUI (Test on first run), in a small file
at the data root; `--env` on the command line overrides it.
"""

from __future__ import annotations

# The modules without Qt that the window's shell needs are imported here, before PySide is: once
# PySide is loaded, its `__feature__` import hook reads the source file of every module that runs
# an import statement (shibokensupport.feature._mod_uses_pyside, inspect.getsource), 0.1-0.2 ms
# each. The environment's context (store, key store, team link) and the Dashboard's services are
# not among them: the window opens the context on the job runner after it is shown. Nor are
# `dataclasses` and `html`: the shell makes no dataclass (~0.5 ms each to create) and shows no
# help text before it is asked for (tests/gui/test_startup_imports.py).
import argparse
import gc
import pkgutil  # noqa: F401
import sys
import time
import traceback  # noqa: F401
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from smki_desktop import __version__
from smki_desktop.core import errors  # noqa: F401
from smki_desktop.core.environment import Environment
from smki_desktop.gui.env_memory import remembered_environment
from smki_desktop.services.data_root import default_data_root

if TYPE_CHECKING:
    from smki_desktop.gui.main_window import MainWindow
    from smki_desktop.gui.qt import QApplication, QCoreApplication

DESKTOP_ID = "uk.org.smki.SmkiDesktop"  # packaging/uk.org.smki.SmkiDesktop.desktop


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="smki-desktop", description="SMKI Desktop")
    p.add_argument("--env", choices=["test", "live"], default=None,
                   help="open this environment (default: the one last chosen in the GUI)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--no-first-run", action="store_true",
                   help="do not open the first-run set-up dialog")
    p.add_argument("--page", default=None, help="open on this page (e.g. Keys)")
    p.add_argument("--quit-after-idle", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def no_display_problem() -> str | None:
    """On Linux/BSD a window needs an X11 or Wayland display: say so plainly instead of letting
    Qt abort."""
    import os

    if not sys.platform.startswith(("linux", "freebsd", "openbsd")):
        return None
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or \
            os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("smki-desktop: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). "
            "Start it from a desktop session, or use the command line `smki`; for a virtual "
            "screen run it under Xvfb (xvfb-run smki-desktop).")


def main(argv: Sequence[str] | None = None) -> int:
    # (multiprocessing.freeze_support, which spawned device-batch workers need in a bundle, is
    # called by the bundle's entry script: importing multiprocessing here cost every start.)
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = no_display_problem()
    if problem:
        sys.stderr.write(problem + "\n")
        return 2
    # Python's cyclic garbage collection is paused until the window is shown: PySide's import
    # and the shell allocate ~30,000 long-lived objects (modules, types, enums), which the
    # collector would otherwise walk some 40 times on the way (10-15 ms of a 2-core machine's
    # start) to find ~200 unreachable ones. Once shown, what the start made is frozen (left out
    # of every later collection, as it lives as long as the process) and collection resumes.
    collecting = gc.isenabled()
    gc.disable()
    try:
        app, window, made_app = _show_window(args)
    except BaseException:
        if collecting:
            gc.enable()
        raise
    if collecting:
        _collect_again(window, freeze=made_app)
    if args.quit_after_idle:
        from smki_desktop.gui.qt import QTimer

        # benchmark mode: as soon as the event loop is idle after showing the window, say when
        # (wall clock and CPU time, for bench/bench_startup.py) and quit
        QTimer.singleShot(0, lambda: _report_idle(app))
    code = int(app.exec())
    if args.quit_after_idle:  # quit without the window's Quit: close it as that does (the
        window.close()        # context still opening is waited for, then closed)
    return code


def _show_window(args: argparse.Namespace) -> tuple[QApplication, MainWindow, bool]:
    """The application and its main window, shown; whether the application was made here."""
    from smki_desktop.gui import style
    from smki_desktop.gui.qt import QApplication

    existing = QApplication.instance()
    app = existing or QApplication(style.qt_argv(sys.argv))
    assert isinstance(app, QApplication)
    style.apply(app, style_set=existing is None)
    app.setApplicationName("SMKI Desktop")
    app.setOrganizationName("smki-desktop")
    app.setApplicationVersion(__version__)
    QApplication.setDesktopFileName(DESKTOP_ID)  # the .desktop entry (Wayland finds the icon by it)
    QApplication.setWindowIcon(style.app_icon())
    root = Path(args.data_dir) if args.data_dir else default_data_root()
    env = Environment(args.env) if args.env else remembered_environment(root)

    from smki_desktop.gui.main_window import MainWindow

    window = MainWindow(root, env, first_run=not args.no_first_run, start_page=args.page)
    window.show()
    return app, window, existing is None


def _collect_again(window: MainWindow, *, freeze: bool) -> None:
    """Resume the cyclic garbage collection paused for the start (`main`). `freeze`: the
    process was started here, so what it holds now is its start's; an application made by
    someone else (a test) is left as it is. Were a job already running, the collection is
    handed to the job runner's collector, which collects on this thread while jobs run and
    gives the automatic collection back when they end (gui/jobs.py): never on a job's thread."""
    from smki_desktop.gui.jobs import gui_thread_collector

    if freeze:
        gc.freeze()
    if window.jobs.idle():
        gc.enable()
    else:
        gui_thread_collector().hold(window.jobs, paused=True)


def _report_idle(app: QCoreApplication) -> None:
    sys.stdout.write(f"idle-at {time.time():.6f} cpu {time.process_time():.6f}\n")
    sys.stdout.flush()
    app.quit()


if __name__ == "__main__":
    raise SystemExit(main())
