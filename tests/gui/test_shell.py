"""The main window: banner and title per environment, sidebar pages, the environment switch,
the remembered environment, first-run set-up, key generation off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.environment import Environment
from smki_desktop.gui.app import remembered_environment
from smki_desktop.gui.main_window import ErrorPage, MainWindow
from smki_desktop.gui.qt import QApplication, QElapsedTimer, QMessageBox, QTimer


def test_banner_and_title_show_test(window: MainWindow) -> None:
    assert "TEST" in window.windowTitle()
    assert window.banner.isVisible() and "TEST ENVIRONMENT" in window.banner.text()
    assert "#F2A900" in window.banner.styleSheet()
    window.banner.setVisible(False)
    assert window.banner.isVisible(), "the banner cannot be hidden"


def test_every_page_loads(window: MainWindow) -> None:
    titles = [window.sidebar.item(i).text() for i in range(window.sidebar.count())]
    assert titles[0] == "Dashboard"
    for needed in ("Keys", "Audit log", "Settings"):
        assert needed in titles
    for row in range(window.sidebar.count()):
        window.sidebar.setCurrentRow(row)
        assert window.stack.currentIndex() == row
    failed = [t for t, p in zip(titles, window.pages, strict=True) if isinstance(p, ErrorPage)]
    assert not failed, f"pages failed to load: {failed}"


def test_page_registry_agrees_with_the_page_modules() -> None:
    import importlib
    import pkgutil

    import smki_desktop.gui.pages as pkg

    for info in pkgutil.iter_modules(pkg.__path__):
        mod = importlib.import_module(f"smki_desktop.gui.pages.{info.name}")
        if info.name in pkg.REGISTRY:
            assert pkg.REGISTRY[info.name] == (mod.Page.title, mod.Page.order), info.name
    for name in pkg.REGISTRY:
        assert importlib.util.find_spec(f"smki_desktop.gui.pages.{name}"), name


def _answer_next_box(accept: bool) -> None:
    def click() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        for b in box.buttons():
            role = box.buttonRole(b)
            if (accept and role == QMessageBox.ButtonRole.AcceptRole) or (
                    not accept and role == QMessageBox.ButtonRole.RejectRole):
                b.click()
                return
        raise AssertionError("button not found")

    QTimer.singleShot(50, click)


def test_switch_asks_and_reopens_on_live_data(window: MainWindow, data_root: Path, qtbot) -> None:
    from smki_desktop.core.keys import KeyUsage
    from smki_desktop.services.keys import generate_key

    generate_key(window.ctx, KeyUsage.SIGNING, "test key")
    _answer_next_box(accept=False)
    assert window.request_switch() is False
    assert window.env is Environment.TEST
    _answer_next_box(accept=True)
    assert window.request_switch() is True
    qtbot.waitUntil(lambda: window.jobs.running == 0)
    assert window.env is Environment.LIVE and "LIVE" in window.windowTitle()
    assert "#C62828" in window.banner.styleSheet()
    keys_page = window.go_to("Keys")
    assert keys_page.table.rowCount() == 0  # type: ignore[attr-defined]
    assert remembered_environment(data_root) is Environment.LIVE
    assert window.ctx is not None and window.ctx.paths.env_dir == data_root / "live"


def test_first_run_dialog_saves_profiles(qtbot, data_root: Path) -> None:
    from smki_desktop.gui.first_run import FirstRunDialog

    w = MainWindow(data_root, Environment.TEST, first_run=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), FirstRunDialog)
                    or any(isinstance(c, FirstRunDialog) and c.isVisible()
                           for c in w.findChildren(FirstRunDialog)))
    dlg = next(c for c in w.findChildren(FirstRunDialog) if c.isVisible())
    assert dlg.party_form is not None and dlg.officer_form is not None
    dlg.party_form.name.setText("Acme Energy")
    dlg.party_form.party_id.setText("ACME01")
    dlg.party_form.ranges.setPlainText("90B3D51F30010000..90B3D51F3001")
    dlg.officer_form.name.setText("Ann Smith")
    dlg.save()
    assert "range line 1" in dlg.party_form.error.text()
    # every rule broken shows at once, one line each (it showed the first only)
    dlg.party_form.party_id.setText("acme")
    dlg.party_form.signifier.setText("-x-")
    dlg.officer_form.name.setText("")
    dlg.officer_form.email.setText("ann@")
    dlg.save()
    shown = dlg.party_form.error.text().splitlines()
    assert [m.split(" ")[0] for m in shown] == ["Party", "Signifier", "EUI-64"], shown
    assert dlg.officer_form.error.text().splitlines() == [
        "Officer name: required.", "Email 'ann@' is not an email address."]
    dlg.party_form.party_id.setText("ACME01")
    dlg.party_form.signifier.setText("")
    dlg.officer_form.name.setText("Ann Smith")
    dlg.officer_form.email.setText("")
    dlg.party_form.ranges.setPlainText("90B3D51F30010000..90B3D51F3001FFFF")
    dlg.save()
    # in Test the welcome goes on to the walk to a first certificate; "Later" closes it
    qtbot.waitUntil(lambda: dlg.stack.currentWidget() is dlg.walk_page, timeout=10000)
    dlg.close_button.click()
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=10000)
    assert w.ctx is not None
    party, officer = w.ctx.party(), w.ctx.officer()
    assert party is not None and party.name == "Acme Energy"
    assert officer is not None and officer.actor == "Ann Smith (ARO)"
    actions = [e.action for e in w.ctx.audit.entries()]
    assert "party.set" in actions and "profile.set" in actions
    w.jobs.wait()


def test_key_generation_never_stalls_the_event_loop(window: MainWindow, qtbot) -> None:
    """A heartbeat timer measures the event loop while keys are generated and stored through
    the real OS keyring on the job runner."""
    from smki_desktop.core.keys import KeyUsage

    page = window.go_to("Keys")
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def beat() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)
    timer.start()
    before = page.table.rowCount()  # type: ignore[attr-defined]
    for usage in (KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT, KeyUsage.FILE_SIGNING):
        page.generate(usage, f"heartbeat {usage.value}")  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: window.jobs.running == 0, timeout=20000)
    qtbot.wait(50)
    timer.stop()
    assert page.table.rowCount() == before + 3  # type: ignore[attr-defined]
    assert len(gaps) > 5
    assert max(gaps) < 100, f"event loop stalled {max(gaps)} ms"


def test_audit_page_verifies(window: MainWindow, qtbot, backend: str) -> None:
    from smki_desktop.core.keys import KeyUsage
    from smki_desktop.services.keys import generate_key

    assert window.ctx is not None
    generate_key(window.ctx, KeyUsage.SIGNING, "a")
    page = window.go_to("Audit log")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its read
    # on a team store the workstation's first write registers its writer key, a record before it
    assert page.table.rowCount() == (2 if backend == "postgres" else 1)  # type: ignore[attr-defined]
    page.verify()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: "Intact" in page.result.text(), timeout=10000)  # type: ignore[attr-defined]


def test_dashboard_adds_the_readiness_checklist_after_showing(window: MainWindow, qtbot) -> None:
    dash = window.go_to("Dashboard")
    qtbot.waitUntil(lambda: dash.readiness is not None, timeout=10000)  # type: ignore[attr-defined]
    assert dash.readiness.isVisibleTo(dash)  # type: ignore[attr-defined]
    assert "Not set up yet" in dash.todo_box.title()  # type: ignore[attr-defined]


def test_dashboard_says_when_no_keyring_can_hold_keys(window: MainWindow, qtbot,
                                                      monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With no Secret Service reachable (a root shell or a ceremony laptop without a desktop
    session), the Dashboard lists it first, with how to start one, instead of letting every
    save fail later; with the keyring back, the item goes."""
    dash = window.go_to("Dashboard")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/smki-no-bus")
    dash.check_keyring()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: dash.keyring_problem is not None, timeout=15000)  # type: ignore[attr-defined]
    text = dash.todo_label.text()  # type: ignore[attr-defined]
    assert "No secure OS keyring is available" in text
    assert "gnome-keyring-daemon --unlock" in text
    monkeypatch.undo()
    dash.check_keyring()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: dash.keyring_problem is None, timeout=15000)  # type: ignore[attr-defined]
    assert "No secure OS keyring" not in dash.todo_label.text()  # type: ignore[attr-defined]


