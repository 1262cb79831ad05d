"""The status bar's officer standing is read again when the main window is activated: the
register changed while the window was in the background (here `smki officer suspend`, as the
CLI or another workstation does) shows without a page change. The read runs on the job runner,
and rapid activations do not pile up reads (one at once, the rest folded into one more)."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.party import OfficerProfile, OfficerRole
from smki_desktop.gui import standing_refresh
from smki_desktop.gui.qt import QApplication, QEvent
from smki_desktop.services.party import set_officer
from tests.gui.test_status_standing import _active_aro


def _activate(window) -> None:  # type: ignore[no-untyped-def]
    QApplication.sendEvent(window, QEvent(QEvent.Type.WindowActivate))


def _counted(window) -> list[str]:  # type: ignore[no-untyped-def]
    """The standing reads the job runner runs from now on (each a job's thread name)."""
    import threading

    runs: list[str] = []
    read = window.standing_read
    inner = read.fn

    def counting(*args):  # type: ignore[no-untyped-def]
        runs.append(threading.current_thread().name)
        return inner(*args)

    read.fn = counting
    return runs


def test_activating_the_window_reads_the_register_again(  # type: ignore[no-untyped-def]
        qtbot, window, cli_run, tmp_path: Path) -> None:
    sro, sro_key, aro = _active_aro(window, cli_run, tmp_path)
    set_officer(window.ctx, OfficerProfile("Ada Aro", OfficerRole.ARO, "ada@example.com", aro))
    window.services.changed({"profile"})
    label = window.officer_label
    qtbot.waitUntil(lambda: f"Ada Aro (ARO, register entry {aro})" in label.text(),
                    timeout=20000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert label.styleSheet() == ""

    # suspended through the CLI while the window was in the background; no page is shown
    r = cli_run("officer", "suspend", aro, "--reason", "investigation", "--as", sro,
                "--key", sro_key)
    assert r.code == 0, r.err
    runs = _counted(window)
    _activate(window)
    qtbot.waitUntil(lambda: "suspended" in label.text(), timeout=20000)
    assert f"register entry {aro} — suspended, the role grants nothing" in label.text()
    assert "#8A4B00" in label.styleSheet() and "Ask an SRO" in label.toolTip()
    assert runs and all(name != "MainThread" for name in runs)  # off the GUI thread


def test_rapid_activations_do_not_pile_up_reads(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    gate = window.standing_on_activate
    gate.min_interval_ms = 600
    qtbot.wait(700)  # past the interval of the activation at start
    runs = _counted(window)
    for _ in range(25):
        _activate(window)
    qtbot.waitUntil(lambda: len(runs) >= 1, timeout=20000)  # the first reads at once
    qtbot.wait(1500)  # past the interval: the other 24 folded into one more
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert len(runs) == 2, runs
    assert standing_refresh.MIN_INTERVAL_MS >= 1000  # the window's own interval


def test_no_read_once_the_window_closes(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    """A read folded from activations just before the window closes is not run on its closed
    context."""
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    gate = window.standing_on_activate
    gate.min_interval_ms = 300
    _activate(window)
    runs = _counted(window)
    _activate(window)  # folded: due when the interval ends
    window.close()
    qtbot.wait(600)
    assert runs == [] and window.jobs.idle()