def test_a_first_switch_to_live_offers_live_its_own_welcome(qtbot, data_root: Path) -> None:
    """The Test welcome says the other environment has its own set-up: the first switch to
    Live offers it (before, only the window's first opening asked); each shows it once."""
    from smki_desktop.gui.first_run import FirstRunDialog

    def shown() -> list[FirstRunDialog]:
        return [c for c in w.findChildren(FirstRunDialog) if c.isVisible()]

    w = MainWindow(data_root, Environment.TEST, first_run=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: bool(shown()), timeout=10000)
    test_welcome = shown()[0]
    assert test_welcome.windowTitle().endswith("— Test")
    test_welcome.close_button.click()
    qtbot.waitUntil(lambda: not shown(), timeout=10000)
    _answer_next_box(accept=True)
    assert w.request_switch() is True
    qtbot.waitUntil(lambda: w.env is Environment.LIVE and bool(shown()), timeout=20000)
    live_welcome = shown()[0]
    assert live_welcome.windowTitle() == "Welcome to SMKI Desktop — Live"
    live_welcome.reject()
    qtbot.waitUntil(lambda: not shown(), timeout=10000)
    _answer_next_box(accept=True)
    assert w.request_switch() is True  # back to Test: its welcome was shown already
    qtbot.waitUntil(lambda: w.env is Environment.TEST and w.ready, timeout=20000)
    w.jobs.wait(20000)
    qtbot.wait(200)
    assert not shown()
    w.jobs.wait()


def test_switch_names_unsaved_edits_and_keeps_them_when_cancelled(
        window: MainWindow, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A fresh-eyes walk: Test → ADT → New from template → edits → Switch to Live threw the
    edits away without a word (quitting asked; switching did not)."""
    page = window.go_to("ADT")
    monkeypatch.setattr(page, "has_unsaved", lambda: True)
    seen: dict[str, str] = {}

    def read_and_cancel() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        seen["text"] = box.text()
        seen["buttons"] = " | ".join(b.text() for b in box.buttons())
        seen["default"] = box.defaultButton().text()
        box.defaultButton().click()

    QTimer.singleShot(50, read_and_cancel)
    assert window.request_switch() is False
    assert window.env is Environment.TEST
    assert "Edits not saved on: ADT" in seen["text"] and "discarded" in seen["text"]
    assert "Discard edits and &switch to Live" in seen["buttons"]
    assert "Cancel" in seen["default"]
